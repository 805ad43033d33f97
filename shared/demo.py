"""A small demo data set, loaded through the public APIs exactly as a user would.

The demo people's roles and assignments are recorded in the staff register first (by the
bootstrap admin, ``dev-admin``), as an admin would; then they do their work. All names are
invented. Loading twice is harmless: the second run sees the projects
and stops.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

#: The demo people's place in the staff register: (sign-in subject, name, e-mail, roles, projects, regions).
#: The dev tokens name who they are; these assignments, recorded as events by the demo load
#: (``load_demo_staff``), say what they may do. ``dev-admin`` is the bootstrap admin besides.
DEMO_STAFF: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    ("dev-admin", "An Peeters", "an.peeters@example.org", ("admin",), (), ()),
    ("dev-professional", "Jonas Claes", "jonas.claes@example.org", (), ("demo-antwerpen", "demo-gent"), ()),
    ("dev-professional-other", "Sara Janssens", "sara.janssens@example.org", (), ("demo-brugge",), ()),
    ("dev-coordinator", "Wim Maes", "wim.maes@example.org", (), (), ("antwerpen-kempen",)),
    ("dev-government", "Els Wouters", "els.wouters@example.org", ("government",), (), ()),
    ("dev-auditor", "Lotte Jacobs", "lotte.jacobs@example.org", ("auditor",), (), ()),
]

PROJECTS = [
    ("demo-antwerpen", "Buddywerking Antwerpen (demo)", "11002", "antwerpen-kempen"),
    ("demo-gent", "Samen Sterk Gent (demo)", "44021", "oost-vlaanderen"),
    ("demo-brugge", "Buddy Brugge (demo)", "31005", "west-vlaanderen"),
]


def _call(client: httpx.Client, method: str, url: str, token: str, body: Any = None, retry_404_s: float = 0,
          tries: int = 5) -> httpx.Response:
    """One API call; retries 404 for a while where another service has yet to learn an id.

    A command carries a fresh ``Idempotency-Key``, the same on every retry: a retry after a
    lost answer (a dropped connection, a 503) is answered, never recorded a second time.
    """
    headers = {"Authorization": f"Bearer {token}"}
    if method != "GET":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    deadline = time.monotonic() + retry_404_s
    failed = 0  # tries without an answer to act on
    while True:
        try:
            resp = client.request(method, url, json=body, headers=headers)
        except httpx.TransportError:
            failed += 1
            if failed == tries:
                raise
            time.sleep(0.2 * failed)
            continue
        if resp.status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.2)
            continue
        if resp.status_code in (409, 503) and resp.headers.get("retry-after") and failed + 1 < tries:
            failed += 1
            time.sleep(min(float(resp.headers["retry-after"]), 2.0))  # unavailable, or the key still in use
            continue
        return resp


def _wait_for_candidate(client: httpx.Client, url: str, project_id: str, volunteer_id: str, timeout_s: float) -> None:
    """Matching learns availability from recruitment's events, a moment after it was recorded."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pool = _call(client, "GET", f"{url}/projects/{project_id}/candidates", "dev-professional", retry_404_s=timeout_s)
        if pool.status_code == 200 and any(c["volunteer_id"] == volunteer_id for c in pool.json()["candidates"]):
            return
        time.sleep(0.2)
    raise TimeoutError(f"matching did not see volunteer {volunteer_id} within {timeout_s} s")


def _received_on(i: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=67 + 7 * i)).isoformat()


def _prepare_volunteer(client: httpx.Client, url: str, volunteer_id: str, i: int) -> None:
    """The recruitment journey before availability: intake, approved screening, coaching, legal items."""
    start = datetime.now(UTC).date() - timedelta(days=60 + 7 * i)  # the services' "today" is the UTC date
    steps: list[tuple[str, dict[str, Any]]] = [
        ("intake", {"held_on": start.isoformat()}),
        ("screening", {"screened_on": (start + timedelta(days=7)).isoformat(), "outcome": "approved"}),
        ("training", {"session_on": (start + timedelta(days=14)).isoformat(), "kind": "individual_coaching", "hours": 2}),
        ("legal-items", {"item": "information_notice", "dated": (start + timedelta(days=7)).isoformat()}),
        ("legal-items", {"item": "insurance", "dated": (start + timedelta(days=7)).isoformat()}),
    ]
    for path, body in steps:
        _call(client, "POST", f"{url}/volunteers/{volunteer_id}/{path}", "dev-professional", body).raise_for_status()


def _match(client: httpx.Client, url: str, project_id: str, volunteer_id: str, participant_id: str) -> str:
    """Matching's steps for one duo: propose, both accept, kick off (agreements stay private)."""
    d = _call(client, "POST", f"{url}/projects/{project_id}/proposals", "dev-professional",
              {"volunteer_id": volunteer_id, "participant_id": participant_id})
    d.raise_for_status()
    duo_id = d.json()["duo_id"]
    for party in ("volunteer", "participant"):
        _call(client, "POST", f"{url}/duos/{duo_id}/acceptance", "dev-professional", {"party": party}).raise_for_status()
    _call(client, "POST", f"{url}/duos/{duo_id}/start", "dev-professional", {
        "started_on": datetime.now(UTC).date().isoformat(), "agreed_contacts_per_month": 2,
        "expected_duration_months": 12, "boundary_agreements": "Afspraken over grenzen (demo): geen geld lenen.",
    }).raise_for_status()
    return duo_id


