"""The repository keeps aggregates between commands without ever deciding on state the log does not hold."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from shared.contracts.followup import Activity, ContactMode
from shared.domain import DomainError, Repository
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.eventstore.tables import events as event_log
from services.followup.domain import DuoLog

TODAY = date(2026, 11, 21)
ACTOR = Actor(id="dev-professional", role=Role.professional)


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'followup.db'}")
    migrate(engine)
    return EventStore(engine, "followup")


def contact(log: DuoLog, contact_id: str, days_ago: int = 1) -> list:
    return log.log_contact(contact_id=contact_id, project_id="p-1", duo_active=True,
                           started_on=TODAY - timedelta(days=60), contact_date=TODAY - timedelta(days=days_ago),
                           minutes=60, mode=ContactMode.phone, activities=[Activity.walk], logged_by="professional",
                           has_private_note=False, today=TODAY)


def log_contact(store: EventStore, repo: Repository[DuoLog], contact_id: str, *, fail_after: bool = False) -> DuoLog:
    with store.transaction() as conn:
        log = repo.get("d-1", conn)
        repo.save(log, [NewEvent(e) for e in contact(log, contact_id)], actor=ACTOR, conn=conn)
        if fail_after:
            raise RuntimeError("the command fails after recording")
    return log


def test_a_kept_aggregate_continues_from_the_log(store: EventStore) -> None:
    repo = Repository(store, DuoLog)
    for i in range(3):
        log_contact(store, repo, f"c-{i}")
    with store.transaction() as conn:
        kept = repo.get("d-1", conn)
    assert kept.version == 3 and set(kept.contacts) == {"c-0", "c-1", "c-2"}
    # another process (another repository) records a contact meanwhile: it is read before deciding
    log_contact(store, Repository(store, DuoLog), "c-3")
    with store.transaction() as conn:
        again = repo.get("d-1", conn)
        assert again is kept
        assert again.version == 4 and "c-3" in again.contacts
        with pytest.raises(DomainError, match="already logged"):
            contact(again, "c-3")


def test_a_rolled_back_command_leaves_nothing_kept(store: EventStore) -> None:
    repo = Repository(store, DuoLog)
    log_contact(store, repo, "c-0")
    with pytest.raises(RuntimeError):
        log_contact(store, repo, "c-1", fail_after=True)
    with store.transaction() as conn:
        log = repo.get("d-1", conn)
    assert log.version == 1 and set(log.contacts) == {"c-0"}
    log_contact(store, repo, "c-1")  # the version it expects is the one in the log
    assert Repository(store, DuoLog).get("d-1").version == 2


def test_state_the_log_lost_is_replayed_from_the_start(store: EventStore) -> None:
    repo = Repository(store, DuoLog)
    log_contact(store, repo, "c-0")
    log_contact(store, repo, "c-1")
    with store.engine.begin() as conn:  # as if the last commit had not reached the database
        conn.execute(delete(event_log).where(event_log.c.version == 2))
    with store.transaction() as conn:
        log = repo.get("d-1", conn)
    assert log.version == 1 and set(log.contacts) == {"c-0"}


def test_reads_without_a_transaction_get_their_own_copy(store: EventStore) -> None:
    repo = Repository(store, DuoLog)
    log_contact(store, repo, "c-0")
    read = repo.get("d-1")
    with store.transaction() as conn:
        kept = repo.get("d-1", conn)
    assert read is not kept and read.version == kept.version == 1


def test_at_most_keep_aggregates_are_kept(store: EventStore) -> None:
    repo = Repository(store, DuoLog, keep=2)
    for duo in ("d-1", "d-2", "d-3"):
        with store.transaction() as conn:
            repo.get(duo, conn)
    assert list(repo._kept) == ["d-2", "d-3"]


def test_an_aggregate_is_kept_only_once_its_commit_succeeded(store: EventStore) -> None:
    """A commit that fails (its outcome unknown to us) keeps nothing: the next command reads the log."""
    from sqlalchemy import event

    repo = Repository(store, DuoLog)
    log_contact(store, repo, "c-0")
    failing = {"on": True}

    def refuse(_conn) -> None:  # type: ignore[no-untyped-def]
        if failing["on"]:
            raise RuntimeError("the connection dropped during the commit")

    event.listen(store.engine, "commit", refuse)
    with pytest.raises(RuntimeError, match="during the commit"):
        log_contact(store, repo, "c-1")
    failing["on"] = False
    assert repo._kept == {}  # neither the state before nor the one it was about to commit
    with store.transaction() as conn:
        log = repo.get("d-1", conn)
    assert log.version == 1 and set(log.contacts) == {"c-0"}
    with store.engine.connect() as other:
        assert store.after_commit(other, lambda: None) is False  # not a store transaction: nothing kept
