"""``GET /scopes`` (the regions and projects a caller may read reports of, by name) and
report titles: what the web front shows instead of codes."""

from __future__ import annotations

from tests.integration.test_reporting_api import (  # noqa: F401 - world is a fixture
    ADMIN, AUDITOR, COORDINATOR, PRO, PRO_OTHER, World, overview, world)
from tests.integration.test_reporting_script import R1, R2


def scopes(world: World, token: str) -> dict:
    resp = world.get("/scopes", token)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_admins_and_auditors_see_flanders_every_region_and_project_by_name(world: World) -> None:
    for token in (ADMIN, AUDITOR):
        found = scopes(world, token)
        assert found["flanders"] is True
        assert {"code": R1, "name": "Antwerpen-Kempen", "name_en": "Antwerp-Campine"} in found["regions"]
        assert {"code": R2, "name": "Gent-Meetjesland", "name_en": "Ghent-Meetjesland"} in found["regions"]
        titles = {p["project_id"]: p["title"] for p in found["projects"]}
        assert titles["pB"] == "Project pB (Mortsel)"  # the title as last changed
        assert {"demo-antwerpen", "demo-gent"} <= set(titles)


def test_a_coordinator_sees_only_their_region_and_its_projects(world: World) -> None:
    found = scopes(world, COORDINATOR)
    assert found["flanders"] is False
    assert found["regions"] == [{"code": R1, "name": "Antwerpen-Kempen", "name_en": "Antwerp-Campine"}]
    assert found["projects"] and all(p["region"] == R1 for p in found["projects"])


def test_a_professional_sees_only_their_own_projects(world: World) -> None:
    found = scopes(world, PRO)
    assert found["flanders"] is False and found["regions"] == []
    assert sorted(p["project_id"] for p in found["projects"]) == ["demo-antwerpen", "demo-gent"]
    assert {p["region_name"] for p in found["projects"]} == {"Antwerpen-Kempen", "Gent-Meetjesland"}
    other = scopes(world, PRO_OTHER)  # demo-brugge is not registered in this history
    assert other == {"flanders": False, "regions": [], "projects": []}


def test_the_government_sees_flanders_and_no_region_or_project_of_its_own(world: World) -> None:
    found = scopes(world, "dev-government")
    assert found == {"flanders": True, "regions": [], "projects": []}
    published = world.post(overview(title="Vlaanderen, eerste kwartaal"), "dev-government")
    assert published.status_code == 201, published.text
    assert world.get(f"/reports/{published.json()['report_id']}", "dev-government").status_code == 200
    for fields in ({"audience": "coordinator", "region": R1}, {"audience": "project", "project_id": "pA"}):
        refused = world.post(overview(**fields), "dev-government")
        assert refused.status_code == 403, refused.text
    assert world.get("/reports/projects/pA/summary", "dev-government").status_code == 403


def test_a_buddy_and_an_anonymous_caller_get_nothing(world: World) -> None:
    assert scopes(world, "dev-buddy") == {"flanders": False, "regions": [], "projects": []}
    assert world.get("/scopes", None).status_code == 401


def test_a_published_report_keeps_its_title_outside_its_parameters(world: World) -> None:
    resp = world.post(overview(title="Kwartaalrapport Vlaanderen"))
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert report["title"] == "Kwartaalrapport Vlaanderen"
    assert "title" not in report["parameters"]
    assert world.get(f"/reports/{report['report_id']}").json()["title"] == "Kwartaalrapport Vlaanderen"
    listed = {r["report_id"]: r for r in world.get("/reports").json()["items"]}
    assert listed[report["report_id"]]["title"] == "Kwartaalrapport Vlaanderen"
    untitled = world.post(overview(period_start="2025-10-01", period_end="2025-12-31")).json()
    assert untitled["title"] is None


def test_a_title_longer_than_200_characters_is_refused(world: World) -> None:
    resp = world.post(overview(title="x" * 201))
    assert resp.status_code == 422
    assert any(e["field"] == "title" for e in resp.json()["errors"])
