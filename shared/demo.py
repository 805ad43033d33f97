"""The demo data set, loaded through the public APIs exactly as a user would.

Three parts. The demo people's roles and assignments are recorded in the staff register
first (by the bootstrap admin, ``dev-admin``), as an admin would. Then a handful of people
in three projects walk every path once (a proposal accepted and kicked off, a duo
registered, people still waiting). Then a year of work in every demo project, the most
in the regional coordinator's (Antwerpen-Kempen, project ``demo-antwerpen``): volunteers
enquiring every month and going through intake, screening, coaching and the legal items,
participants referred, duos started over the months with their contacts, group coaching and
intervision. That last part is big enough that the coordinator's figures page shows real
numbers under the default disclosure threshold (10) instead of hidden cells: a demo of the
reports must show figures, not only dashes. Every region needs its share, because regions
are protected together with all of Flanders (see ``YEARS``).

The year is loaded with a few calls in flight at once (the services take them
concurrently; every call carries its own ``Idempotency-Key``), so it adds well under a
minute to ``buddy run`` on a small machine. All names are invented. Loading twice is
harmless: the second run sees the projects and stops.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from shared.clock import brussels_day
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


def _today() -> date:
    """The services' today: the calendar day in Belgium."""
    return brussels_day(datetime.now(UTC))


def _received_on(i: int) -> str:
    return (_today() - timedelta(days=67 + 7 * i)).isoformat()


def _available_on(i: int) -> date:
    """A week after the coaching session that ends the preparation (:func:`_prepare_volunteer`)."""
    return _today() - timedelta(days=39 + 7 * i)


def _referred_on(i: int) -> date:
    return _today() - timedelta(days=45 + 2 * i)


#: The demo's duos started some weeks ago, after the referral and the availability, with a
#: contact every week since.
DUO_STARTED_DAYS_AGO = 30
CONTACT_DAYS_AGO = (23, 16, 9)