def load_demo_staff(client: httpx.Client, recruitment_url: str) -> int:
    """The demo people's invitations, roles and assignments, through the staff API as the bootstrap admin.

    Each person once: someone already signing in with their subject is left as they are.
    Returns how many were invited.
    """
    known = _call(client, "GET", f"{recruitment_url}/staff", "dev-admin")
    known.raise_for_status()
    subjects = {m["subject"] for m in known.json()["items"]}
    invited = 0
    for subject, name, email, roles, projects, regions in DEMO_STAFF:
        if subject in subjects:
            continue
        created = _call(client, "POST", f"{recruitment_url}/staff", "dev-admin",
                        {"name": name, "email": email, "subject": subject})
        created.raise_for_status()
        staff = f"{recruitment_url}/staff/{created.json()['staff_id']}"
        for role in roles:
            _call(client, "POST", f"{staff}/roles", "dev-admin", {"role": role}).raise_for_status()
        for project_id in projects:
            _call(client, "POST", f"{staff}/projects", "dev-admin", {"project_id": project_id}).raise_for_status()
        for region in regions:
            _call(client, "POST", f"{staff}/regions", "dev-admin", {"region": region}).raise_for_status()
        invited += 1
    return invited


def _wait_for_scope(client: httpx.Client, urls: dict[str, str], timeout_s: float) -> None:
    """The other services learn the staff register from the bus: wait until each answers by it."""
    project = PROJECTS[0][0]
    probes = [(f"{urls['matching']}/projects/{project}/candidates", "dev-professional"),
              (f"{urls['followup']}/projects/{project}/duos", "dev-professional"),
              (f"{urls['reporting']}/scopes", "dev-coordinator")]
    deadline = time.monotonic() + timeout_s
    for url, token in probes:
        while _call(client, "GET", url, token).status_code == 403:  # 404: the project is not learned yet, fine
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not learn the staff register within {timeout_s} s")
            time.sleep(0.2)


def load_demo(urls: dict[str, str], *, volunteers_per_project: int = 4, timeout_s: float = 30) -> str:
    with httpx.Client(timeout=10) as client:
        first = _call(client, "GET", f"{urls['recruitment']}/projects/{PROJECTS[0][0]}", "dev-admin")
        if first.status_code == 200:
            load_demo_staff(client, urls["recruitment"])  # a register left unfinished is completed
            return "Demodata zijn al geladen / Demo data already loaded."
        for project_id, name, nis, region in PROJECTS:
            _call(client, "POST", f"{urls['recruitment']}/projects", "dev-admin", {
                "project_id": project_id, "name": name, "organisation": "Demo vzw", "municipality_nis": nis,
                "region": region, "target_groups": ["individual_adult", "family"],
            }).raise_for_status()
        load_demo_staff(client, urls["recruitment"])
        _wait_for_scope(client, urls, timeout_s)
        duos = contacts = 0
        for project_id, _, nis, _ in PROJECTS[:2]:  # dev-professional works in these two
            for i in range(volunteers_per_project):
                v = _call(client, "POST", f"{urls['recruitment']}/projects/{project_id}/volunteers", "dev-professional", {
                    "channel": ["word_of_mouth", "website", "volunteer_platform", "social_media"][i % 4],
                    "municipality_nis": nis, "received_on": _received_on(i),
                    "personal": {"first_name": f"Demo{i}", "last_name": "Vrijwilliger",
                                 "email": f"demo{i}@example.org", "birth_date": f"{1960 + 7 * i}-05-0{1 + i}"},
                })
                v.raise_for_status()
                volunteer_id = v.json()["volunteer_id"]
                _prepare_volunteer(client, urls["recruitment"], volunteer_id, i)
                _call(client, "POST", f"{urls['recruitment']}/volunteers/{volunteer_id}/availability", "dev-professional",
                      {"target_groups": ["individual_adult"], "languages": ["nl", "fr"]}).raise_for_status()
                p = _call(client, "POST", f"{urls['matching']}/projects/{project_id}/participants", "dev-professional", {
                    "target_group": "individual_adult", "referrer_type": ["social_services", "mental_health_centre"][i % 2],
                    "life_domains": ["isolation"], "municipality_nis": nis, "consent_recorded": True,
                    "languages": ["nl"], "wishes": ["company", "going_out"],
                    "interests": [["walking", "cooking"], ["music", "culture"]][i % 2],
                    "availability": [{"day": "sat", "part": "afternoon"}],
                    "personal": {"first_name": f"Demo{i}", "last_name": "Deelnemer"},
                }, retry_404_s=timeout_s)
                p.raise_for_status()
                if i % 2:
                    continue  # half of them keep waiting, so the pool is not empty
                _wait_for_candidate(client, urls["matching"], project_id, volunteer_id, timeout_s)
                participant_id = p.json()["participant_id"]
                if i % 4 == 2:  # the matching lifecycle: proposal, accepted by both, kick-off in the triangle
                    _match(client, urls["matching"], project_id, volunteer_id, participant_id)
                    duos += 1
                    continue
                d = _call(client, "POST", f"{urls['matching']}/projects/{project_id}/duos", "dev-professional", {
                    "volunteer_id": volunteer_id, "participant_id": participant_id,  # a running duo, registered
                    "started_on": (date.today() - timedelta(days=40)).isoformat(),
                }, retry_404_s=timeout_s)
                d.raise_for_status()
                duos += 1
                for week in range(3):
                    _call(client, "POST", f"{urls['followup']}/duos/{d.json()['duo_id']}/contacts", "dev-professional", {
                        "contact_date": (date.today() - timedelta(days=30 - 7 * week)).isoformat(), "minutes": 90,
                        "mode": "in_person", "activities": ["walk", "coffee_or_chat"],
                    }, retry_404_s=timeout_s).raise_for_status()
                    contacts += 1
        return f"Demodata geladen / Demo data loaded: {len(PROJECTS)} projects, {duos} duos, {contacts} contacts."
