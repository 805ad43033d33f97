from alembic import context
from sqlalchemy import text

from shared.eventstore.tables import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Two services starting at once must not run the same migration twice.
        connection.execute(text("SELECT pg_advisory_lock(7234001)"))
        connection.commit()
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_unlock(7234001)"))
        connection.commit()