def _prepare_volunteer(client: httpx.Client, url: str, volunteer_id: str, i: int) -> None:
    """The recruitment journey before availability: intake, approved screening, coaching, legal items."""
    start = _today() - timedelta(days=60 + 7 * i)
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
    proposed_on = _today() - timedelta(days=DUO_STARTED_DAYS_AGO + 5)
    d = _call(client, "POST", f"{url}/projects/{project_id}/proposals", "dev-professional",
              {"volunteer_id": volunteer_id, "participant_id": participant_id, "proposed_on": proposed_on.isoformat()})
    d.raise_for_status()
    duo_id = d.json()["duo_id"]
    for party in ("volunteer", "participant"):
        _call(client, "POST", f"{url}/duos/{duo_id}/acceptance", "dev-professional", {"party": party}).raise_for_status()
    _call(client, "POST", f"{url}/duos/{duo_id}/start", "dev-professional", {
        "started_on": (_today() - timedelta(days=DUO_STARTED_DAYS_AGO)).isoformat(), "agreed_contacts_per_month": 2,
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


def load_demo(urls: dict[str, str], *, volunteers_per_project: int = 4, timeout_s: float = 30,
              year: bool = True) -> str:
    """The demo people, then (``year``) a year of work in Antwerpen-Kempen; a line saying what was loaded."""
    started = time.monotonic()
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
                      {"target_groups": ["individual_adult"], "languages": ["nl", "fr"],
                       "available_on": _available_on(i).isoformat()}).raise_for_status()
                p = _call(client, "POST", f"{urls['matching']}/projects/{project_id}/participants", "dev-professional", {
                    "target_group": "individual_adult", "referrer_type": ["social_services", "mental_health_centre"][i % 2],
                    "life_domains": ["isolation"], "municipality_nis": nis, "consent_recorded": True,
                    "consent_scopes": ["matching", "data_processing", "followup_contact"],
                    "languages": ["nl"], "wishes": ["company", "going_out"],
                    "interests": [["walking", "cooking"], ["music", "culture"]][i % 2],
                    "availability": [{"day": "sat", "part": "afternoon"}],
                    "referred_on": _referred_on(i).isoformat(),
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
                # A running duo agreed some weeks ago, registered after the fact: it starts after the
                # participant's referral and the volunteer's availability, both entered with their real day.
                d = _call(client, "POST", f"{urls['matching']}/projects/{project_id}/duos", "dev-professional", {
                    "volunteer_id": volunteer_id, "participant_id": participant_id,
                    "started_on": (_today() - timedelta(days=DUO_STARTED_DAYS_AGO)).isoformat(),
                }, retry_404_s=timeout_s)
                d.raise_for_status()
                duos += 1
                for days_ago in CONTACT_DAYS_AGO:
                    _call(client, "POST", f"{urls['followup']}/duos/{d.json()['duo_id']}/contacts", "dev-professional", {
                        "contact_date": (_today() - timedelta(days=days_ago)).isoformat(), "minutes": 90,
                        "mode": "in_person", "activities": ["walk", "coffee_or_chat"],
                    }, retry_404_s=timeout_s).raise_for_status()
                    contacts += 1
    volunteers = len(PROJECTS[:2]) * volunteers_per_project
    if year:
        for project, nis, token, per_month in YEARS:
            plan = load_year(urls, timeout_s=max(timeout_s, 60), project=project, nis=nis, token=token,
                             per_month=per_month)
            volunteers, duos, contacts = volunteers + len(plan.volunteers), duos + plan.duos, contacts + plan.contacts
    return (f"Demodata geladen / Demo data loaded: {len(PROJECTS)} projects, {volunteers} volunteers, {duos} duos, "
            f"{contacts} contacts ({time.monotonic() - started:.0f} s).")


# --------------------------------------------------------------------------- a year in the coordinator's region
YEAR_PROJECT, YEAR_NIS = "demo-antwerpen", "11002"
#: Every demo project gets a year of work, the coordinator's the most: regions are protected
#: together with all of Flanders (docs/disclosure.md), so a region's figures show only when the
#: other regions are not nearly empty (their small remainder would otherwise follow from
#: Flanders' total minus this region's, so this region's figures would be hidden to protect it).
YEARS = ((YEAR_PROJECT, YEAR_NIS, "dev-professional", 12), ("demo-gent", "44021", "dev-professional", 8),
         ("demo-brugge", "31005", "dev-professional-other", 8))
CHANNELS = ("word_of_mouth", "website", "volunteer_platform", "social_media", "event", "referral")
FIRST_NAMES = ("Anouk", "Bram", "Charlotte", "Dries", "Elif", "Floor", "Gert", "Hanne", "Ilias", "Jana", "Kobe",
               "Lien", "Milan", "Nora", "Omar", "Pieter", "Rania", "Stijn", "Tine", "Wout", "Yasmine", "Zoë")
LAST_NAMES = ("Aerts", "Bosmans", "Claessens", "De Smet", "Goossens", "Hermans", "Lambrechts", "Mertens", "Peeters",
              "Vermeulen", "Wouters", "Van Dyck")


@dataclass(frozen=True)
class PlannedVolunteer:
    """One volunteer of the year: the dates of their journey, and their duo if they get one."""

    index: int
    received_on: date
    intake_on: date
    approved_on: date | None  # None: stops after the intake (no time after all)
    coached_on: date | None
    duo_on: date | None
    contacts: tuple[date, ...]

    @property
    def available_on(self) -> date | None:
        """Available for matching on the day of the coaching that ends the preparation."""
        return self.coached_on

    @property
    def name(self) -> tuple[str, str]:
        return FIRST_NAMES[self.index % len(FIRST_NAMES)], LAST_NAMES[(self.index // len(FIRST_NAMES)) % len(LAST_NAMES)]


@dataclass(frozen=True)
class PlannedCoaching:
    kind: str  # "group" or "intervision"
    on: date
    volunteers: tuple[int, ...]  # indexes of planned volunteers in a duo by then (follow-up coaches buddies)
    theme: str


@dataclass(frozen=True)
class YearPlan:
    volunteers: tuple[PlannedVolunteer, ...]
    waiting_participants: int
    coaching: tuple[PlannedCoaching, ...]
    #: The participants' referral days: first those of the duos, in the volunteers' order
    #: (each on or before its duo's start), then those still waiting.
    referrals: tuple[date, ...] = ()

    @property
    def duos(self) -> int:
        return sum(1 for v in self.volunteers if v.duo_on is not None)

    @property
    def contacts(self) -> int:
        return sum(len(v.contacts) for v in self.volunteers)


THEMES = ("role_of_the_buddy", "boundaries", "communication", "motivation_and_expectations",
          "poverty_and_vulnerability", "mental_health", "cultural_sensitivity", "practical_questions")


def year_plan(today: date, *, months: int = 11, per_month: int = 12) -> YearPlan:
    """What the year holds: ``per_month`` enquiries in each of the last ``months`` months.

    Pure and deterministic. Every date lies on or before ``today`` (the services refuse the
    future); a step never precedes the one before it; a contact never precedes its duo's
    start; a duo never starts before its participant's referral or its volunteer's
    availability (matching refuses that). One in seven stops after the intake; of the others four in five are in a duo
    a month or so after they enquired, with a contact three or four weeks apart since. The
    buddies in a duo meet for group coaching every month and for intervision.
    """
    volunteers = []
    for m in range(months):
        for j in range(per_month):
            index = m * per_month + j
            received = today - timedelta(days=21 + 30 * m + (j * 29) // per_month)
            intake = received + timedelta(days=3)
            if j % 7 == 6:
                volunteers.append(PlannedVolunteer(index, received, intake, None, None, None, ()))
                continue
            approved, coached = received + timedelta(days=10), received + timedelta(days=17)
            duo_on = received + timedelta(days=30 + j % 10)
            if j % 5 == 4 or duo_on > today:
                volunteers.append(PlannedVolunteer(index, received, intake, approved, coached, None, ()))
                continue
            contacts = tuple(d for d in (duo_on + timedelta(days=days) for days in (7, 28, 56)) if d <= today)
            volunteers.append(PlannedVolunteer(index, received, intake, approved, coached, duo_on, contacts))
    coaching = []
    for m in range(months):
        on = today - timedelta(days=2 + 30 * m)
        ready = tuple(v.index for v in volunteers if v.duo_on is not None and v.duo_on <= on)[-15:]  # buddies in a duo
        if len(ready) >= 2:
            coaching.append(PlannedCoaching("group", on, ready, THEMES[m % len(THEMES)]))
        if len(ready) >= 4:
            coaching.append(PlannedCoaching("intervision", on - timedelta(days=9), ready[-4:],
                                            THEMES[(m + 3) % len(THEMES)]))
    waiting = max(4, per_month)
    referrals = [v.duo_on - timedelta(days=3 + (v.index * 5) % 40) for v in volunteers if v.duo_on is not None]
    referrals += [today - timedelta(days=(k * 11) % 120) for k in range(waiting)]
    return YearPlan(tuple(volunteers), waiting_participants=waiting, coaching=tuple(coaching),
                    referrals=tuple(referrals))


class _Clients:
    """One HTTP client per worker thread (a client's connection pool stays in its thread)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[httpx.Client] = []
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(timeout=30)
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


def _all_done(pool: ThreadPoolExecutor, work: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """Run ``work`` on every item, a few at once; the first failure is raised."""
    return [future.result() for future in [pool.submit(work, item) for item in items]]


def _ok(resp: httpx.Response) -> httpx.Response:
    if resp.status_code >= 400:
        raise RuntimeError(f"demo data: {resp.request.method} {resp.request.url.path} answered "
                           f"{resp.status_code}: {resp.text[:300]}")
    return resp


def load_year(urls: dict[str, str], *, today: date | None = None, months: int = 11, per_month: int = 12,
              workers: int = 6, timeout_s: float = 60, project: str = YEAR_PROJECT, nis: str = YEAR_NIS,
              token: str = "dev-professional") -> YearPlan:
    """Load :func:`year_plan` into ``project`` through the APIs, as ``token`` (a professional of it)."""
    today = today or _today()
    plan = year_plan(today, months=months, per_month=per_month)
    rec, mat, fol = urls["recruitment"], urls["matching"], urls["followup"]
    clients = _Clients()
    ids: dict[int, str] = {}

    def call(method: str, url: str, body: Any = None, retry_404_s: float = 0) -> httpx.Response:
        return _ok(_call(clients.get(), method, url, token, body, retry_404_s=retry_404_s))

    def volunteer(v: PlannedVolunteer) -> None:
        first, last = v.name
        vid = call("POST", f"{rec}/projects/{project}/volunteers", {
            "channel": CHANNELS[v.index % len(CHANNELS)] if v.index % 3 else CHANNELS[v.index % 2],
            "municipality_nis": nis, "received_on": v.received_on.isoformat(),
            "personal": {"first_name": first, "last_name": last, "email": f"vrijwilliger{v.index}@example.org",
                         "birth_date": f"{1955 + v.index % 45}-{1 + v.index % 12:02d}-{1 + v.index % 28:02d}"},
        }).json()["volunteer_id"]
        ids[v.index] = vid
        call("POST", f"{rec}/volunteers/{vid}/intake", {"held_on": v.intake_on.isoformat()})
        if v.approved_on is None:
            call("POST", f"{rec}/volunteers/{vid}/stop", {"reason": "no_time"})
            return
        for path, body in (
            ("screening", {"screened_on": v.approved_on.isoformat(), "outcome": "approved"}),
            ("training", {"session_on": v.coached_on.isoformat(), "kind": "individual_coaching", "hours": 2}),
            ("legal-items", {"item": "information_notice", "dated": v.approved_on.isoformat()}),
            ("legal-items", {"item": "insurance", "dated": v.approved_on.isoformat()}),
            ("availability", {"target_groups": ["individual_adult"], "languages": ["nl"],
                              "available_on": v.available_on.isoformat()}),  # type: ignore[union-attr]
        ):
            call("POST", f"{rec}/volunteers/{vid}/{path}", body)

    def participant(i: int) -> str:
        return call("POST", f"{mat}/projects/{project}/participants", {
            "referred_on": plan.referrals[i].isoformat(),
            "target_group": "individual_adult",
            "referrer_type": ("social_services", "mental_health_centre", "general_practitioner", "self")[i % 4],
            "life_domains": [("isolation", "psychological_vulnerability", "poverty", "newcomer")[i % 4]],
            "municipality_nis": nis, "consent_recorded": True, "languages": ["nl"],
            "wishes": ["company"], "personal": {"first_name": FIRST_NAMES[(i * 7) % len(FIRST_NAMES)],
                                               "last_name": f"{LAST_NAMES[i % len(LAST_NAMES)]} (deelnemer)"},
        }, retry_404_s=timeout_s).json()["participant_id"]

    def duo(pair: tuple[PlannedVolunteer, str]) -> None:
        v, participant_id = pair
        deadline = time.monotonic() + timeout_s
        while True:  # matching learns the volunteer's availability a moment after recruitment recorded it
            resp = _call(clients.get(), "POST", f"{mat}/projects/{project}/duos", token, {
                "volunteer_id": ids[v.index], "participant_id": participant_id, "started_on": v.duo_on.isoformat(),  # type: ignore[union-attr]
                "expected_duration_months": 12}, retry_404_s=timeout_s)
            if resp.status_code in (409, 422) and time.monotonic() < deadline:
                time.sleep(0.3)
                continue
            duo_id = _ok(resp).json()["duo_id"]
            break
        for k, on in enumerate(v.contacts):
            call("POST", f"{fol}/duos/{duo_id}/contacts", {
                "contact_date": on.isoformat(), "minutes": (60, 90, 120, 45)[k % 4],
                "mode": "in_person" if k % 3 else "phone",
                "activities": [("walk", "coffee_or_chat", "leisure_or_culture", "shopping")[(v.index + k) % 4]],
            }, retry_404_s=timeout_s)

    def coaching(c: PlannedCoaching) -> None:
        call("POST", f"{fol}/projects/{project}/coaching-sessions", {
            "kind": c.kind, "session_date": c.on.isoformat(), "minutes": 120 if c.kind == "group" else 90,
            "themes": [c.theme], "volunteer_ids": [ids[i] for i in c.volunteers]}, retry_404_s=timeout_s)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="demo") as pool:
            in_duo = [v for v in plan.volunteers if v.duo_on is not None]
            referred = [pool.submit(participant, i) for i in range(len(in_duo) + plan.waiting_participants)]
            _all_done(pool, volunteer, plan.volunteers)
            _all_done(pool, duo, zip(in_duo, [f.result() for f in referred], strict=False))
            _all_done(pool, coaching, plan.coaching)
    finally:
        clients.close()
    return plan
