"""Matching end to end: the four services as processes over real Redis.

* a volunteer made available in recruitment appears in matching's pool (with the
  preferences recruitment published), and a change of preferences follows;
* a duo proposed, accepted by both and kicked off in matching moves the volunteer to
  "in a duo" in recruitment (recruitment records ``VolunteerJoinedDuo`` from ``DuoStarted``);
* ending the duo frees the volunteer's capacity in matching (and recruitment learns it);
* a mismatch puts the participant back on matching's waiting list.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.e2e import flows
from tests.e2e.flows import AUDITOR, PRO
from tests.e2e.system import Api, ServiceSystem, eventually

pytestmark = pytest.mark.e2e

AGREEMENTS = "Quibblesnort-afspraak: geen geld lenen, niet bellen na 21u."


def pool_entry(api: Api, project_id: str, volunteer_id: str, **params: Any) -> dict[str, Any]:
    pool = api.ok(api.get("matching", f"/projects/{project_id}/candidates", PRO, params=params))["candidates"]
    found = [c for c in pool if c["volunteer_id"] == volunteer_id]
    assert found, f"matching does not list {volunteer_id} yet"
    return found[0]


def recruitment_status(api: Api, volunteer_id: str) -> str:
    return api.ok(api.get("recruitment", f"/volunteers/{volunteer_id}", PRO))["status"]


def test_pool_duo_and_capacity_across_services(system: ServiceSystem, api: Api) -> None:
    project_id = "demo-antwerpen"
    flows.register_project(api, project_id)
    volunteer_id = flows.enquire(api, project_id)
    flows.make_available(api, volunteer_id)

    # 1. recruitment's volunteer appears in matching's pool, with room for one duo
    entry = eventually(lambda: pool_entry(api, project_id, volunteer_id), timeout=20)
    assert entry["status"] == "available" and entry["capacity_left"] == 1
    assert entry["target_groups"] == ["individual_adult"] and entry["languages"] == ["nl"]

    # ... and follows a change of preferences made in recruitment
    api.ok(api.request("PUT", "recruitment", f"/volunteers/{volunteer_id}/preferences", PRO, {
        "target_groups": ["individual_adult", "family"], "languages": ["nl", "fr"], "interests": ["walking"],
        "availability": [{"day": "sat", "part": "morning"}], "travel": "same_arrondissement", "max_duos": 1}))

    def preferences_arrived() -> dict[str, Any]:
        seen = pool_entry(api, project_id, volunteer_id)
        assert seen["interests"] == ["walking"], seen
        return seen

    changed = eventually(preferences_arrived, timeout=20)
    assert changed["availability"] == ["sat-morning"] and changed["travel"] == "same_arrondissement"

    # 2. a participant is referred; the volunteer is suggested, with reasons
    participant_id = flows.refer(api, project_id, personal={"first_name": "Quibblesnort", "last_name": "Deelnemer"})
    suggestions = api.ok(api.get("matching", f"/participants/{participant_id}/suggestions", PRO))
    assert [s["volunteer_id"] for s in suggestions["suggestions"]] == [volunteer_id]
    assert {c["criterion"] for c in suggestions["suggestions"][0]["criteria"]} == {
        "interests", "availability", "distance", "volunteer_waiting", "participant_waiting"}

    # 3. proposed, accepted by both, kicked off: matching holds the place, recruitment says "in a duo"
    duo_id = flows.match_duo(api, project_id, volunteer_id, participant_id, boundary_agreements=AGREEMENTS)
    assert pool_entry(api, project_id, volunteer_id)["capacity_left"] == 0
    assert api.ok(api.get("matching", f"/duos/{duo_id}", PRO))["boundary_agreements"] == AGREEMENTS

    def in_a_duo() -> bool:
        status = recruitment_status(api, volunteer_id)
        assert status == "in_duo", f"recruitment still says {status!r}"
        return True

    eventually(in_a_duo, timeout=20)

    # 4. the end frees the capacity in matching, and recruitment learns it
    assert flows.end_duo(api, duo_id)["status"] == "ended"
    assert pool_entry(api, project_id, volunteer_id)["capacity_left"] == 1
    waiting = api.ok(api.get("matching", f"/participants/{participant_id}", PRO))
    assert waiting["status"] == "finished"

    def free_again() -> bool:
        status = recruitment_status(api, volunteer_id)
        assert status == "available", f"recruitment still says {status!r}"
        return True

    eventually(free_again, timeout=20)

    # the private agreements never left matching: not in any feed, not on the bus
    flows.wait_consumed(api, "followup")
    for service in flows.PRODUCERS:
        feed = api.ok(api.get(service, "/events", AUDITOR, params={"limit": 5000}))["events"]
        assert "Quibblesnort" not in str(feed), f"{service} published private data"
    assert "Quibblesnort" not in system.log_text()


def test_a_mismatch_returns_the_participant_to_the_waiting_list(system: ServiceSystem, api: Api) -> None:
    project_id = "demo-gent"
    flows.register_project(api, project_id, nis="44021", region="oost-vlaanderen")
    volunteers = [flows.enquire(api, project_id, nis="44021") for _ in range(2)]
    for volunteer_id in volunteers:
        flows.make_available(api, volunteer_id)
    flows.wait_for_candidates(api, project_id, volunteers)
    participants = [flows.refer(api, project_id, nis="44021") for _ in range(2)]

    plan = api.ok(api.get("matching", f"/projects/{project_id}/assignment", PRO))
    assert plan["assigned"] == 2 and plan["total_score"] >= plan["greedy_total_score"]
    pair = {p["participant_id"]: p["volunteer_id"] for p in plan["pairs"]}
    assert set(pair) == set(participants) and set(pair.values()) == set(volunteers)

    duo_id = flows.match_duo(api, project_id, pair[participants[0]], participants[0])
    board = api.ok(api.get("matching", f"/projects/{project_id}/waiting-list", PRO))
    assert [w["participant_id"] for w in board["waiting"]] == [participants[1]]

    flows.end_duo(api, duo_id, reason="mismatch", planned=False)
    back = api.ok(api.get("matching", f"/participants/{participants[0]}", PRO))
    assert back["status"] == "waiting" and back["times_returned"] == 1
    board = api.ok(api.get("matching", f"/projects/{project_id}/waiting-list", PRO))
    assert {w["participant_id"] for w in board["waiting"]} == set(participants)
    # the failed pair is not suggested again
    again = api.ok(api.get("matching", f"/participants/{participants[0]}/suggestions", PRO))
    assert pair[participants[0]] not in [s["volunteer_id"] for s in again["suggestions"]]


def test_a_past_duo_entered_after_the_fact_across_services(system: ServiceSystem, api: Api) -> None:
    """Months of history entered today with their real days: the volunteer available, the
    participant referred and the duo started in the past, its contacts in the weeks after."""
    project_id = "demo-antwerpen"
    flows.register_project(api, project_id)
    today = flows.today()
    volunteer_id = flows.enquire(api, project_id, received_on=today - timedelta(days=120))
    flows.make_available(api, volunteer_id, on=today - timedelta(days=100))
    flows.wait_for_candidates(api, project_id, [volunteer_id])
    participant_id = flows.refer(api, project_id, referred_on=today - timedelta(days=90))
    waiting = api.ok(api.get("matching", f"/participants/{participant_id}", PRO))
    assert waiting["waiting_days"] == 90

    # Not before the referral's day: refused naming it; on or after both days: registered.
    early = api.post("matching", f"/projects/{project_id}/duos", PRO, {
        "volunteer_id": volunteer_id, "participant_id": participant_id,
        "started_on": (today - timedelta(days=95)).isoformat()})
    assert early.status_code == 422 and (today - timedelta(days=90)).isoformat() in early.json()["detail"]
    started_on = today - timedelta(days=60)
    duo_id = flows.start_duo(api, project_id, volunteer_id, participant_id, started_on=started_on)

    # Recruitment learns the duo with its day; follow-up takes contacts from that day on.
    def in_duo() -> dict[str, Any]:
        view = api.ok(api.get("recruitment", f"/volunteers/{volunteer_id}", PRO))
        assert view["status"] == "in_duo", view
        return view

    assert eventually(in_duo, timeout=20)["stage_since"] == started_on.isoformat()
    for days_ago in (53, 46, 39):
        body = flows.contact_body(days_ago=days_ago)
        eventually(lambda body=body: api.ok(api.post("followup", f"/duos/{duo_id}/contacts", PRO, body), 201),
                   timeout=20)
    months = api.ok(api.get("followup", f"/duos/{duo_id}/figures", PRO))["months"]
    assert sum(m["contacts"] for m in months.values()) == 3
