"""A volunteer's journey across the running services: four processes, real Redis, SQLite files.

Recruitment takes the volunteer from enquiry to available; matching starts a duo and
recruitment learns it from matching's stream (in a duo), then the end of the duo
(available again); the name is found through the blind index; erasure leaves the log
verifiable by ``buddy audit verify``; no consumer dead-letters any of the new events.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
import redis

from tests.e2e import flows
from tests.e2e.flows import AUDITOR, PRO, PRO_OTHER
from tests.e2e.system import REPO_ROOT, Api, ServiceSystem, clean_environ, eventually

pytestmark = pytest.mark.e2e


def status(api: Api, volunteer_id: str) -> str:
    return api.ok(api.get("recruitment", f"/volunteers/{volunteer_id}", PRO))["status"]


def test_the_journey_follows_the_duo_and_survives_erasure(system: ServiceSystem, api: Api, redis_url: str) -> None:
    project_id = "demo-antwerpen"
    today = datetime.now(UTC).date().isoformat()
    flows.register_project(api, project_id)
    volunteer_id = flows.enquire(api, project_id, channel="other_volunteer_work",
                                 personal={"first_name": "Wannes", "last_name": "Van Acker", "birth_date": "1994-05-06"})
    flows.prepare(api, volunteer_id)
    for item in ("information_notice", "insurance"):
        api.ok(api.post("recruitment", f"/volunteers/{volunteer_id}/legal-items", PRO, {"item": item, "dated": today}))
    assert flows.make_available(api, volunteer_id)["status"] == "available"
    api.ok(api.post("recruitment", f"/volunteers/{volunteer_id}/keep-warm", PRO,
                    {"contacted_on": today, "kind": "activity_invitation", "note": "Komt naar de buddydag"}))

    flows.wait_for_candidates(api, project_id, [volunteer_id])
    participant_id = flows.refer(api, project_id)
    duo_id = flows.start_duo(api, project_id, volunteer_id, participant_id)
    eventually(lambda: status(api, volunteer_id) == "in_duo", timeout=30)
    board = api.ok(api.get("recruitment", f"/projects/{project_id}/waiting-board", PRO))
    assert {s["stage"]: s["count"] for s in board["stages"]}["in_duo"] == 1

    api.ok(api.post("matching", f"/duos/{duo_id}/end", PRO, {"ended_on": today, "reason": "goals_reached", "planned": True}))
    eventually(lambda: status(api, volunteer_id) == "available", timeout=30)
    history = api.ok(api.get("recruitment", f"/volunteers/{volunteer_id}/history", PRO))["items"]
    assert [e["type"] for e in history][-2:] == ["VolunteerJoinedDuo", "VolunteerLeftDuo"]

    found = api.ok(api.get("recruitment", f"/projects/{project_id}/volunteers", PRO, params={"name": "van acker"}))
    assert [v["volunteer_id"] for v in found["items"]] == [volunteer_id]
    assert api.get("recruitment", f"/volunteers/{volunteer_id}", PRO_OTHER).status_code == 403

    api.ok(api.post("recruitment", f"/volunteers/{volunteer_id}/erasure", PRO))
    assert api.ok(api.get("recruitment", f"/volunteers/{volunteer_id}", PRO))["personal"] is None
    assert api.ok(api.get("recruitment", f"/projects/{project_id}/volunteers", PRO, params={"name": "wannes"}))["total"] == 0
    flows.wait_consumed(api, "recruitment")
    flows.wait_until_reporting_caught_up(api, project_id, timeout=30)
    for consumer in ("matching", "followup", "reporting"):
        flows.wait_consumed(api, consumer)

    client = redis.Redis.from_url(redis_url)
    try:
        dead = {name: client.xlen(f"{system.key_prefix}:deadletter:{name}")
                for name in ("recruitment", "matching", "followup", "reporting")}
    finally:
        client.close()
    assert dead == dict.fromkeys(dead, 0), f"events were dead-lettered: {dead}"
    feed = repr(api.ok(api.get("recruitment", "/events", AUDITOR, params={"limit": 5000})))
    assert "Wannes" not in feed and "Acker" not in feed and "buddydag" not in feed

    env = clean_environ() | {"BUDDY_DATA_DIR": str(system.data_dir)}
    cli = subprocess.run([sys.executable, "-m", "shared.cli", "audit", "verify", "--service", "recruitment"],
                         cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert cli.stdout.startswith("recruitment:") and " ok" in cli.stdout and "BROKEN" not in cli.stdout + cli.stderr
