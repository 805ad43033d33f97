"""Overview reports end to end: published by the running reporting service (now and as known
on a date, the latter rebuilt from the producers' HTTP feeds), and reproduced by
`buddy audit reproduce` after the world has moved on."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e import flows
from tests.e2e.flows import ADMIN, COORDINATOR, PRO
from tests.e2e.system import REPO_ROOT, Api, ServiceSystem

pytestmark = pytest.mark.e2e


def reproduce(system: ServiceSystem, report_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shared.cli", "audit", "reproduce", report_id], cwd=REPO_ROOT,
                          env=system.env, capture_output=True, text=True, timeout=120)


def test_overview_reports_are_published_and_reproduced(system: ServiceSystem, api: Api) -> None:
    project_id = "demo-antwerpen"
    flows.register_project(api, project_id)
    volunteers = [flows.enquire(api, project_id) for _ in range(2)]
    for volunteer_id in volunteers:
        flows.make_available(api, volunteer_id)
    flows.wait_for_candidates(api, project_id, volunteers)
    participant_id = flows.refer(api, project_id)
    duo_id = flows.start_duo(api, project_id, volunteers[0], participant_id)
    flows.log_contact(api, duo_id)
    flows.wait_until_reporting_caught_up(api, project_id, timeout=30)

    today = datetime.now(UTC).date()
    period = {"period_start": f"{today.year}-01-01", "period_end": f"{today.year}-12-31", "grain": "quarter"}
    published: dict[str, dict[str, Any]] = {}
    for name, token, body in [
        ("flanders", ADMIN, {"audience": "government"}),
        ("region", COORDINATOR, {"audience": "coordinator", "region": "antwerpen-kempen"}),
        ("project", PRO, {"audience": "project", "project_id": project_id}),
        ("known-on", ADMIN, {"audience": "government", "as_known_on": today.isoformat()}),
    ]:
        resp = api.post("reporting", "/reports", token, {"kind": "overview", **period, **body})
        assert resp.status_code == 201, (name, resp.text)
        published[name] = resp.json()
    assert published["flanders"]["computed_from"] == flows.heads(api)
    assert published["known-on"]["computed_from"] == flows.heads(api)  # everything was recorded today
    contacts = next(v for s in published["project"]["content"]["sections"] for v in s["tables"]
                    if v["indicator"] == "contacts" and v["table"]["name"] == "by_period")
    assert contacts["table"]["cells"][-1]["value"] is None  # one contact: below the threshold, hidden

    # the world moves on, then every report is reproduced from its watermark
    flows.log_contact(api, duo_id)
    flows.wait_until_reporting_caught_up(api, project_id, timeout=30)
    for name, report in published.items():
        done = reproduce(system, report["report_id"])
        assert done.returncode == 0, (name, done.stdout, done.stderr)
        assert "reproduced" in done.stdout and report["content_hash"] in done.stdout, done.stdout
    assert api.get("reporting", f"/reports/{published['region']['report_id']}", COORDINATOR).status_code == 200
    assert api.get("reporting", f"/reports/{published['flanders']['report_id']}", COORDINATOR).status_code == 403
