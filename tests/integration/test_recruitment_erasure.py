"""Erasure of a volunteer's personal data (crypto-shredding), end to end in the service.

After it the personal data cannot be read anywhere (API, notes, name search, blind index,
vault, database files), the public history still replays to the same journey, the read
models rebuild from it, and the hash chain still verifies. The key deletion and the
``VolunteerPersonalDataErased`` event commit together or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared.clock import FixedClock
from shared.eventstore.db import reader
from shared.eventstore.tables import vault_keys
from shared.settings import Settings
from services.recruitment.domain import Volunteer
from services.recruitment.projection import rebuild
from services.recruitment.read_models import name_index, volunteers
from tests.integration.test_recruitment_api import ANTWERPEN, AUDITOR, NO_FEEDS, RC, START, make_rc

PERSONAL = {"first_name": "Zebediah", "last_name": "Quackenbush", "email": "zebediah@example.org",
            "phone": "+32 470 12 34 56", "address": "Snorkelwaspstraat 9, 2000 Antwerpen",
            "birth_date": "1971-07-14", "notes": "Heeft een hond, Fluffernutter"}
NOTES = ("Intake: vertelde over Fluffernutter", "Screening: referenties bij Snorkelwasp vzw",
         "Warmhouden: belde over Quackenbush-feest")
SECRETS = ("Zebediah", "Quackenbush", "zebediah@example.org", "470 12 34", "Snorkelwasp", "1971-07-14", "Fluffernutter")


def found(text: str) -> list[str]:
    return [s for s in SECRETS if s.lower() in text.lower()]


def db_text(path: Path) -> str:
    """Every row of every table as text, and the raw bytes of the file and its WAL."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = []
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            rows += [f"{table}: {row!r}" for row in conn.execute(f'SELECT * FROM "{table}"')]
    finally:
        conn.close()
    raw = "".join(p.read_bytes().decode("latin-1") for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    return "\n".join(rows) + raw


@pytest.fixture
def rc(settings_factory: Callable[..., Settings]) -> Iterator[RC]:
    yield from make_rc(settings_factory(service_urls=NO_FEEDS), FixedClock(START))


def journey(rc: RC) -> tuple[str, str]:
    rc.project()
    vid = rc.enquire(first="Tijdelijk", last="Naam")
    rc.ok(rc.call("PUT", f"/volunteers/{vid}/personal", "dev-professional", PERSONAL))
    rc.step(vid, "intake", {"held_on": rc.today, "note": NOTES[0]})
    rc.step(vid, "screening", {"screened_on": rc.today, "outcome": "approved", "note": NOTES[1]})
    rc.step(vid, "training", {"session_on": rc.today, "kind": "individual_coaching", "hours": 2})
    rc.step(vid, "availability", {"target_groups": ["family"], "interests": ["animals"]})
    rc.step(vid, "keep-warm", {"contacted_on": rc.today, "kind": "call", "note": NOTES[2]})
    other = rc.enquire(first="Blijft", last="Leesbaar")
    return vid, other


def test_after_erasure_nothing_personal_can_be_read_and_history_still_verifies(rc: RC) -> None:
    vid, other = journey(rc)
    runtime = rc.runtime
    db = Path(str(runtime.engine.url.database))

    # before: the professional reads everything, and the files hold it only sealed
    view = rc.ok(rc.get(f"/volunteers/{vid}"))
    assert view["personal"] == PERSONAL
    history = rc.ok(rc.get(f"/volunteers/{vid}/history"))["items"]
    assert [e["note"] for e in history if "note" in e] == list(NOTES)
    assert [v["volunteer_id"] for v in rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers", name="quackenbush"))["items"]] == [vid]
    assert not found(db_text(db)), "personal data in plain text in the database"
    state_before = Volunteer.replay_dated(vid, [(rc.app.state.handlers._decode(s), s.envelope.occurred_at.date())
                                                for s in runtime.store.load(vid)]).snapshot()
    head_before = runtime.store.head()[0]

    erased = rc.ok(rc.post(f"/volunteers/{vid}/erasure"))
    assert erased == {"volunteer_id": vid, "status": "available", "version": 8, "personal_data_erased": True}

    # the API shows nothing personal any more
    view = rc.ok(rc.get(f"/volunteers/{vid}"))
    assert view["personal"] is None and view["personal_data_erased"] is True and view["status"] == "available"
    history = rc.ok(rc.get(f"/volunteers/{vid}/history"))["items"]
    assert [e["note"] for e in history if "note" in e] == [None, None, None]
    assert history[-1]["type"] == "VolunteerPersonalDataErased"
    listed = {v["volunteer_id"]: v for v in rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers"))["items"]}
    assert listed[vid]["name"] is None and listed[vid]["personal_data_erased"] is True
    assert listed[other]["name"] == "Blijft Leesbaar", "other people are untouched"
    for part in ("quackenbush", "zebediah", "Tijdelijk"):
        assert rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers", name=part))["items"] == []
    board = rc.ok(rc.get(f"/projects/{ANTWERPEN}/waiting-board"))
    # erased people leave the work: not on the waiting board at all (the list above says "gewist / erased")
    assert [p for s in board["stages"] for p in s["people"] if p["volunteer_id"] == vid] == []
    assert listed[vid]["name_label"] == {"nl": "gewist", "en": "erased"}
    assert not found(repr(rc.ok(rc.get("/events", AUDITOR))))

    # the vault and the blind index hold nothing of them; every sealed blob stays unreadable
    stored = runtime.store.load(vid)
    sealed = [s for s in stored if s.sealed is not None]
    assert len(sealed) == 5  # enquiry, new personal data, three notes
    assert all(runtime.vault.open(vid, s.sealed) is None for s in sealed)
    assert runtime.vault.is_erased(vid) and not runtime.vault.is_erased(other)
    with reader(runtime.engine).connect() as conn:
        assert conn.execute(select(vault_keys).where(vault_keys.c.subject_id == vid)).first() is None
        assert conn.execute(select(name_index).where(name_index.c.volunteer_id == vid)).first() is None
        assert conn.execute(select(name_index).where(name_index.c.volunteer_id == other)).first() is not None
    assert not found(db_text(db))

    # no new personal data can come in for them, but the journey goes on
    rc.ok(rc.post(f"/volunteers/{vid}/keep-warm", {"contacted_on": rc.today, "kind": "message"}))
    resp = rc.post(f"/volunteers/{vid}/keep-warm", {"contacted_on": rc.today, "kind": "message", "note": "Zebediah"})
    assert resp.status_code == 409 and "erased" in resp.json()["detail"]
    assert runtime.vault.is_erased(vid), "a refused note created no new key"
    rc.step(vid, "stop", {"reason": "personal_circumstances"})

    # the public history replays to the same journey, the read models rebuild, the chain verifies
    replayed = Volunteer.replay_dated(vid, [(rc.app.state.handlers._decode(s), s.envelope.occurred_at.date())
                                            for s in runtime.store.load(vid)[:len(stored) - 1]]).snapshot()
    assert replayed == state_before
    with reader(runtime.engine).connect() as conn:
        row_before = dict(conn.execute(select(volunteers).where(volunteers.c.volunteer_id == vid)).mappings().one())
    with runtime.engine.begin() as conn:
        rebuild(conn, runtime.store, runtime.vault)
    with reader(runtime.engine).connect() as conn:
        assert dict(conn.execute(select(volunteers).where(volunteers.c.volunteer_id == vid)).mappings().one()) == row_before
        assert conn.execute(select(name_index).where(name_index.c.volunteer_id == vid)).first() is None
    result = runtime.store.verify()
    assert result.ok, result.problems
    assert result.head_position == head_before + 3  # erasure, keep-warm, stop


def test_the_key_and_the_erasure_event_commit_together(rc: RC, monkeypatch: pytest.MonkeyPatch) -> None:
    vid, _ = journey(rc)
    runtime = rc.runtime
    head = runtime.store.head()
    real_erase = runtime.vault.erase

    def erase_then_fail(conn: Any, subject_id: str) -> bool:
        real_erase(conn, subject_id)
        raise RuntimeError("the database went away mid-erasure")

    monkeypatch.setattr(runtime.vault, "erase", erase_then_fail)
    with pytest.raises(RuntimeError, match="mid-erasure"):
        rc.post(f"/volunteers/{vid}/erasure")
    assert runtime.store.head() == head, "no erasure event without the key deletion"
    assert not runtime.vault.is_erased(vid)
    assert rc.ok(rc.get(f"/volunteers/{vid}"))["personal"] == PERSONAL
    assert rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers", name="quackenbush"))["total"] == 1

    monkeypatch.setattr(runtime.vault, "erase", real_erase)
    rc.ok(rc.post(f"/volunteers/{vid}/erasure"))
    assert runtime.vault.is_erased(vid) and runtime.store.head()[0] == head[0] + 1
