"""The staff register over HTTP and the bus: recruitment records it, matching learns it.

Recruitment and matching run in this process on a real Redis, starting with an empty
register (only the bootstrap admin, ``dev-admin``, may act). The admin invites a
professional by name and e-mail, assigns a project, links the sign-in subject; recruitment
answers by it at once, matching as soon as it has consumed the events. Removal takes it
all away again, everywhere. Along the way: the region list is enforced, the history
names who did what, a subject signs in as one staff member only, the last admin stays,
and the name and e-mail address never reach the bus.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from services.matching.bootstrap import build as build_matching
from services.recruitment.bootstrap import build as build_recruitment
from shared.settings import Settings

pytestmark = pytest.mark.own_staff_register
NOWHERE = {"recruitment": "http://127.0.0.1:9", "matching": "http://127.0.0.1:9"}
PROJECT = {"project_id": "p-staff", "name": "Buddy Mechelen", "organisation": "Vzw Samen",
           "municipality_nis": "12025", "region": "antwerpen-kempen", "target_groups": ["family"]}


def auth(token: str, command: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if command:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return headers


def ok(resp: Any, status: int = 200) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    return resp.json()


def eventually(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


def test_an_admin_invites_assigns_links_and_removes(settings_factory: Callable[..., Settings], redis_url: str,
                                                    key_prefix: str) -> None:
    settings = settings_factory(service_urls=NOWHERE)
    with TestClient(build_recruitment(settings)) as rc, TestClient(build_matching(settings)) as mt:
        # nobody but the bootstrap admin yet: a clear 403 that names the subject for the admin
        refused = rc.get("/projects", headers=auth("dev-professional"))
        assert refused.status_code == 403
        assert "dev-professional" in refused.json()["detail"] and " / " in refused.json()["detail"]

        # regions are a fixed list
        bad = rc.post("/projects", json={**PROJECT, "region": "atlantis"}, headers=auth("dev-admin", True))
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "region" and "antwerpen-kempen" in bad.json()["detail"]
        ok(rc.post("/projects", json=PROJECT, headers=auth("dev-admin", True)), 201)
        regions = ok(rc.get("/regions", headers=auth("dev-admin")))["items"]
        assert {"code": "west-vlaanderen", "name": "West-Vlaanderen", "name_en": "West Flanders"} in regions

        # invite, assign, link
        staff_id = ok(rc.post("/staff", json={"name": "Jonas Claes", "email": "jonas.claes@example.org"},
                              headers=auth("dev-admin", True)), 201)["staff_id"]
        unknown = rc.post(f"/staff/{staff_id}/projects", json={"project_id": "p-nowhere"},
                          headers=auth("dev-admin", True))
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "project_id"
        assert ok(rc.post(f"/staff/{staff_id}/projects", json={"project_id": "p-staff"},
                          headers=auth("dev-admin", True)))["role"] == "professional"
        assert rc.get("/projects/p-staff", headers=auth("dev-professional")).status_code == 403  # not linked yet
        ok(rc.put(f"/staff/{staff_id}/subject", json={"subject": "dev-professional"}, headers=auth("dev-admin", True)))
        ok(rc.get("/projects/p-staff", headers=auth("dev-professional")))  # recruitment: at once
        me = ok(rc.get("/staff/me", headers=auth("dev-professional")))
        assert me == {"subject": "dev-professional", "role": "professional", "projects": ["p-staff"], "regions": []}
        # matching learns it from the bus
        eventually(lambda: mt.get("/projects/p-staff/candidates", headers=auth("dev-professional")).status_code == 200,
                   "matching lets the professional in")
        assert mt.get("/projects/p-other/candidates", headers=auth("dev-professional")).status_code == 403

        # a subject signs in as one staff member only
        taken = rc.post("/staff", json={"name": "Iemand Anders", "email": "anders@example.org",
                                        "subject": "dev-professional"}, headers=auth("dev-admin", True))
        assert taken.status_code == 409 and taken.json()["code"] == "subject_taken"

        # an auditor reads the register and the history by name; a professional does not
        auditor = ok(rc.post("/staff", json={"name": "Lotte Jacobs", "email": "lotte@example.org",
                                             "subject": "dev-auditor"}, headers=auth("dev-admin", True)), 201)
        ok(rc.post(f"/staff/{auditor['staff_id']}/roles", json={"role": "auditor"}, headers=auth("dev-admin", True)))
        assert rc.get("/staff", headers=auth("dev-professional")).status_code == 403
        listed = {m["staff_id"]: m for m in ok(rc.get("/staff", headers=auth("dev-auditor")))["items"]}
        jonas = listed[staff_id]
        assert (jonas["name"], jonas["email"], jonas["role"]) == ("Jonas Claes", "jonas.claes@example.org",
                                                                  "professional")
        assert jonas["project_names"] == [{"project_id": "p-staff", "title": "Buddy Mechelen"}]
        history = ok(rc.get(f"/staff/{staff_id}/history", headers=auth("dev-auditor")))["items"]
        assert [h["type"] for h in history] == ["StaffInvited", "StaffAssignedToProject", "StaffSubjectLinked"]
        assert {h["actor"]["id"] for h in history} == {"dev-admin"}
        assert history[1]["change"] == {"project_id": "p-staff"}

        # removal ends it, here at once and in matching once learned
        ok(rc.post(f"/staff/{staff_id}/removal", headers=auth("dev-admin", True)))
        assert rc.get("/projects/p-staff", headers=auth("dev-professional")).status_code == 403
        eventually(lambda: mt.get("/projects/p-staff/candidates", headers=auth("dev-professional")).status_code == 403,
                   "matching shuts the removed professional out")
        again = rc.post(f"/staff/{staff_id}/projects", json={"project_id": "p-staff"}, headers=auth("dev-admin", True))
        assert again.status_code == 409 and " / " in again.json()["detail"]

    # what went over the bus: staff ids and subjects, never a name or an e-mail address
    client = redis.Redis.from_url(redis_url)
    entries = client.xrange(f"{key_prefix}:events:recruitment")
    published = b" ".join(v for _, fields in entries for v in fields.values())
    assert b"StaffInvited" in published
    for secret in (b"Jonas", b"Claes", b"jonas.claes@example.org", b"lotte@example.org"):
        assert secret not in published


def test_the_last_admin_keeps_the_role(settings_factory: Callable[..., Settings]) -> None:
    """Without a bootstrap admin (production), the register never loses its last admin."""
    settings = settings_factory(service_urls=NOWHERE, bootstrap_admins="boot-admin")
    with TestClient(build_recruitment(settings)) as rc:
        # a token for a bootstrap admin other than dev-admin is not at hand: dev-admin records the admins
        admin = ok(rc.post("/staff", json={"name": "An Peeters", "email": "an@example.org", "subject": "an-sub"},
                           headers=auth("dev-admin", True)), 201)["staff_id"]
        ok(rc.post(f"/staff/{admin}/roles", json={"role": "admin"}, headers=auth("dev-admin", True)))
        handlers = rc.app.state.runtime  # type: ignore[attr-defined]
        handlers.settings = settings.model_copy(update={"dev_tokens": False, "bootstrap_admins": ""})
        refused = rc.delete(f"/staff/{admin}/roles/admin", headers=auth("dev-admin", True))
        assert refused.status_code == 409 and refused.json()["code"] == "last_admin"
        refused = rc.post(f"/staff/{admin}/removal", headers=auth("dev-admin", True))
        assert refused.status_code == 409 and refused.json()["code"] == "last_admin"
