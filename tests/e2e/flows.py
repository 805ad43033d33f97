"""Steps of the thin slice through the public APIs, shared by the end-to-end tests."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from shared.clock import brussels_day
from tests.e2e.system import Api, eventually

ADMIN, PRO, PRO_OTHER, COORDINATOR, AUDITOR = (
    "dev-admin", "dev-professional", "dev-professional-other", "dev-coordinator", "dev-auditor",
)
PRODUCERS = ("recruitment", "matching", "followup")


def register_project(api: Api, project_id: str, *, nis: str = "11002", region: str = "antwerpen-kempen",
                     token: str = ADMIN) -> dict[str, Any]:
    return api.ok(api.post("recruitment", "/projects", token, {
        "project_id": project_id, "name": f"Project {project_id}", "organisation": "Testvzw",
        "municipality_nis": nis, "region": region, "target_groups": ["individual_adult", "family"],
    }), 201)


_BORN = itertools.count()


def today() -> date:
    """The services' today: the calendar day in Belgium (from 22:00 or 23:00 UTC the next day)."""
    return brussels_day(datetime.now(UTC))


def _next_birth_date() -> str:
    """A different birth date (in 1980) for each default volunteer: the same name and birth date twice
    in a project is a likely duplicate, refused unless confirmed."""
    return (date(1980, 1, 1) + timedelta(days=next(_BORN) % 360)).isoformat()


def enquire(api: Api, project_id: str, *, token: str = PRO, nis: str = "11002",
            personal: dict[str, Any] | None = None, channel: str = "website", received_on: date | None = None) -> str:
    body: dict[str, Any] = {
        "channel": channel, "municipality_nis": nis, **({"received_on": received_on.isoformat()} if received_on else {}),
        "personal": personal or {"first_name": "Test", "last_name": "Vrijwilliger", "birth_date": _next_birth_date()}}
    return api.ok(api.post("recruitment", f"/projects/{project_id}/volunteers", token, body), 201)["volunteer_id"]


def prepare(api: Api, volunteer_id: str, *, token: str = PRO, on: date | None = None) -> dict[str, Any]:
    """The recruitment steps before availability: intake, approved screening, one coaching session."""
    day = (on or today()).isoformat()  # the services' "today" is the Belgian calendar day
    api.ok(api.post("recruitment", f"/volunteers/{volunteer_id}/intake", token, {"held_on": day}))
    api.ok(api.post("recruitment", f"/volunteers/{volunteer_id}/screening", token,
                    {"screened_on": day, "outcome": "approved"}))
    return api.ok(api.post("recruitment", f"/volunteers/{volunteer_id}/training", token,
                           {"session_on": day, "kind": "individual_coaching", "hours": 2}))


def make_available(api: Api, volunteer_id: str, *, token: str = PRO, on: date | None = None) -> dict[str, Any]:
    """Intake, screening and a coaching session (if not done yet), then available for matching
    (``on``: all of it on that past day, entered after the fact)."""
    status = api.ok(api.get("recruitment", f"/volunteers/{volunteer_id}", token))["status"]
    if status == "enquired":
        prepare(api, volunteer_id, token=token, on=on)
    return api.ok(api.post("recruitment", f"/volunteers/{volunteer_id}/availability", token,
                           {"target_groups": ["individual_adult"], "languages": ["nl"],
                            **({"available_on": on.isoformat()} if on else {})}))


def refer(api: Api, project_id: str, *, token: str = PRO, nis: str = "11002",
          personal: dict[str, Any] | None = None, timeout: float = 20, referred_on: date | None = None) -> str:
    body = {"target_group": "individual_adult", "referrer_type": "social_services", "life_domains": ["isolation"],
            "municipality_nis": nis, "consent_recorded": True,
            **({"referred_on": referred_on.isoformat()} if referred_on else {}),
            "consent_scopes": ["matching", "data_processing", "followup_contact"],  # may be called after the duo
            "personal": personal or {"first_name": "Test", "last_name": "Deelnemer"}}

    def attempt() -> httpx.Response:
        resp = api.post("matching", f"/projects/{project_id}/participants", token, body)
        assert resp.status_code != 404, f"matching does not know project {project_id} yet: {resp.text}"
        return resp

    return api.ok(eventually(attempt, timeout=timeout), 201)["participant_id"]


def wait_for_candidates(api: Api, project_id: str, volunteer_ids: list[str], *, token: str = PRO,
                        timeout: float = 20) -> list[dict[str, Any]]:
    def seen() -> list[dict[str, Any]]:
        pool = api.ok(api.get("matching", f"/projects/{project_id}/candidates", token))["candidates"]
        missing = set(volunteer_ids) - {c["volunteer_id"] for c in pool}
        assert not missing, f"matching does not list {sorted(missing)} yet"
        return pool

    return eventually(seen, timeout=timeout)


def start_duo(api: Api, project_id: str, volunteer_id: str, participant_id: str, *, token: str = PRO,
              started_on: date | None = None) -> str:
    return api.ok(api.post("matching", f"/projects/{project_id}/duos", token, {
        "volunteer_id": volunteer_id, "participant_id": participant_id,
        # not before the referral nor the availability, both recorded today
        "started_on": (started_on or today()).isoformat(),
    }), 201)["duo_id"]


