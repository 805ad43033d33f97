"""Reporting benchmark: rebuild throughput and report latency on a synthetic history.

    .venv/bin/python -m bench.reporting_bench                 # ≥ 1,000,000 events (full)
    .venv/bin/python -m bench.reporting_bench --events 50000  # smaller

The history is simulated day by day over three years for 28 projects in three regions
(every event type of the three producers: the volunteer journey, referrals, proposals,
duos with pauses, contacts with drafts, corrections and retractions, coaching, boundary
signals, goals, evaluations, follow-up calls, policy signals) and bulk-imported with
``EventStore.append_many`` straight into the three producers' stores, one transaction per
service and simulated day (so ``recorded_at`` runs with the simulated calendar).

Measured: the rebuild of fresh projections from the stores' feeds (events per second,
against a peer that only reads and decodes the same events: the floor any projection
pays), and the latency (p50/p95) of overview reports for the three audiences.

``run(quick, scale)`` returns ``bench.common.Result`` rows (for ``python -m bench``).
Not a test: nothing asserts a time. ``generate()`` is also the history of the large
rebuild test (tests/integration/test_reporting_scale.py).
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time as dtime, timedelta
from pathlib import Path
from typing import Any

from bench.common import Result
from shared.bus import StoreFeed
from shared.clock import FixedClock
from shared.contracts import followup as fu
from shared.contracts import matching as mt
from shared.contracts import recruitment as rc
from shared.contracts.common import MatchingPreferences, TargetGroup
from shared.events.envelope import Actor, Role
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.eventstore.db import reader
from shared.eventstore.store import ANY_VERSION

ACTOR = Actor(id="bench-import", role=Role.professional)
SERVICES = ("recruitment", "matching", "followup")
REGIONS = ("antwerpen-kempen", "gent-meetjesland", "limburg")
START = date(2024, 1, 1)
DAYS = 3 * 365 + 1
SUMMARIES = (
    "Meerdere deelnemers raken niet aan een afspraak bij het OCMW sinds alles online moet.",
    "De bus naar het dienstencentrum rijdt niet meer op zaterdag; deelnemers geraken er niet.",
    "Wachtlijsten bij de CGG zijn zo lang dat buddy's de enige steun worden.",
    "Digitale formulieren voor de energiepremie zijn niet te doen zonder hulp.",
)
CHANNELS = list(rc.RecruitmentChannel)
STOP_REASONS = [r for r in rc.StopReason if r not in (rc.StopReason.not_approved, rc.StopReason.waited_too_long)]
TARGET_GROUPS = list(TargetGroup)
REFERRERS = list(mt.ReferrerType)
LIFE_DOMAINS = list(mt.LifeDomain)
ACTIVITIES = list(fu.Activity)


# --------------------------------------------------------------------------- the simulation
@dataclass
class Volunteer:
    id: str
    project: str
    waiting_since: int | None = None
    paused: bool = False
    in_duo: str | None = None
    stopped: bool = False


@dataclass
class Participant:
    id: str
    project: str
    group: TargetGroup
    waiting: bool = True


@dataclass
class Duo:
    id: str
    project: str
    volunteer: Volunteer
    participant: Participant
    started: int
    contacts: int = 0
    goals: list[str] = field(default_factory=list)


@dataclass
class Simulation:
    """A reproducible three-year history; ``intensity`` scales every rate (≈ events)."""

    intensity: float = 1.0
    seed: int = 7
    projects: int = 28
    days: int = DAYS

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.today = 0
        self.agenda: list[tuple[int, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.ids = itertools.count(1)
        self.out: dict[str, list[tuple[str, NewEvent]]] = {s: [] for s in SERVICES}
        self.project_ids = [f"p{i:02d}" for i in range(1, self.projects + 1)]
        self.region = {p: REGIONS[i % len(REGIONS)] for i, p in enumerate(self.project_ids)}
        self.pool: dict[str, list[Volunteer]] = {p: [] for p in self.project_ids}
        self.waiting: dict[str, list[Participant]] = {p: [] for p in self.project_ids}
        self.running: dict[str, dict[str, Duo]] = {p: {} for p in self.project_ids}
        # projects differ in size: a few large, many small (like the real programmes)
        self.size = {p: 0.4 + 1.6 * self.rng.random() ** 2 for p in self.project_ids}

    # ----------------------------------------------------------------- plumbing
    def day(self, offset: int = 0) -> date:
        return START + timedelta(days=self.today + offset)

    def at(self, delay: int, action: Callable[[], None]) -> None:
        heapq.heappush(self.agenda, (self.today + max(1, delay), next(self.seq), action))

    def emit(self, service: str, stream: str, event: DomainEvent, project: str, on: date | None = None) -> None:
        occurred = datetime.combine(on or self.day(), dtime(12, 0), UTC)
        self.out[service].append((stream, NewEvent(event, occurred_at=occurred, project_id=project)))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"

    def poisson(self, lam: float) -> int:
        n, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return n
            n += 1

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # ----------------------------------------------------------------- the days
    def run(self) -> Iterator[tuple[date, dict[str, list[tuple[str, NewEvent]]]]]:
        """Yields each simulated day with the events recorded on it, per service."""
        for self.today in range(self.days):
            if self.today == 0:
                for p in self.project_ids:
                    self.register(p)
            for p in self.project_ids:
                rate = 0.05 * self.intensity * self.size[p]
                for _ in range(self.poisson(rate)):
                    self.enquire(p)
                for _ in range(self.poisson(rate * 0.9)):
                    self.refer(p)
                self.match(p)
                if self.today % 30 == 15:
                    self.coach(p)
                if self.chance(0.03 * self.intensity * self.size[p]):
                    self.policy_signal(p)
                if self.today == 200 and self.chance(0.5):
                    self.emit("recruitment", p, rc.ProjectChanged(
                        project_id=p, title=f"Buddywerking {p} (nieuw)", organisation="vzw Samen", municipality_nis="11002",
                        region=self.region[p], target_groups=TARGET_GROUPS), p)
            while self.agenda and self.agenda[0][0] <= self.today:
                _, _, action = heapq.heappop(self.agenda)
                action()
            out, self.out = self.out, {s: [] for s in SERVICES}
            yield self.day(), out

    def register(self, p: str) -> None:
        self.emit("recruitment", p, rc.ProjectRegistered(
            project_id=p, name=f"Buddywerking {p}", organisation="vzw Samen", municipality_nis="11002",
            region=self.region[p], target_groups=TARGET_GROUPS, funded_from=START), p)
        self.emit("followup", f"cadence-{p}", fu.CheckInCadenceSet(
            project_id=p, first_period_days=30, first_period_contacts=2, max_gap_days=31), p)

    # ----------------------------------------------------------------- volunteers
    def enquire(self, p: str) -> None:
        v = Volunteer(self.new_id("v"), p)
        self.emit("recruitment", v.id, rc.VolunteerEnquiryReceived(
            volunteer_id=v.id, project_id=p, channel=self.rng.choice(CHANNELS), municipality_nis="11002"), p)
        if self.chance(0.85):
            self.at(self.rng.randint(3, 20), lambda: self.intake(v))
        else:
            self.at(self.rng.randint(5, 30), lambda: self.stop(v, self.rng.choice(STOP_REASONS)))

    def intake(self, v: Volunteer) -> None:
        self.emit("recruitment", v.id, rc.VolunteerIntakeHeld(volunteer_id=v.id, project_id=v.project,
                                                              held_on=self.day(), has_note=self.chance(0.5)), v.project)
        self.at(self.rng.randint(3, 15), lambda: self.screen(v))

    def screen(self, v: Volunteer) -> None:
        ok = self.chance(0.9)
        self.emit("recruitment", v.id, rc.VolunteerScreened(
            volunteer_id=v.id, project_id=v.project, screened_on=self.day(),
            outcome=rc.ScreeningOutcome.approved if ok else rc.ScreeningOutcome.not_approved,
            refusal_reason=None if ok else rc.ScreeningRefusal.profile_does_not_fit), v.project)
        if not ok:
            self.stop(v, rc.StopReason.not_approved)
            return
        self.emit("recruitment", v.id, rc.VolunteerLegalItemRecorded(
            volunteer_id=v.id, project_id=v.project, item=rc.LegalItem.information_notice, dated=self.day()), v.project)
        sessions = self.rng.randint(1, 3)
        for i in range(sessions):
            self.at(5 + 7 * i, lambda: self.train(v))
        self.at(6 + 7 * sessions, lambda: self.available(v))

    def train(self, v: Volunteer) -> None:
        if not v.stopped:
            self.emit("recruitment", v.id, rc.VolunteerTrained(
                volunteer_id=v.id, project_id=v.project, session_on=self.day(),
                kind=self.rng.choice(list(rc.TrainingKind)), hours=2.0), v.project)

    def available(self, v: Volunteer) -> None:
        if v.stopped:
            return
        self.emit("recruitment", v.id, rc.VolunteerMadeAvailable(
            volunteer_id=v.id, project_id=v.project,
            preferences=MatchingPreferences(target_groups=self.rng.sample(TARGET_GROUPS, 2))), v.project)
        self.wait(v)

    def wait(self, v: Volunteer) -> None:
        v.waiting_since = self.today
        self.pool[v.project].append(v)
        self.at(30, lambda: self.keep_warm(v))

    def keep_warm(self, v: Volunteer) -> None:
        if v.stopped or v.in_duo or v.waiting_since is None:
            return
        waited = self.today - v.waiting_since
        if waited > 180 and self.chance(0.3):
            self.stop(v, rc.StopReason.waited_too_long)
            return
        if not v.paused and self.chance(0.05):
            v.paused = True
            self.emit("recruitment", v.id, rc.VolunteerPaused(volunteer_id=v.id, project_id=v.project), v.project)
            self.at(30, lambda: self.resume(v))
        elif self.chance(0.6):
            self.emit("recruitment", v.id, rc.VolunteerKeptWarm(
                volunteer_id=v.id, project_id=v.project, contacted_on=self.day(),
                kind=self.rng.choice(list(rc.KeepWarmKind))), v.project)
        self.at(30, lambda: self.keep_warm(v))

    def resume(self, v: Volunteer) -> None:
        if v.paused and not v.stopped:
            v.paused = False
            self.emit("recruitment", v.id, rc.VolunteerResumed(volunteer_id=v.id, project_id=v.project), v.project)

    def stop(self, v: Volunteer, reason: rc.StopReason) -> None:
        if v.stopped:
            return
        v.stopped = True
        if v in self.pool[v.project]:
            self.pool[v.project].remove(v)
        self.emit("recruitment", v.id, rc.VolunteerStopped(volunteer_id=v.id, project_id=v.project, reason=reason),
                  v.project)

    # ----------------------------------------------------------------- participants and duos
    def refer(self, p: str) -> None:
        pt = Participant(self.new_id("pt"), p, self.rng.choice(TARGET_GROUPS))
        self.emit("matching", pt.id, mt.ParticipantReferred(
            participant_id=pt.id, project_id=p, target_group=pt.group, referrer_type=self.rng.choice(REFERRERS),
            life_domains=self.rng.sample(LIFE_DOMAINS, self.rng.randint(1, 2)), municipality_nis="11002",
            consent_recorded=True, consent=mt.Consent(scopes=list(mt.REQUIRED_CONSENT)), referred_on=self.day()), p)
        self.waiting[p].append(pt)
        if self.chance(0.8):
            self.at(self.rng.randint(2, 14), lambda: self.emit("matching", pt.id, mt.ParticipantIntakeHeld(
                participant_id=pt.id, project_id=p, held_on=self.day()), p))
        if self.chance(0.06):
            self.at(self.rng.randint(20, 120), lambda: self.withdraw(pt))

    def withdraw(self, pt: Participant) -> None:
        if pt.waiting and pt in self.waiting[pt.project]:
            self.waiting[pt.project].remove(pt)
            pt.waiting = False
            self.emit("matching", pt.id, mt.ParticipantWithdrawn(
                participant_id=pt.id, project_id=pt.project, reason=self.rng.choice(list(mt.WithdrawalReason)),
                withdrawn_on=self.day()), pt.project)

    def match(self, p: str) -> None:
        pool = [v for v in self.pool[p] if not v.paused and not v.stopped and v.in_duo is None]
        waiting = [pt for pt in self.waiting[p] if pt.waiting]
        for v, pt in zip(pool, waiting):
            if not self.chance(0.08):
                continue
            duo_id = self.new_id("d")
            self.emit("matching", duo_id, mt.DuoProposed(duo_id=duo_id, project_id=p, volunteer_id=v.id,
                                                         participant_id=pt.id, proposed_on=self.day()), p)
            if self.chance(0.1):
                self.emit("matching", duo_id, mt.DuoDeclined(duo_id=duo_id, project_id=p, party=mt.Party.participant,
                                                             reason="no_click"), p)
                continue
            self.pool[p].remove(v)
            self.waiting[p].remove(pt)
            pt.waiting = False
            v.in_duo = duo_id
            self.at(self.rng.randint(2, 10), lambda d=duo_id, v=v, pt=pt: self.start(d, v, pt))

    def start(self, duo_id: str, v: Volunteer, pt: Participant) -> None:
        p = v.project
        for party in mt.Party:
            self.emit("matching", duo_id, mt.DuoAccepted(duo_id=duo_id, project_id=p, party=party), p)
        self.emit("matching", duo_id, mt.DuoStarted(
            duo_id=duo_id, project_id=p, volunteer_id=v.id, participant_id=pt.id, started_on=self.day(),
            agreed_contacts_per_month=2, expected_duration_months=12, after_proposal=True), p)
        self.emit("recruitment", v.id, rc.VolunteerJoinedDuo(volunteer_id=v.id, project_id=p, duo_id=duo_id,
                                                              joined_on=self.day()), p)
        duo = Duo(duo_id, p, v, pt, self.today)
        self.running[p][duo_id] = duo
        length = self.rng.randint(60, 540)
        self.at(self.rng.randint(3, 12), lambda: self.contact(duo, length))
        self.at(7, lambda: self.evaluate(duo, fu.EvaluationMoment.start))
        self.at(length // 2, lambda: self.evaluate(duo, fu.EvaluationMoment.mid))
        self.at(14, lambda: self.set_goals(duo))
        if self.chance(0.12):
            self.at(self.rng.randint(20, length - 20), lambda: self.pause(duo))
        if self.chance(0.15):
            self.at(self.rng.randint(10, length - 10), lambda: self.boundary(duo))
        self.at(length, lambda: self.end(duo))

    def contact(self, duo: Duo, length: int) -> None:
        if duo.id not in self.running[duo.project]:
            return
        contact_id = f"c{duo.id}-{duo.contacts}"
        duo.contacts += 1
        p = duo.project
        on = self.day(-self.rng.randint(0, 4))
        values = {"contact_id": contact_id, "duo_id": duo.id, "project_id": p, "contact_date": on,
                  "minutes": self.rng.choice((30, 45, 60, 90, 120)),
                  "mode": self.rng.choice(list(fu.ContactMode)),
                  "activities": self.rng.sample(ACTIVITIES, self.rng.randint(1, 2)),
                  "logged_by": self.rng.choice(("buddy", "professional"))}
        roll = self.rng.random()
        if roll < 0.03:
            self.emit("followup", duo.id, fu.ContactDrafted(**values), p, on)
            self.at(1, lambda: self.emit("followup", duo.id, fu.ContactLogged(**values), p, on))
        elif roll < 0.04:
            self.emit("followup", duo.id, fu.ContactDrafted(**values), p, on)
            self.at(2, lambda: self.emit("followup", duo.id, fu.ContactDraftDiscarded(
                contact_id=contact_id, duo_id=duo.id, project_id=p), p))
        else:
            self.emit("followup", duo.id, fu.ContactLogged(**values), p, on)
            if roll < 0.06:
                fixed = {**values, "minutes": 60, "contact_date": on - timedelta(days=1)}
                self.at(3, lambda: self.emit("followup", duo.id, fu.ContactCorrected(**fixed), p, on))
            elif roll < 0.07:
                self.at(2, lambda: self.emit("followup", duo.id, fu.ContactRetracted(
                    contact_id=contact_id, duo_id=duo.id, project_id=p,
                    reason=fu.ContactRetractionReason.duplicate), p))
        self.at(self.rng.randint(5, 15), lambda: self.contact(duo, length))

    def evaluate(self, duo: Duo, moment: fu.EvaluationMoment) -> None:
        if duo.id in self.running[duo.project] or moment is fu.EvaluationMoment.final:
            self.emit("followup", f"eval-{duo.id}", fu.EvaluationRecorded(
                duo_id=duo.id, project_id=duo.project, moment=moment, evaluated_on=self.day(),
                wellbeing=self.rng.randint(3, 9), network_size=self.rng.randint(0, 12)), duo.project)

    def set_goals(self, duo: Duo) -> None:
        if duo.id not in self.running[duo.project]:
            return
        for _ in range(2):
            goal_id = self.new_id("g")
            duo.goals.append(goal_id)
            self.emit("followup", goal_id, fu.GoalSet(
                goal_id=goal_id, duo_id=duo.id, project_id=duo.project, domain=self.rng.choice(list(fu.GoalDomain)),
                set_on=self.day(), baseline=self.rng.randint(1, 5), target=8), duo.project)
            self.at(60, lambda g=goal_id: self.progress(duo, g))

    def progress(self, duo: Duo, goal_id: str) -> None:
        if duo.id in self.running[duo.project]:
            self.emit("followup", goal_id, fu.GoalProgressRecorded(
                goal_id=goal_id, duo_id=duo.id, project_id=duo.project, recorded_on=self.day(),
                score=self.rng.randint(2, 9)), duo.project)
            self.at(60, lambda: self.progress(duo, goal_id))

    def pause(self, duo: Duo) -> None:
        if duo.id not in self.running[duo.project]:
            return
        self.emit("matching", duo.id, mt.DuoPaused(duo_id=duo.id, project_id=duo.project, paused_on=self.day(),
                                                   reason=self.rng.choice(list(mt.PauseReason))), duo.project)
        self.at(self.rng.randint(7, 40), lambda: self.resume_duo(duo))

    def resume_duo(self, duo: Duo) -> None:
        if duo.id in self.running[duo.project]:
            self.emit("matching", duo.id, mt.DuoResumed(duo_id=duo.id, project_id=duo.project, resumed_on=self.day()),
                      duo.project)

    def boundary(self, duo: Duo) -> None:
        if duo.id not in self.running[duo.project]:
            return
        signal_id, p = self.new_id("b"), duo.project
        self.emit("followup", signal_id, fu.BoundarySignalRaised(
            signal_id=signal_id, duo_id=duo.id, project_id=p, signal_type=self.rng.choice(list(fu.BoundarySignalType)),
            severity=self.rng.choice(list(fu.BoundarySeverity)), raised_by=fu.BoundaryRaisedBy.buddy,
            raised_on=self.day()), p)
        self.at(3, lambda: self.emit("followup", signal_id, fu.BoundarySignalFollowedUp(
            signal_id=signal_id, duo_id=duo.id, project_id=p, action=fu.BoundaryFollowUpAction.triangle_meeting,
            followed_up_on=self.day()), p))
        if self.chance(0.85):
            self.at(self.rng.randint(5, 60), lambda: self.emit("followup", signal_id, fu.BoundarySignalResolved(
                signal_id=signal_id, duo_id=duo.id, project_id=p, resolution=self.rng.choice(list(fu.BoundaryResolution)),
                resolved_on=self.day()), p))

    def end(self, duo: Duo) -> None:
        p, v, pt = duo.project, duo.volunteer, duo.participant
        self.evaluate(duo, fu.EvaluationMoment.final)
        for goal_id in duo.goals:
            self.emit("followup", goal_id, fu.GoalClosed(goal_id=goal_id, duo_id=duo.id, project_id=p,
                                                         closed_on=self.day(),
                                                         outcome=self.rng.choice(list(fu.GoalOutcome))), p)
        reason = self.rng.choice(list(mt.EndReason))
        del self.running[p][duo.id]
        self.emit("matching", duo.id, mt.DuoEnded(
            duo_id=duo.id, project_id=p, volunteer_id=v.id, participant_id=pt.id, ended_on=self.day(), reason=reason,
            planned=reason is mt.EndReason.goals_reached), p)
        self.emit("recruitment", v.id, rc.VolunteerLeftDuo(volunteer_id=v.id, project_id=p, duo_id=duo.id,
                                                           left_on=self.day()), p)
        v.in_duo = None
        if self.chance(0.6):
            self.wait(v)
        else:
            self.stop(v, self.rng.choice(STOP_REASONS))
        if reason is mt.EndReason.mismatch:
            pt.waiting = True
            self.waiting[p].append(pt)
            self.emit("matching", pt.id, mt.ParticipantReturnedToWaitingList(
                participant_id=pt.id, project_id=p, reason=mt.ReturnReason.mismatch, duo_id=duo.id), p)
        for months in (3, 6):
            call_id = f"call-{duo.id}-{months}m"
            due = self.day(30 * months)
            self.emit("followup", call_id, fu.FollowUpCallScheduled(
                call_id=call_id, duo_id=duo.id, project_id=p, months_after_end=months, ended_on=self.day(),
                due_on=due), p)
            self.at(30 * months + self.rng.randint(0, 10), lambda c=call_id: self.call(c, duo))

    def call(self, call_id: str, duo: Duo) -> None:
        p, roll = duo.project, self.rng.random()
        if roll < 0.1:
            return  # never completed
        if roll < 0.3:
            self.emit("followup", call_id, fu.FollowUpCallAttempted(call_id=call_id, duo_id=duo.id, project_id=p,
                                                                    attempt=1, attempted_on=self.day()), p)
        outcome = (fu.FollowUpCallOutcome.reached if roll > 0.3 else fu.FollowUpCallOutcome.not_reachable
                   if roll > 0.15 else fu.FollowUpCallOutcome.declined)
        reached = outcome is fu.FollowUpCallOutcome.reached
        self.emit("followup", call_id, fu.FollowUpCallCompleted(
            call_id=call_id, duo_id=duo.id, project_id=p, outcome=outcome, completed_on=self.day(),
            attempts=2 if roll < 0.3 else 1, still_in_contact_with_buddy=self.chance(0.4) if reached else None,
            network_change=self.rng.choice(list(fu.NetworkChange)) if reached else None,
            wellbeing=self.rng.randint(3, 9) if reached else None), p)

    # ----------------------------------------------------------------- coaching and signals
    def coach(self, p: str) -> None:
        volunteers = sorted(d.volunteer.id for d in self.running[p].values())
        if volunteers:
            session_id = self.new_id("s")
            self.emit("followup", session_id, fu.CoachingSessionLogged(
                session_id=session_id, project_id=p, kind=fu.CoachingKind.group, session_date=self.day(), minutes=120,
                themes=self.rng.sample(list(fu.CoachingTheme), 2), volunteer_ids=self.rng.sample(
                    volunteers, min(len(volunteers), 8))), p)
        for v in volunteers:
            if self.chance(0.2):
                session_id = self.new_id("s")
                self.emit("followup", session_id, fu.CoachingSessionLogged(
                    session_id=session_id, project_id=p, kind=fu.CoachingKind.individual, session_date=self.day(),
                    minutes=45, themes=[self.rng.choice(list(fu.CoachingTheme))], volunteer_ids=[v]), p)

    def policy_signal(self, p: str) -> None:
        signal_id = self.new_id("ps")
        theme = self.rng.choice(list(fu.PolicyTheme)[:4])
        self.emit("followup", signal_id, fu.PolicySignalRecorded(signal_id=signal_id, project_id=p, theme=theme,
                                                                 observed_on=self.day(),
                                                                 has_private_description=True), p)
        if self.chance(0.4):
            self.at(7, lambda: self.emit("followup", signal_id, fu.PolicySignalSummaryConfirmed(
                signal_id=signal_id, project_id=p, theme=theme, summary=self.rng.choice(SUMMARIES),
                confirmed_on=self.day()), p))


def open_stores(folder: Path, clock: FixedClock) -> dict[str, EventStore]:
    stores = {}
    for name in SERVICES:
        engine = make_engine(f"sqlite:///{folder / f'{name}.db'}")
        migrate(engine, name)
        stores[name] = EventStore(engine, name, clock)
    return stores


EVENTS_PER_INTENSITY = 70_000  # measured: ≈ events of a three-year history at intensity 1


def generate(stores: dict[str, EventStore], clock: FixedClock, *, events: int, seed: int = 7,
             days: int = DAYS, record_every: int = 7, commit_every: int = 4) -> dict[str, int]:
    """Simulate and bulk-import about ``events`` events; returns the count per service.

    Events are recorded in one ``append_many`` per service and ``record_every`` days (as
    a programme that enters its week on Friday: ``recorded_at`` is the last of those
    days, 18:00 UTC), committed every ``commit_every`` of those batches.
    """
    sim = Simulation(intensity=events / EVENTS_PER_INTENSITY * DAYS / days, seed=seed, days=days)
    counts = {s: 0 for s in SERVICES}
    days_iter = sim.run()
    while True:
        chunk = list(itertools.islice(days_iter, record_every * commit_every))
        if not chunk:
            return counts
        for service in SERVICES:
            with stores[service].transaction() as conn:
                for first in range(0, len(chunk), record_every):
                    week = chunk[first:first + record_every]
                    items = [item for _, out in week for item in out[service]]
                    if items:
                        clock.set(datetime.combine(week[-1][0], dtime(18, 0), UTC))
                        stores[service].append_many([(stream, ANY_VERSION, [ev]) for stream, ev in items],
                                                    actor=ACTOR, conn=conn)
                        counts[service] += len(items)


# --------------------------------------------------------------------------- measurements
REPORTS = {
    "government, all of Flanders, a year by month": {"audience": "government", "grain": "month"},
    "government, all of Flanders, a year by quarter": {"audience": "government", "grain": "quarter"},
    "coordinator, one region, a year by quarter": {"audience": "coordinator", "region": REGIONS[0], "grain": "quarter"},
    "coordinator, one region, a year by month": {"audience": "coordinator", "region": REGIONS[0], "grain": "month"},
    "project staff, one project, a year by month": {"audience": "project", "project_id": "p01", "grain": "month"},
}


def report_parameters(kind: dict[str, Any], year: int = 2025) -> dict[str, Any]:
    return {**kind, "period_start": f"{year}-01-01", "period_end": f"{year}-12-31"}


def decode_only(feed: Any, page: int = 2000) -> int:
    """The peer: read every event from the feed and decode its payload, writing nothing."""

    async def run() -> int:
        n = 0
        for name in SERVICES:
            position = 0
            while True:
                envs = await feed.read(name, position, page)
                if not envs:
                    break
                for env in envs:
                    REGISTRY.decode_known(env.type, env.schema_version, env.payload)
                n += len(envs)
                position = envs[-1].position
        return n

    return asyncio.run(run())


def measure(events: int, repeat: int, folder: Path, *, out: Callable[[str], None] = print) -> list[Result]:
    from services.reporting.rebuild import StoreRowsFeed, rebuild
    from services.reporting.reports import compute

    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    stores = open_stores(folder, clock)
    counts = {name: store.head()[0] for name, store in stores.items()}
    if not any(counts.values()):
        started = time.perf_counter()
        counts = generate(stores, clock, events=events)
        out(f"generated {sum(counts.values()):,} events {counts} in {time.perf_counter() - started:.1f} s")
    else:
        out(f"reusing {sum(counts.values()):,} events {counts} in {folder}")
    total = sum(counts.values())
    for old in folder.glob("reporting-*.db*"):
        old.unlink()
    results = []
    for label, feed in (("the stores' feed (StoreFeed, validated envelopes)", StoreFeed(stores)),
                        ("raw store rows (StoreRowsFeed)", StoreRowsFeed(stores))):
        started = time.perf_counter()
        read = decode_only(feed)
        peer_rate = read / (time.perf_counter() - started)
        engine = make_engine(f"sqlite:///{folder / f'reporting-{len(results)}.db'}")
        started = time.perf_counter()
        asyncio.run(rebuild(engine, feed))
        seconds = time.perf_counter() - started
        out(f"rebuild from {label}: {total / seconds:,.0f} events/s ({seconds:.1f} s); "
            f"read + decode only: {peer_rate:,.0f} events/s")
        results.append(Result("reporting", f"rebuild of all projections from {label}, SQLite", total / seconds,
                              "events/s", "the same feed read and decoded only (no projection)", peer_rate,
                              f"{total:,} events, three producers"))
        if len(results) == 1:
            engine.dispose()
    with reader(engine).connect() as conn:
        for name, kind in REPORTS.items():
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                compute(conn, "overview", report_parameters(kind))
                times.append(time.perf_counter() - started)
            p50, p95 = _percentile(times, 50), _percentile(times, 95)
            out(f"report {name}: p50 {p50 * 1000:,.0f} ms, p95 {p95 * 1000:,.0f} ms ({repeat} runs)")
            results.append(Result("reporting", f"overview report p50, {name}", p50 * 1000, "ms",
                                  note=f"p95 {p95 * 1000:,.0f} ms over {repeat} runs, {total:,} events"))
    engine.dispose()
    for store in stores.values():
        store.engine.dispose()
    return results


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(pct) - 1]


def run(quick: bool, scale: float = 1.0) -> list[Result]:
    events = max(2_000, int((60_000 if quick else 1_050_000) * scale))
    repeat = 3 if quick else 10
    with tempfile.TemporaryDirectory(prefix="buddy-bench-reporting-") as folder:
        return measure(events, repeat, Path(folder), out=lambda line: print(line, file=sys.stderr, flush=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reporting_bench")
    parser.add_argument("--events", type=int, default=1_050_000, help="about this many (≥ 1,000,000 by default)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--folder", type=Path, default=None,
                        help="keep the databases here; a folder with a history already is measured again as is")
    args = parser.parse_args(argv)
    if args.folder:
        args.folder.mkdir(parents=True, exist_ok=True)
        measure(args.events, args.repeat, args.folder)
    else:
        with tempfile.TemporaryDirectory(prefix="buddy-bench-reporting-") as folder:
            measure(args.events, args.repeat, Path(folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
