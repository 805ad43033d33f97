"""Privacy canary: recognisable personal data goes in, and must never come out where
it does not belong: not on the bus, not in any log, not in reporting, not in a feed.

The same data must come back (decrypted) to the professional who may see it, so the
scan cannot pass merely because nothing was recorded; after erasure it is gone while
the audit chain stays intact.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis

from shared.eventstore import EventStore, make_engine
from tests.conftest import escape_glob
from tests.e2e import flows
from tests.e2e.flows import AUDITOR, PRO
from tests.e2e.system import REPO_ROOT, Api, ServiceSystem, clean_environ

pytestmark = pytest.mark.e2e

VOLUNTEER = {
    "first_name": "Zebediah",
    "last_name": "Quackenbush-Canary",
    "email": "zebediah.canary@example.org",
    "phone": "+32 499 31 41 59",
    "birth_date": "1971-04-13",
    "address": "Kanariestraat 77, 2000 Antwerpen",
    "notes": "Zebediah Quackenbush prefers Tuesdays; call zebediah.canary@example.org first.",
}
PARTICIPANT = {
    "first_name": "Ottoline",
    "last_name": "Fizzlewick-Canary",
    "phone": "+32 488 27 18 28",
    "address": "Piepstraat 13, 2018 Antwerpen",
    "notes": "Ottoline Fizzlewick met the buddy at Kanariestraat.",
}
CONTACT_NOTE = "Ottoline told about Snorkelwasp; private, never to be reported."

# Case-insensitive needles: every distinctive value, and the e-mail's local part alone.
CANARIES = [
    "Zebediah", "Quackenbush", "zebediah.canary@example.org", "zebediah.canary", "+32 499 31 41 59", "499314159",
    "Kanariestraat", "Ottoline", "Fizzlewick", "+32 488 27 18 28", "488271828", "Piepstraat", "Snorkelwasp",
]


def hits(text: str) -> list[str]:
    lowered = text.lower()
    return [c for c in CANARIES if c.lower() in lowered]


def decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def redis_dump(redis_url: str, prefix: str) -> dict[str, str]:
    """Every key under ``<prefix>:*`` as text: streams entry by entry (XRANGE), others by type."""
    client = redis.Redis.from_url(redis_url)
    out: dict[str, str] = {}
    try:
        for key in client.scan_iter(match=f"{escape_glob(prefix)}:*", count=1000):
            kind = decode(client.type(key))
            if kind == "stream":
                parts = []
                for entry_id, fields in client.xrange(key, "-", "+"):
                    parts.append(decode(entry_id) + " " + " ".join(f"{decode(k)}={decode(v)}" for k, v in fields.items()))
                text = "\n".join(parts)
            elif kind == "string":
                text = decode(client.get(key))
            elif kind == "hash":
                text = " ".join(f"{decode(k)}={decode(v)}" for k, v in client.hgetall(key).items())
            elif kind == "list":
                text = " ".join(decode(v) for v in client.lrange(key, 0, -1))
            elif kind == "set":
                text = " ".join(decode(v) for v in client.smembers(key))
            elif kind == "zset":
                text = " ".join(decode(v) for v in client.zrange(key, 0, -1))
            else:
                text = ""
            out[decode(key)] = text
    finally:
        client.close()
    return out


def sqlite_rows_text(path: Path) -> str:
    """All rows of all tables of a SQLite file, as text (read-only connection)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        parts = []
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert tables, f"no tables in {path}"
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                parts.append(f"{table}: " + " | ".join(decode(v) for v in row))
        return "\n".join(parts)
    finally:
        conn.close()


def file_bytes_text(path: Path) -> str:
    """The database file and its WAL/SHM companions, raw bytes decoded leniently."""
    chunks = []
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.exists():
            chunks.append(candidate.read_bytes().decode("latin-1"))
    return "\n".join(chunks)