def propose(api: Api, project_id: str, volunteer_id: str, participant_id: str, *, token: str = PRO) -> str:
    """A professional proposes the volunteer to the participant (matching)."""
    return api.ok(api.post("matching", f"/projects/{project_id}/proposals", token, {
        "volunteer_id": volunteer_id, "participant_id": participant_id,
    }), 201)["duo_id"]


def accept(api: Api, duo_id: str, party: str, *, token: str = PRO) -> dict[str, Any]:
    return api.ok(api.post("matching", f"/duos/{duo_id}/acceptance", token, {"party": party}))


def kick_off(api: Api, duo_id: str, *, token: str = PRO, started_on: date | None = None,
             boundary_agreements: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"started_on": (started_on or today()).isoformat(),
                            "agreed_contacts_per_month": 2, "expected_duration_months": 12}
    if boundary_agreements is not None:
        body["boundary_agreements"] = boundary_agreements
    return api.ok(api.post("matching", f"/duos/{duo_id}/start", token, body))


def match_duo(api: Api, project_id: str, volunteer_id: str, participant_id: str, *, token: str = PRO,
              boundary_agreements: str | None = None) -> str:
    """The whole matching lifecycle: proposal, accepted by volunteer and participant, kick-off."""
    duo_id = propose(api, project_id, volunteer_id, participant_id, token=token)
    accept(api, duo_id, "volunteer", token=token)
    accept(api, duo_id, "participant", token=token)
    assert kick_off(api, duo_id, token=token, boundary_agreements=boundary_agreements)["status"] == "active"
    return duo_id


def end_duo(api: Api, duo_id: str, *, token: str = PRO, reason: str = "goals_reached", planned: bool = True,
            ended_on: date | None = None) -> dict[str, Any]:
    return api.ok(api.post("matching", f"/duos/{duo_id}/end", token, {
        "ended_on": (ended_on or today()).isoformat(), "reason": reason, "planned": planned,
    }))


def contact_body(*, note: str | None = None, minutes: Any = 60, days_ago: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {"contact_date": (today() - timedelta(days=days_ago)).isoformat(),
                            "minutes": minutes, "mode": "in_person", "activities": ["walk"]}
    if note is not None:
        body["note"] = note
    return body


def log_contact(api: Api, duo_id: str, *, token: str = PRO, note: str | None = None, timeout: float = 20) -> str:
    """Followup answers 404 until it has learned the duo from matching's events: poll."""
    def attempt() -> httpx.Response:
        resp = api.post("followup", f"/duos/{duo_id}/contacts", token, contact_body(note=note))
        assert resp.status_code != 404, f"followup does not know duo {duo_id} yet: {resp.text}"
        return resp

    return api.ok(eventually(attempt, timeout=timeout), 201)["contact_id"]


def heads(api: Api, token: str = AUDITOR) -> dict[str, int]:
    return {name: api.ok(api.get(name, "/events/head", token))["position"] for name in PRODUCERS}


def summary(api: Api, project_id: str, token: str | None = ADMIN) -> httpx.Response:
    return api.get("reporting", f"/reports/projects/{project_id}/summary", token)


def wait_until_reporting_caught_up(api: Api, project_id: str, *, timeout: float = 20) -> dict[str, Any]:
    """The summary once reporting has applied everything every producer has recorded."""
    def caught_up() -> dict[str, Any]:
        resp = summary(api, project_id)
        assert resp.status_code == 200, f"{resp.status_code}: {resp.text}"
        body = resp.json()
        expected = heads(api)
        assert body["computed_from"] == expected, f"computed_from {body['computed_from']} != heads {expected}"
        return body

    return eventually(caught_up, timeout=timeout)


UPSTREAMS = {"matching": ("recruitment",), "followup": ("matching", "recruitment"), "reporting": PRODUCERS,
             "recruitment": ("matching",)}


def checkpoints(api: Api, consumer: str) -> dict[str, int]:
    """A consumer's last applied position per upstream, from its /metrics."""
    text = api.get(consumer, "/metrics").text
    found = {m.group(1): int(float(m.group(2)))
             for m in re.finditer(r'^buddy_consumer_checkpoint\{upstream="([^"]+)"\} (\S+)$', text, re.M)}
    return found


def wait_consumed(api: Api, consumer: str, *, timeout: float = 20) -> None:
    """Wait until ``consumer`` has applied everything its upstreams have recorded so far."""
    wanted = {u: api.ok(api.get(u, "/events/head", "dev-auditor"))["position"] for u in UPSTREAMS[consumer]}

    def caught_up() -> bool:
        have = checkpoints(api, consumer)
        behind = {u: (have.get(u), p) for u, p in wanted.items() if have.get(u, 0) < p}
        assert not behind, f"{consumer} is behind (checkpoint, head): {behind}"
        return True

    eventually(caught_up, timeout=timeout)
