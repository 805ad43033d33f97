"""Erasure end to end over real Redis, the four services as processes.

Recognisable personal data goes in everywhere it can: a volunteer's contact details
(recruitment), a participant's (matching), their private duo agreements (matching,
sealed under the participant), a contact note (follow-up, sealed under the participant)
and a note on why an auditor read them (recruitment). It is read back through the
reasoned personal-data API, the cross-service export and the audit history, a report is
published, and then `buddy privacy erase` erases both people.

After that, no trace of the canary anywhere: not in any store (rows or file bytes), not
on any stream, not in any log, not in reporting, not in a feed, not in an export, the
history, a replay or any command's output. And the history still verifies (stores, bus
and feeds), replays as of now, and the published report reproduces to the same hash
with the live figures unchanged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e import flows
from tests.e2e.flows import ADMIN, AUDITOR, PRO
from tests.e2e.system import REPO_ROOT, Api, ServiceSystem, eventually
from tests.e2e.test_canary import (
    CONTACT_NOTE,
    PARTICIPANT,
    VOLUNTEER,
    all_feed_events,
    file_bytes_text,
    hits,
    redis_dump,
    sqlite_rows_text,
)

pytestmark = pytest.mark.e2e

AGREEMENTS = "Snorkelwasp rule: Ottoline is never visited at Piepstraat after 20:00."
READ_NOTE = "Klacht van Zebediah Quackenbush-Canary via zijn advocaat"


def buddy(system: ServiceSystem, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(system.env) | ({"BUDDY_TOKEN": token} if token else {})
    return subprocess.run([sys.executable, "-m", "shared.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.mark.system_env(BUDDY_DISCLOSURE_THRESHOLD="1", BUDDY_ROUNDING_BASE="1")
def test_an_erased_person_leaves_no_trace_and_the_history_stays_whole(system: ServiceSystem, api: Api,
                                                                        redis_url: str, tmp_path: Path) -> None:
    project_id = "demo-antwerpen"
    flows.register_project(api, project_id)
    volunteer_id = flows.enquire(api, project_id, personal=VOLUNTEER)
    other_id = flows.enquire(api, project_id)
    for vid in (volunteer_id, other_id):
        flows.make_available(api, vid)
    flows.wait_for_candidates(api, project_id, [volunteer_id, other_id])
    participant_id = flows.refer(api, project_id, personal=PARTICIPANT)
    duo_id = api.ok(api.post("matching", f"/projects/{project_id}/duos", PRO, {
        "volunteer_id": volunteer_id, "participant_id": participant_id, "boundary_agreements": AGREEMENTS,
        "started_on": flows.today().isoformat()}), 201)["duo_id"]
    flows.log_contact(api, duo_id, note=CONTACT_NOTE)
    flows.end_duo(api, duo_id)
    assert hits(AGREEMENTS + READ_NOTE + CONTACT_NOTE), "the canary check itself is broken"

    # ---- reasoned reads: decrypted for the auditor, each recorded in the owning service ------------
    for service in flows.PRODUCERS:
        assert set(api.ok(api.get(service, "/personal-data/reasons", PRO))) == {
            "audit", "subject_access_request", "legal_obligation", "care_continuity", "other"}
    assert api.get("reporting", "/personal-data/reasons", PRO).status_code == 404  # reporting holds none
    read = api.ok(api.post("recruitment", f"/personal-data/{volunteer_id}/access", AUDITOR,
                           {"reason": "audit", "note": READ_NOTE}))
    assert read["personal_data"][0]["data"]["email"] == VOLUNTEER["email"]
    feed = all_feed_events(api, "recruitment")
    access = [e for e in feed if e["type"] == "RecruitmentPersonalDataAccessed"]
    assert [(e["actor"]["id"], e["payload"]["reason"], e["payload"]["has_note"]) for e in access] == [
        ("dev-auditor", "audit", True)]
    assert not hits(json.dumps(feed)), "the note on the reason is sealed, never published"

    # ---- the access request across services: matching's duo leads to follow-up's note -------------
    flows.wait_consumed(api, "followup")
    exported = json.loads(ok(buddy(system, "privacy", "export", participant_id, "--reason",
                                   "subject_access_request", token=PRO)))
    assert exported["services"]["recruitment"] is None
    opened = {s: [i["data"] for i in body["personal_data"]] for s, body in exported["services"].items() if body}
    assert any(d and d.get("last_name") == PARTICIPANT["last_name"] for d in opened["matching"])
    assert {"boundary_agreements": AGREEMENTS} in opened["matching"]
    assert {"note": CONTACT_NOTE} in opened["followup"]
    assert duo_id in {e["payload"].get("duo_id") for e in exported["services"]["followup"]["events"]}

    # ---- the auditor's history: every service, personal data only with a reason ------------------
    public = ok(buddy(system, "audit", "history", participant_id))
    for expected in ("ParticipantReferred", "DuoStarted", "ContactLogged", "DuoEnded",
                     "FollowUpCallScheduled", "MatchingPersonalDataAccessed", "FollowupPersonalDataAccessed"):
        assert expected in public, (expected, public)
    assert not hits(public)
    reasoned = ok(buddy(system, "audit", "history", participant_id, "--reason", "audit", token=AUDITOR))
    assert "Snorkelwasp" in reasoned and "read recorded in matching" in reasoned

    # ---- a published report, and the live figures, before the erasure -----------------------------
    flows.wait_until_reporting_caught_up(api, project_id, timeout=30)
    report = api.ok(api.post("reporting", "/reports", ADMIN, {"kind": "project_summary", "project_id": project_id}),
                    201)
    figures_before = flows.summary(api, project_id).json()["figures"]
    assert figures_before["available_volunteers"]["value"] == 2  # both free again after the duo ended

    # ---- the erasure requests ---------------------------------------------------------------------
    for subject in (volunteer_id, participant_id):
        done = ok(buddy(system, "privacy", "erase", subject, token=PRO))
        for service in flows.PRODUCERS:
            assert f"{service}: holds no key of {subject}" in done, done
        assert not hits(done)
    flows.wait_until_reporting_caught_up(api, project_id, timeout=30)

    # ---- no trace of the canary anywhere ----------------------------------------------------------
    outputs = {
        "export (volunteer)": ok(buddy(system, "privacy", "export", volunteer_id, "--reason", "legal_obligation",
                                       token=ADMIN)),
        "export (participant)": ok(buddy(system, "privacy", "export", participant_id, "--reason",
                                         "subject_access_request", token=ADMIN)),
        "history with a reason": ok(buddy(system, "audit", "history", participant_id, "--reason", "audit",
                                          token=AUDITOR)),
        "history of the volunteer": ok(buddy(system, "audit", "history", volunteer_id, "--reason", "audit",
                                             token=AUDITOR)),
        "verify": ok(buddy(system, "audit", "verify", "--bus", "--feeds")),
    }
    after = json.loads(outputs["export (participant)"])
    assert after["services"]["matching"]["subject_erased"] is True
    assert all(i["data"] is None for s in ("matching", "followup") for i in after["services"][s]["personal_data"])
    assert api.post("recruitment", f"/personal-data/{volunteer_id}/access", AUDITOR,
                    {"reason": "audit", "note": "x"}).status_code == 409  # no key comes back for a note

    moment = datetime.now(UTC).isoformat()
    replays = tmp_path / "replays"
    replays.mkdir()
    for service in (*flows.PRODUCERS, "reporting"):
        into = f"sqlite:///{replays / service}.db"
        outputs[f"replay {service}"] = ok(buddy(system, "audit", "replay", "--as-of", moment, "--service", service,
                                                "--into", into))
        if service != "reporting":
            assert f"{service}: replayed chain ok" in outputs[f"replay {service}"]
    roster = sqlite_rows_text(replays / "followup.db")  # follow-up learned its roster from matching's log
    assert f"fu_roster: {duo_id} | {project_id} | {volunteer_id} | {participant_id} | ended" in roster

    findings: dict[str, list[str]] = {}

    def check(where: str, text: str) -> None:
        if found := hits(text):
            findings[where] = found

    for where, text in outputs.items():
        check(f"output of {where}", text)
    for key, text in redis_dump(redis_url, system.key_prefix).items():
        check(f"redis {key}", text)
    for number, line in enumerate(system.log_text().splitlines(), 1):
        check(f"log line {number}: {line[:200]}", line)
    databases = [system.data_dir / f"{s}.db" for s in (*flows.PRODUCERS, "reporting")]
    databases += sorted(replays.glob("*.db"))
    for db in databases:
        check(f"{db.name} rows", sqlite_rows_text(db))
        check(f"{db.name} bytes", file_bytes_text(db))
    for service in flows.PRODUCERS:
        check(f"{service} /events", json.dumps(all_feed_events(api, service)))
    for path in (f"/volunteers/{volunteer_id}", f"/volunteers/{volunteer_id}/history"):
        check(f"recruitment {path}", api.get("recruitment", path, PRO).text)
    for path in (f"/participants/{participant_id}", f"/duos/{duo_id}"):
        check(f"matching {path}", api.get("matching", path, PRO).text)
    check("followup contacts", api.get("followup", f"/duos/{duo_id}/contacts", PRO).text)
    assert not findings, f"personal data left after erasure: {findings}"

    # ---- the history is whole: it verifies, and the report reproduces unchanged -------------------
    assert "BROKEN" not in outputs["verify"]
    for service in flows.PRODUCERS:
        assert f"{service}: store ok" in outputs["verify"]
        assert f"{service}: stream {system.key_prefix}:events:{service} ok" in outputs["verify"]
        assert f"{service}: feed of {service} ok" in outputs["verify"]
    reproduced = ok(buddy(system, "audit", "reproduce", report["report_id"]))
    assert f"reproduced — hash {report['content_hash']}" in reproduced
    assert flows.summary(api, project_id).json()["figures"] == figures_before
    erasures = [e for s in ("recruitment", "matching") for e in all_feed_events(api, s)
                if e["type"].endswith("PersonalDataErased")]
    assert {e["stream_id"] for e in erasures} == {volunteer_id, participant_id}
    eventually(lambda: api.ok(api.get("followup", f"/personal-data/{participant_id}", AUDITOR))["holds_key"] is False)
