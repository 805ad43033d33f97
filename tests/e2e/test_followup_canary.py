"""Privacy canary for follow-up: private notes (contacts, drafts, corrections, boundary
signals), goal wording and policy-signal descriptions go in with recognisable text and
must never come out on the bus, in a log, in a feed, in reporting or as plaintext in the
follow-up database — while the professional still reads them back decrypted.

The one free text that may reach the bus is a policy signal's confirmed anonymised
summary; it is there (so the scan does look at follow-up's events), and a summary with an
e-mail address or a phone number is refused without that text being logged anywhere.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import flows
from tests.e2e.flows import AUDITOR, PRO
from tests.e2e.system import Api, ServiceSystem, eventually
from tests.e2e.test_canary import all_feed_events, file_bytes_text, redis_dump, sqlite_rows_text

pytestmark = pytest.mark.e2e

CONTACT_NOTE = "Quibbleworth told the buddy about her Brimblecombe debts."
DRAFT_NOTE = "Draft: Quibbleworth seemed tired (Zarnowiecka street)."
CORRECTED_NOTE = "Corrected: met Quibbleworth's sister Fennimore at home."
SIGNAL_NOTE = "Quibbleworth asked the buddy for 50 euro for Wobblestone's rent."
FOLLOW_UP_NOTE = "Triangle talk with Quibbleworth and Fennimore."
GOAL_WORDING = "Quibbleworth wants to join the Wobblestone choir."
DESCRIPTION = "Mr Quibbleworth (Zarnowiecka 12) could only book at the OCMW online; call 0499 98 76 54."
SUMMARY = "Afspraken bij het OCMW kunnen enkel nog online: een drempel voor wie geen computer heeft."
LEAKY_SUMMARY = "Contact quibbleworth.canary@example.org for details"

CANARIES = ["Quibbleworth", "Brimblecombe", "Zarnowiecka", "Fennimore", "Wobblestone", "0499 98 76 54", "499987654",
            "quibbleworth.canary"]


def hits(text: str) -> list[str]:
    lowered = text.lower()
    return [c for c in CANARIES if c.lower() in lowered]


def test_private_texts_never_leave_the_follow_up_vault(system: ServiceSystem, api: Api, redis_url: str) -> None:
    project_id = "demo-antwerpen"
    flows.register_project(api, project_id)
    volunteer_id = flows.enquire(api, project_id)
    flows.make_available(api, volunteer_id)
    flows.wait_for_candidates(api, project_id, [volunteer_id])
    participant_id = flows.refer(api, project_id)
    duo_id = flows.start_duo(api, project_id, volunteer_id, participant_id,
                             started_on=flows.today())
    today = flows.today().isoformat()

    def post(path: str, body: Any, status: int = 200) -> dict[str, Any]:
        return api.ok(api.post("followup", path, PRO, body), status)

    contact_id = flows.log_contact(api, duo_id, note=CONTACT_NOTE)
    draft_id = post(f"/duos/{duo_id}/contact-drafts", flows.contact_body(note=DRAFT_NOTE), 201)["contact_id"]
    post(f"/duos/{duo_id}/contacts/{draft_id}/submission", None)
    post(f"/duos/{duo_id}/contacts/{contact_id}/correction", {**flows.contact_body(), "note": CORRECTED_NOTE})
    signal_id = post(f"/duos/{duo_id}/boundary-signals", {
        "signal_type": "money_or_goods_asked", "severity": "high", "raised_by": "buddy", "raised_on": today,
        "note": SIGNAL_NOTE}, 201)["signal_id"]
    post(f"/boundary-signals/{signal_id}/follow-ups", {"action": "triangle_meeting", "followed_up_on": today,
                                                       "note": FOLLOW_UP_NOTE})
    goal_id = post(f"/duos/{duo_id}/goals", {"domain": "social_network", "set_on": today, "baseline": 3,
                                             "description": GOAL_WORDING}, 201)["goal_id"]
    policy_id = post(f"/projects/{project_id}/policy-signals", {"theme": "access_to_services", "observed_on": today,
                                                                "description": DESCRIPTION}, 201)["signal_id"]
    leaky = api.post("followup", f"/policy-signals/{policy_id}/summary", PRO,
                     {"summary": LEAKY_SUMMARY, "confirm_no_personal_data": True})
    assert leaky.status_code == 422 and not hits(leaky.text)
    post(f"/policy-signals/{policy_id}/summary", {"summary": SUMMARY, "confirm_no_personal_data": True})
    api.ok(api.post("matching", f"/duos/{duo_id}/end", PRO,
                    {"ended_on": today, "reason": "goals_reached", "planned": True}))

    # The texts are really there, for the professional who may read them.
    assert api.ok(api.get("followup", f"/duos/{duo_id}/contacts/{contact_id}", PRO))["note"] == CORRECTED_NOTE
    assert api.ok(api.get("followup", f"/duos/{duo_id}/contacts/{draft_id}", PRO))["note"] == DRAFT_NOTE
    assert api.ok(api.get("followup", f"/boundary-signals/{signal_id}", PRO))["notes"] == [SIGNAL_NOTE, FOLLOW_UP_NOTE]
    assert api.ok(api.get("followup", f"/goals/{goal_id}", PRO))["description"] == GOAL_WORDING
    policy = api.ok(api.get("followup", f"/policy-signals/{policy_id}", PRO))
    assert (policy["description"], policy["summary"]) == (DESCRIPTION, SUMMARY)
    assert hits(CONTACT_NOTE + DESCRIPTION), "the canary check itself is broken"

    # Everything has been processed everywhere before we look: the calls are scheduled, reporting caught up.
    eventually(lambda: api.ok(api.get("followup", f"/projects/{project_id}/follow-up-calls", PRO))["total"] == 3,
               timeout=30)
    flows.wait_until_reporting_caught_up(api, project_id, timeout=30)

    findings: dict[str, list[str]] = {}

    def check(where: str, text: str) -> None:
        found = hits(text)
        if found:
            findings[where] = found

    streams = redis_dump(redis_url, system.key_prefix)
    followup_stream = streams.get(f"{system.key_prefix}:events:followup", "")
    assert "PolicySignalSummaryConfirmed" in followup_stream and "FollowUpCallScheduled" in followup_stream
    assert "enkel nog online" in followup_stream, "the confirmed summary is the one text that is published"
    for key, text in streams.items():
        check(f"redis {key}", text)
    for number, line in enumerate(system.log_text().splitlines(), 1):
        check(f"log line {number}: {line[:200]}", line)
    feed = all_feed_events(api, "followup")
    assert len(feed) >= 12
    check("followup /events", repr(feed))
    for service in ("followup", "reporting"):
        db = system.data_dir / f"{service}.db"
        check(f"{service}.db rows", sqlite_rows_text(db))
        check(f"{service}.db bytes", file_bytes_text(db))
    assert not findings, f"private text leaked: {findings}"
    assert api.ok(api.get("followup", "/events/head", AUDITOR))["position"] == len(feed)
