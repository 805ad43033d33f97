"""The thin slice end to end: four service processes, real Redis, SQLite files.

Admin registers a project; a professional records two volunteers and makes both
available; matching lists them, a participant is referred and a duo started;
follow-up learns the duo and a contact is logged; reporting shows the anonymised
summary, computed from exactly what every producer recorded.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest

from tests.e2e import flows
from tests.e2e.flows import ADMIN, COORDINATOR, PRO, PRO_OTHER
from tests.e2e.system import Api, ServiceSystem, eventually

pytestmark = pytest.mark.e2e


def run_slice(api: Api, project_id: str, *, nis: str, region: str) -> dict[str, Any]:
    flows.register_project(api, project_id, nis=nis, region=region)
    volunteers = [flows.enquire(api, project_id, nis=nis) for _ in range(2)]
    for volunteer_id in volunteers:
        assert flows.make_available(api, volunteer_id)["status"] == "available"
    pool = flows.wait_for_candidates(api, project_id, volunteers)
    assert {c["volunteer_id"] for c in pool} == set(volunteers)
    assert all(c["status"] == "available" for c in pool)
    participant_id = flows.refer(api, project_id, nis=nis)
    duo_id = flows.start_duo(api, project_id, volunteers[0], participant_id)
    contact_id = flows.log_contact(api, duo_id)
    return {"volunteers": volunteers, "participant_id": participant_id, "duo_id": duo_id, "contact_id": contact_id}


@pytest.mark.system_env(BUDDY_DISCLOSURE_THRESHOLD="1", BUDDY_ROUNDING_BASE="1")
def test_thin_slice_reaches_the_report(system: ServiceSystem, api: Api) -> None:
    project_id = "demo-antwerpen"
    ids = run_slice(api, project_id, nis="11002", region="antwerpen-kempen")
    assert ids["duo_id"] and ids["contact_id"]
    flows.wait_consumed(api, "recruitment")  # recruitment records the duo it learned from matching

    def figures_complete() -> dict[str, Any]:
        body = flows.wait_until_reporting_caught_up(api, project_id, timeout=5)
        figures = body["figures"]
        shown = {name: (cell["value"], cell["suppressed"]) for name, cell in figures.items()}
        assert shown == {
            "available_volunteers": (1, False), "active_duos": (1, False), "contacts": (1, False),
        }, shown
        return body

    body = eventually(figures_complete, timeout=30)
    assert body["project_id"] == project_id
    assert body["region"] == "antwerpen-kempen"
    assert body["disclosure"] == {"threshold": 1, "rounding_base": 1}
    heads = flows.heads(api)
    # 1 project + 2 × (enquiry, intake, screening, coaching, availability) + 1 duo joined; 1 referral + 1 duo; 1 contact
    assert heads == {"recruitment": 12, "matching": 2, "followup": 1}
    assert body["computed_from"] == heads
    for cell in body["figures"].values():
        assert cell["label"]


def test_default_disclosure_suppresses_small_counts(system: ServiceSystem, api: Api) -> None:
    project_id = "demo-antwerpen"
    run_slice(api, project_id, nis="11002", region="antwerpen-kempen")
    body = flows.wait_until_reporting_caught_up(api, project_id, timeout=30)
    assert body["disclosure"] == {"threshold": 10, "rounding_base": 5}
    assert set(body["figures"]) == {"available_volunteers", "active_duos", "contacts"}
    for name, cell in body["figures"].items():
        assert cell["value"] is None, (name, cell)
        assert cell["suppressed"] is True, (name, cell)


def test_report_access_is_scoped(system: ServiceSystem, api: Api) -> None:
    # demo-gent lies in oost-vlaanderen: not the dev coordinator's region, not dev-professional-other's project
    project_id = "demo-gent"
    flows.register_project(api, project_id, nis="44021", region="oost-vlaanderen")
    volunteer_id = flows.enquire(api, project_id, nis="44021")
    flows.wait_until_reporting_caught_up(api, project_id, timeout=30)

    def summary(token: str | None) -> Any:
        return flows.summary(api, project_id, token)

    assert summary(ADMIN).status_code == 200
    assert summary(PRO).status_code == 200  # their own project
    for token, status in ((COORDINATOR, 403), (PRO_OTHER, 403), (None, 401), ("not-a-token", 401)):
        resp = summary(token)
        assert resp.status_code == status, (token, resp.status_code, resp.text)
        assert isinstance(resp.json()["detail"], str) and resp.json()["detail"]
    assert summary(None).headers.get("www-authenticate", "").startswith("Bearer")

    # The same scoping in the writing services.
    assert api.get("recruitment", f"/volunteers/{volunteer_id}", PRO_OTHER).status_code == 403
    assert api.get("recruitment", f"/volunteers/{volunteer_id}", COORDINATOR).status_code == 403
    assert api.get("recruitment", f"/volunteers/{volunteer_id}").status_code == 401
    assert api.get("recruitment", f"/volunteers/{volunteer_id}", PRO).status_code == 200
    assert api.post("recruitment", f"/projects/{project_id}/volunteers", PRO_OTHER, {
        "channel": "website", "municipality_nis": "44021", "personal": {"first_name": "A", "last_name": "B"},
    }).status_code == 403
    assert api.get("matching", f"/projects/{project_id}/candidates", PRO_OTHER).status_code == 403
    assert api.get("matching", f"/projects/{project_id}/candidates", COORDINATOR).status_code == 403
    assert api.get("matching", f"/projects/{project_id}/candidates").status_code == 401
    assert api.post("recruitment", "/projects", PRO, {
        "project_id": "demo-x", "name": "X", "organisation": "X", "municipality_nis": "11002",
        "region": "antwerpen-kempen", "target_groups": ["family"],
    }).status_code == 403  # registering projects is for admins
    # The event feeds are for auditors, admins and the services only.
    for service in flows.PRODUCERS:
        assert api.get(service, "/events", PRO).status_code == 403
        assert api.get(service, "/events").status_code == 401
        assert api.get(service, "/events", "dev-auditor").status_code == 200


def test_a_restarted_consumer_catches_up(system: ServiceSystem, api: Api) -> None:
    """Follow-up is down while a duo starts; after its restart it learns the duo and takes contacts."""
    project_id = "demo-antwerpen"
    flows.register_project(api, project_id)
    volunteer_id = flows.enquire(api, project_id)
    flows.make_available(api, volunteer_id)
    flows.wait_for_candidates(api, project_id, [volunteer_id])
    participant_id = flows.refer(api, project_id)

    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: -15 is the clean exit
    assert system.stop("followup") in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in system.log_file("followup").read_text()
    duo_id = flows.start_duo(api, project_id, volunteer_id, participant_id)
    system.start("followup")
    flows.log_contact(api, duo_id)
    assert flows.heads(api)["followup"] == 1
    assert "Finished server process" in system.log_text()