def all_feed_events(api: Api, service: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        body = api.ok(api.get(service, "/events", AUDITOR, params={"after": after, "limit": 500}))
        if not body["events"]:
            return events
        events += body["events"]
        after = body["events"][-1]["position"]


def test_personal_data_never_leaves_its_service(system: ServiceSystem, api: Api, redis_url: str) -> None:
    project_id = "demo-antwerpen"
    flows.register_project(api, project_id)
    canary_id = flows.enquire(api, project_id, personal=VOLUNTEER)
    other_id = flows.enquire(api, project_id)
    for volunteer_id in (canary_id, other_id):
        flows.make_available(api, volunteer_id)
    flows.wait_for_candidates(api, project_id, [canary_id, other_id])
    participant_id = flows.refer(api, project_id, personal=PARTICIPANT)
    duo_id = flows.start_duo(api, project_id, canary_id, participant_id)
    flows.log_contact(api, duo_id, note=CONTACT_NOTE)
    flows.log_contact(api, duo_id)

    # The canary is really there, for the professional who may read it.
    view = api.ok(api.get("recruitment", f"/volunteers/{canary_id}", PRO))
    assert view["personal"]["first_name"] == "Zebediah"
    assert view["personal"]["last_name"] == "Quackenbush-Canary"
    assert view["personal"]["email"] == "zebediah.canary@example.org"
    assert view["personal"]["notes"] == VOLUNTEER["notes"]
    assert hits(str(view["personal"])), "the canary check itself is broken"

    # Every service has processed everything before we look.
    flows.wait_until_reporting_caught_up(api, project_id, timeout=30)
    assert api.ok(api.get("followup", "/events/head", AUDITOR))["position"] == 2

    # ---- the scan ---------------------------------------------------------------
    findings: dict[str, list[str]] = {}

    def check(where: str, text: str) -> None:
        found = hits(text)
        if found:
            findings[where] = found

    streams = redis_dump(redis_url, system.key_prefix)
    for service in flows.PRODUCERS:
        stream = f"{system.key_prefix}:events:{service}"
        assert streams.get(stream), f"no events on {stream}: the scan would prove nothing"
    for key, text in streams.items():
        check(f"redis {key}", text)

    log_lines = system.log_text().splitlines()
    assert log_lines, "no log lines at all"
    for number, line in enumerate(log_lines, 1):
        check(f"log line {number}: {line[:200]}", line)

    reporting_db = system.data_dir / "reporting.db"
    rows = sqlite_rows_text(reporting_db)
    assert project_id in rows, "reporting holds no rows: the scan would prove nothing"
    check("reporting.db rows", rows)
    check("reporting.db bytes", file_bytes_text(reporting_db))

    # The other stores hold personal data only sealed: no plaintext in their files either.
    for service in flows.PRODUCERS:
        db = system.data_dir / f"{service}.db"
        check(f"{service}.db rows", sqlite_rows_text(db))
        check(f"{service}.db bytes", file_bytes_text(db))

    for service in flows.PRODUCERS:
        events = all_feed_events(api, service)
        assert events, f"{service} feed is empty"
        check(f"{service} /events", repr(events))

    assert not findings, f"personal data leaked: {findings}"

    # Erasure: the decrypted view is gone, the log and its chain stay.
    flows.wait_consumed(api, "recruitment")  # the duo recruitment learns from matching is recorded first
    head_before = api.ok(api.get("recruitment", "/events/head", AUDITOR))["position"]
    erased = api.ok(api.post("recruitment", f"/volunteers/{canary_id}/erasure", PRO))
    assert erased["personal_data_erased"] is True
    after = api.ok(api.get("recruitment", f"/volunteers/{canary_id}", PRO))
    assert after["personal"] is None
    assert after["personal_data_erased"] is True
    assert api.ok(api.get("recruitment", "/events/head", AUDITOR))["position"] == head_before + 1
    flows.wait_until_reporting_caught_up(api, project_id, timeout=30)
    assert not hits(system.log_text()), "erasure wrote personal data to a log"

    # ---- the audit chain is intact after erasure ---------------------------------
    engine = make_engine(f"sqlite:///{(system.data_dir / 'recruitment.db').as_posix()}")
    try:
        result = EventStore(engine, "recruitment").verify()
    finally:
        engine.dispose()
    assert result.ok, result.problems
    assert result.head_position == head_before + 1

    env = clean_environ() | {"BUDDY_DATA_DIR": str(system.data_dir)}
    cli = subprocess.run([sys.executable, "-m", "shared.cli", "audit", "verify"], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "recruitment: store ok" in cli.stdout, cli.stdout
    assert "BROKEN" not in cli.stdout + cli.stderr
    assert not hits(cli.stdout + cli.stderr)


def test_the_scanners_find_a_planted_canary(redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    """The scan above would see a leak: plant one in each place it looks and find it."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.xadd(f"{key_prefix}:events:planted", {b"__data__": b"\xff\xfe binary {\"name\": \"ZEBEDIAH\"}"})
        client.hset(f"{key_prefix}:hash", "k", "mail zebediah.canary@elsewhere.example")
    finally:
        client.close()
    dumped = redis_dump(redis_url, key_prefix)
    assert hits(dumped[f"{key_prefix}:events:planted"]) == ["Zebediah"]
    assert "zebediah.canary" in hits(dumped[f"{key_prefix}:hash"])

    db = tmp_path / "planted.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.execute("INSERT INTO t VALUES ('Snorkelwasp')")
    conn.commit()
    assert hits(sqlite_rows_text(db)) == ["Snorkelwasp"]
    assert hits(file_bytes_text(db)) == ["Snorkelwasp"]
    conn.close()
