"""Server-side sessions: the cookie carries only a random id, the rest stays here.

Kept in the web front's own small SQL table (SQLite under the data folder on the embedded
default, the ``web`` database of ``BUDDY_DATABASE_URL`` in production) rather than in
Redis: sessions then outlive a Redis restart or failover, a sign-out is one committed
delete (revocation that cannot be lost with an un-persisted write), and the web front
needs no bus connection at all. The table is created at start-up; it holds no case data,
only who is signed in, their access token for the services, the CSRF token and the times.

The id in the cookie is stored hashed (SHA-256): whoever reads the table cannot use its
rows as cookies. A session ends after ``session_idle_s`` without a request and
``session_max_s`` after sign-in, whichever comes first; signing in replaces the id
(no session fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.engine import Engine

from shared.clock import Clock

metadata = MetaData()
sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("csrf", String(64), nullable=False),
    Column("person", String(100), nullable=True),  # the sign-in provider's id of who signed in; None: anonymous
    Column("role", String(20), nullable=True),
    Column("token", Text, nullable=True),  # the access token the services are called with
    Column("created_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),
)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    id: str
    csrf: str
    person: str | None
    role: str | None
    token: str | None
    created_at: float
    seen_at: float

    @property
    def signed_in(self) -> bool:
        return self.person is not None and self.token is not None


class SessionStore:
    def __init__(self, engine: Engine, clock: Clock, *, idle_s: int, max_s: int) -> None:
        self.engine, self.clock, self.idle_s, self.max_s = engine, clock, idle_s, max_s

    def create_table(self) -> None:
        metadata.create_all(self.engine)

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def new(self, *, person: str | None = None, role: str | None = None, token: str | None = None) -> Session:
        now = self._now()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), person, role, token, now, now)
        with self.engine.begin() as conn:
            conn.execute(insert(sessions).values(id_hash=_hash(session.id), csrf=session.csrf, person=person,
                                                 role=role, token=token, created_at=now, seen_at=now))
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of this id (its idle clock restarted), or None when unknown or ended."""
        if not session_id or len(session_id) > 100:
            return None
        now, key = self._now(), _hash(session_id)
        with self.engine.begin() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id_hash == key)).mappings().first()
            if row is None:
                return None
            if now - row["seen_at"] > self.idle_s or now - row["created_at"] > self.max_s:
                conn.execute(delete(sessions).where(sessions.c.id_hash == key))
                return None
            conn.execute(update(sessions).where(sessions.c.id_hash == key).values(seen_at=now))
        values: dict[str, Any] = dict(row)
        return Session(session_id, values["csrf"], values["person"], values["role"], values["token"],
                       values["created_at"], now)

    def sign_in(self, old: Session | None, *, person: str, role: str, token: str) -> Session:
        """A new session (new id, new CSRF token) for who signed in; the old one is revoked."""
        if old is not None:
            self.revoke(old.id)
        self.sweep()
        return self.new(person=person, role=role, token=token)

    def revoke(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_hash == _hash(session_id)))

    def sweep(self) -> None:
        """Forget ended sessions (done at each sign-in: the table stays small without a timer)."""
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(
                (sessions.c.seen_at < now - self.idle_s) | (sessions.c.created_at < now - self.max_s)))
