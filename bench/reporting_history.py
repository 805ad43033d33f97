"""A synthetic history of the buddy programme, bulk-imported into the producers' stores.

The default ``Scale`` is Flanders: 300 projects in three regions over five years, about
30,000 volunteers, 30,000 participants and 10 million events, most of them contacts.
Every event type the three producers record occurs (the volunteer journey, referrals,
proposals, duos with pauses, contacts with drafts, corrections and retractions, coaching,
boundary signals, goals, evaluations, follow-up calls, policy signals). The same scale and
seed give the same stores, byte for byte (event ids and correlation ids come from the seed,
recorded times from the simulated calendar).

It is made in two passes. ``Simulation`` plays every day of every project except the
contacts, keeping each duo's life (its first contact day and its end); ``Contacts`` then
fills the rest of the event budget with contacts of the duos running on each day, at the
one rate per duo-day that makes the total come out at ``scale.events``.

``BulkImport`` is the bulk-import path: it writes the rows ``EventStore.append_many``
would write (same columns, same canonical payload JSON, the same hash chain from the
store's head, versions per stream, the head moved with the last row) with one
``executemany`` per batch on the SQLite connection, skipping what only a live command
needs (pydantic validation of every payload, the concurrency check, the per-call lock
round trips). ``EventStore.verify`` accepts the result. ``cached_history`` keeps a made
history in a folder named by its scale and seed, so a rerun of the benchmark reuses it.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import math
import os
import random
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shared.clock import Clock, FixedClock
from shared.contracts import followup as fu
from shared.contracts import matching as mt
from shared.contracts import recruitment as rc
from shared.contracts.common import MatchingPreferences, TargetGroup
from shared.events.envelope import Actor, Role, canonical_json
from shared.events.registry import DomainEvent
from shared.eventstore import EventStore, make_engine, migrate

ACTOR = Actor(id="bench-import", role=Role.professional)
SERVICES = ("recruitment", "matching", "followup")
REGIONS = ("antwerpen-kempen", "gent-meetjesland", "limburg")
START = date(2024, 1, 1)
GENERATOR = 2  # bump when the simulation changes: cached histories of another version are not reused
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
ACTIVITIES = [a.value for a in fu.Activity]
MODES = [m.value for m in fu.ContactMode]
MINUTES = (30, 45, 60, 90, 120)

# (stream id, type, schema version, stream type, occurred day, project, canonical payload JSON)
Row = tuple[str, str, int, str, str, str, str]


@dataclass(frozen=True)
class Scale:
    """How big a history: Flanders by default. ``scaled`` shrinks it for quick runs and tests."""

    projects: int = 300
    regions: int = 3
    years: int = 5
    volunteers: int = 30_000
    participants: int = 30_000
    events: int = 10_000_000
    seed: int = 7

    @property
    def days(self) -> int:
        return (START.replace(year=START.year + self.years) - START).days

    def scaled(self, factor: float) -> Scale:
        """People and events times ``factor``; projects by its square root (small runs keep several)."""
        return replace(self, projects=max(self.regions, round(self.projects * math.sqrt(min(factor, 1.0)))),
                       volunteers=max(10, round(self.volunteers * factor)),
                       participants=max(10, round(self.participants * factor)),
                       events=max(1_000, round(self.events * factor)))

    def key(self) -> str:
        material = json.dumps({**asdict(self), "generator": GENERATOR}, sort_keys=True)
        return hashlib.sha256(material.encode()).hexdigest()[:16]


FLANDERS = Scale()


def region_names(n: int) -> list[str]:
    return list(REGIONS[:n]) + [f"regio-{i}" for i in range(len(REGIONS) + 1, n + 1)]


def row_of(stream: str, event: DomainEvent, on: str, project: str) -> Row:
    return (stream, event.event_type, event.schema_version, event.stream_type, on, project,
            canonical_json(event.model_dump(mode="json")))


# --------------------------------------------------------------------------- pass 1: the simulation
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
    """Everything but the contacts of a reproducible history, day by day (see ``History``).

    The rates follow from the scale: enquiries and referrals so that the history ends
    with about ``scale.volunteers`` volunteers and ``scale.participants`` participants;
    the duos' lives (start and end day) are kept for the contacts, added afterwards.
    """

    scale: Scale

    def __post_init__(self) -> None:
        scale = self.scale
        self.rng = random.Random(scale.seed)
        self.days = scale.days
        self.today = 0
        self.agenda: list[tuple[int, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.ids = itertools.count(1)
        self.out: dict[str, list[Row]] = {s: [] for s in SERVICES}
        self.lives: list[tuple[int, int, str, str]] = []  # (first contact day, end day, duo, project)
        self.project_ids = [f"p{i:02d}" for i in range(1, scale.projects + 1)]
        names = region_names(scale.regions)
        self.region = {p: names[i % len(names)] for i, p in enumerate(self.project_ids)}
        self.pool: dict[str, list[Volunteer]] = {p: [] for p in self.project_ids}
        self.waiting: dict[str, list[Participant]] = {p: [] for p in self.project_ids}
        self.running: dict[str, dict[str, Duo]] = {p: {} for p in self.project_ids}
        # projects differ in size: a few large, many small (like the real programmes)
        size = {p: 0.4 + 1.6 * self.rng.random() ** 2 for p in self.project_ids}
        mean = sum(size.values()) / len(size)
        self.size = {p: s / mean for p, s in size.items()}
        per_project_day = 1 / (scale.projects * scale.days)
        self.enquiry_rate = scale.volunteers * per_project_day
        self.referral_rate = scale.participants * per_project_day

    # ----------------------------------------------------------------- plumbing
    def day(self, offset: int = 0) -> date:
        return START + timedelta(days=self.today + offset)

    def at(self, delay: int, action: Callable[[], None]) -> None:
        heapq.heappush(self.agenda, (self.today + max(1, delay), next(self.seq), action))

    def emit(self, service: str, stream: str, event: DomainEvent, project: str, on: date | None = None) -> None:
        self.out[service].append(row_of(stream, event, (on or self.day()).isoformat(), project))

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
    def run(self) -> Iterator[tuple[int, dict[str, list[Row]]]]:
        """Yields each simulated day with the events recorded on it, per service."""
        for self.today in range(self.days):
            if self.today == 0:
                for p in self.project_ids:
                    self.register(p)
            for p in self.project_ids:
                for _ in range(self.poisson(self.enquiry_rate * self.size[p])):
                    self.enquire(p)
                for _ in range(self.poisson(self.referral_rate * self.size[p])):
                    self.refer(p)
                self.match(p)
                if self.today % 30 == 15:
                    self.coach(p)
                if self.chance(0.01 * self.size[p]):
                    self.policy_signal(p)
                if self.today == 200 and self.chance(0.5):
                    self.emit("recruitment", p, rc.ProjectChanged(
                        project_id=p, title=f"Buddywerking {p} (nieuw)", organisation="vzw Samen", municipality_nis="11002",
                        region=self.region[p], target_groups=TARGET_GROUPS), p)
            while self.agenda and self.agenda[0][0] <= self.today:
                _, _, action = heapq.heappop(self.agenda)
                action()
            out, self.out = self.out, {s: [] for s in SERVICES}
            yield self.today, out

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
            consent_recorded=True, consent=mt.Consent(scopes=sorted(mt.REQUIRED_CONSENT)), referred_on=self.day()), p)
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
        self.lives.append((self.today + self.rng.randint(3, 12), self.today + length, duo_id, p))
        self.at(7, lambda: self.evaluate(duo, fu.EvaluationMoment.start))
        self.at(length // 2, lambda: self.evaluate(duo, fu.EvaluationMoment.mid))
        self.at(14, lambda: self.set_goals(duo))
        if self.chance(0.12):
            self.at(self.rng.randint(20, length - 20), lambda: self.pause(duo))
        if self.chance(0.15):
            self.at(self.rng.randint(10, length - 10), lambda: self.boundary(duo))
        self.at(length, lambda: self.end(duo))

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
            # one signal in fifty is shredded by an admin later on; decided by its number, not
            # by the random stream, so the rest of a seed's history stays as it was
            if int(signal_id[len("ps"):]) % 50 == 0:
                self.at(30, lambda: self.emit("followup", signal_id, fu.PolicySignalShredded(
                    signal_id=signal_id, project_id=p, shredded_on=self.day()), p))



# --------------------------------------------------------------------------- pass 2: the contacts
EVENTS_PER_CONTACT = 0.03 * 2 + 0.01 * 2 + 0.96 * 1 + 0.02 + 0.01  # drafts, discards, corrections, retractions


class Contacts:
    """The contacts of the running duos, day by day, at ``rate`` contacts per duo-day.

    Like the programme's logs: mostly contacts logged directly, some drafted first (and
    submitted the next day or discarded), a few corrected or retracted days later.
    """

    def __init__(self, lives: list[tuple[int, int, str, str]], rate: float, seed: int) -> None:
        self.rng = random.Random(seed * 7919 + 1)
        self.rate = rate
        self.starting: dict[int, list[tuple[str, str]]] = {}
        self.ending: dict[int, list[str]] = {}
        for first, end, duo, project in lives:
            if first < end:
                self.starting.setdefault(first, []).append((duo, project))
                self.ending.setdefault(end, []).append(duo)
        self.running: list[tuple[str, str]] = []
        self.index: dict[str, int] = {}
        self.made: dict[str, int] = {}
        self.later: dict[int, list[Row]] = {}

    def on(self, today: int) -> list[Row]:
        for duo in self.ending.pop(today, ()):
            i = self.index.pop(duo)
            last = self.running.pop()
            if last[0] != duo:
                self.running[i] = last
                self.index[last[0]] = i
        for duo, project in self.starting.pop(today, ()):
            self.index[duo] = len(self.running)
            self.running.append((duo, project))
        rows = self.later.pop(today, [])
        if not self.running:
            return rows
        rng, running = self.rng, self.running
        expected = self.rate * len(running)
        for _ in range(int(expected) + (rng.random() < expected - int(expected))):
            self.contact(today, *running[int(rng.random() * len(running))], rows)
        return rows

    def contact(self, today: int, duo: str, project: str, rows: list[Row]) -> None:
        rng = self.rng
        n = self.made.get(duo, 0)
        self.made[duo] = n + 1
        contact_id = f"c{duo}-{n}"
        on = iso_day(today - int(rng.random() * 5))
        first = ACTIVITIES[int(rng.random() * len(ACTIVITIES))]
        second = ACTIVITIES[int(rng.random() * len(ACTIVITIES))]
        values = {"contact_id": contact_id, "duo_id": duo, "project_id": project, "contact_date": on,
                  "minutes": MINUTES[int(rng.random() * len(MINUTES))], "mode": MODES[int(rng.random() * len(MODES))],
                  "activities": [first] if second == first or rng.random() < 0.5 else [first, second],
                  "logged_by": "buddy" if rng.random() < 0.7 else "professional", "has_private_note": False}
        activities = '","'.join(values["activities"])  # codes and ids need no escaping: canonical_json, spelt out
        logged = (duo, "ContactLogged", 1, "duo_log", on, project, (
            f'{{"activities":["{activities}"],"contact_date":"{on}","contact_id":"{contact_id}","duo_id":"{duo}",'
            f'"has_private_note":false,"logged_by":"{values["logged_by"]}","minutes":{values["minutes"]},'
            f'"mode":"{values["mode"]}","project_id":"{project}"}}'))
        roll = rng.random()
        if roll < 0.04:
            rows.append((duo, "ContactDrafted", 1, "duo_log", on, project, canonical_json({**values, "counted": False})))
            if roll < 0.03:
                self.later.setdefault(today + 1, []).append(logged)
            else:
                self.later.setdefault(today + 2, []).append((duo, "ContactDraftDiscarded", 1, "duo_log", on, project,
                                                             canonical_json({"contact_id": contact_id, "duo_id": duo,
                                                                             "project_id": project})))
            return
        rows.append(logged)
        if roll < 0.06:
            fixed = {**values, "minutes": 60, "contact_date": iso_day(today - 1 - int(rng.random() * 5))}
            self.later.setdefault(today + 3, []).append((duo, "ContactCorrected", 1, "duo_log", on, project,
                                                         canonical_json(fixed)))
        elif roll < 0.07:
            self.later.setdefault(today + 2, []).append((duo, "ContactRetracted", 1, "duo_log", on, project, canonical_json(
                {"contact_id": contact_id, "duo_id": duo, "project_id": project, "reason": "duplicate"})))


_DAYS: dict[int, str] = {}


def iso_day(offset: int) -> str:
    text = _DAYS.get(offset)
    if text is None:
        text = _DAYS[offset] = (START + timedelta(days=offset)).isoformat()
    return text


# --------------------------------------------------------------------------- the bulk-import path
_text = json.encoder.encode_basestring  # a JSON string as json.dumps(ensure_ascii=False) writes it
_COLUMNS = ("position", "event_id", "type", "schema_version", "stream_type", "stream_id", "version", "occurred_at",
            "recorded_at", "project_id", "actor_id", "actor_role", "correlation_id", "causation_id", "payload",
            "subject_id", "sealed", "prev_hash", "hash")
_INSERT = f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


class BulkImport:
    """Writes a history's rows straight into one SQLite event store, as ``append_many`` would.

    Each ``write`` is one transaction (BEGIN IMMEDIATE, like the store's own): the rows
    get the next positions and versions of their streams, the canonical payload given,
    ``recorded_at`` of the batch and the hash chain from the head, and the head moves to
    the last row. Event and correlation ids come from ``rng``, so a seed gives the same
    bytes. Meant for a store nobody else writes to while it runs (a benchmark's, a test's).
    """

    def __init__(self, store: EventStore, rng: random.Random, actor: Actor = ACTOR) -> None:
        if store.engine.dialect.name != "sqlite":
            raise ValueError("the bulk import writes SQLite stores; use EventStore.append_many elsewhere")
        self.store, self.rng = store, rng
        self.actor_id, self.actor_role = actor.id, actor.role.value
        self.db = sqlite3.connect(store.engine.url.database, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")  # a made-up history: a crash means making it again
        self.db.execute("PRAGMA cache_size=-262144")
        self.db.execute("PRAGMA wal_autocheckpoint=0")  # one checkpoint at the end, not one per batch
        self.position, self.hash = self.db.execute("SELECT position, hash FROM store_head WHERE id = 1").fetchone()
        self.versions: dict[str, int] = dict(self.db.execute(
            "SELECT stream_id, MAX(version) FROM events GROUP BY stream_id").fetchall())

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def write(self, rows: list[Row], recorded_at: datetime) -> int:
        if not rows:
            return 0
        recorded = recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        correlation = self.new_id()
        versions, position, prev = self.versions, self.position, self.hash
        getrandbits = self.rng.getrandbits
        values = []
        actor_id, actor_role = self.actor_id, self.actor_role
        # chain_hash's material (canonical_json of the hashed columns), spelt out: sorted keys, no white space
        head = f'{{"actor_id":{_text(actor_id)},"actor_role":{_text(actor_role)},"causation_id":null,' \
               f'"correlation_id":"{correlation}","event_id":"'
        for stream, kind, schema_version, stream_type, on, project, payload in rows:
            position += 1
            version = versions[stream] = versions.get(stream, 0) + 1
            event_id = str(uuid.UUID(int=getrandbits(128), version=4))
            occurred = f"{on}T12:00:00.000000+00:00"
            material = (f'{head}{event_id}","occurred_at":"{occurred}","payload":{_text(payload)},'
                        f'"position":{position},"project_id":{_text(project)},"recorded_at":"{recorded}",'
                        f'"schema_version":{schema_version},"sealed":null,"stream_id":{_text(stream)},'
                        f'"stream_type":{_text(stream_type)},"subject_id":null,"type":{_text(kind)},"version":{version}}}')
            hashed = hashlib.sha256((prev + material).encode()).hexdigest()
            values.append((position, event_id, kind, schema_version, stream_type, stream, version, occurred, recorded,
                           project, actor_id, actor_role, correlation, None, payload, None, None, prev, hashed))
            prev = hashed
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(_INSERT, values)
            self.db.execute("UPDATE store_head SET position = ?, hash = ? WHERE id = 1", (position, prev))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.position, self.hash = position, prev
        return len(values)

    def close(self) -> None:
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()


# --------------------------------------------------------------------------- the history
def open_stores(folder: Path, clock: Clock | None = None) -> dict[str, EventStore]:
    stores = {}
    for name in SERVICES:
        engine = make_engine(f"sqlite:///{folder / f'{name}.db'}")
        migrate(engine, name)
        stores[name] = EventStore(engine, name, clock or FixedClock(datetime(2024, 1, 1, tzinfo=UTC)))
    return stores


def generate(stores: dict[str, EventStore], scale: Scale = FLANDERS, *, record_every: int = 7,
             progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Simulate ``scale`` and bulk-import it into the (empty) stores; returns the count per service.

    Events are recorded per ``record_every`` days (a programme that enters its week on
    Friday: ``recorded_at`` is the last of those days, 18:00 UTC), one transaction per
    service and batch.
    """
    sim = Simulation(scale)
    days = list(sim.run())
    other = sum(len(rows) for _, out in days for rows in out.values())
    duo_days = sum(max(0, min(end, scale.days) - first) for first, end, _, _ in sim.lives)
    rate = max(0, scale.events - other) / (max(1, duo_days) * EVENTS_PER_CONTACT)
    if progress:
        progress(f"simulated {other:,} events besides contacts, {len(sim.lives):,} duos over {duo_days:,} duo-days: "
                 f"{rate:.2f} contacts per duo-day")
    contacts = Contacts(sim.lives, rate, scale.seed)
    ids = random.Random(scale.seed * 31 + 5)
    imports = {s: BulkImport(stores[s], random.Random(ids.getrandbits(64))) for s in SERVICES}
    counts = {s: 0 for s in SERVICES}
    try:
        for first in range(0, len(days), record_every):
            week = days[first:first + record_every]
            batch: dict[str, list[Row]] = {s: [] for s in SERVICES}
            for today, out in week:
                for s in SERVICES:
                    batch[s].extend(out[s])
                batch["followup"].extend(contacts.on(today))
            recorded = datetime.combine(START + timedelta(days=week[-1][0]), datetime.min.time(), UTC) + timedelta(hours=18)
            for s in SERVICES:
                counts[s] += imports[s].write(batch[s], recorded)
            week.clear()
            if progress and first % (record_every * 26) == 0:
                progress(f"  {START + timedelta(days=first)}: {sum(counts.values()):,} events")
    finally:
        for bulk in imports.values():
            bulk.close()
    return counts


def default_cache() -> Path:
    """``var/bench-cache`` of the checkout, or ``BUDDY_BENCH_CACHE``."""
    given = os.environ.get("BUDDY_BENCH_CACHE")
    return Path(given) if given else Path(__file__).resolve().parents[1] / "var" / "bench-cache"


def cached_history(scale: Scale, root: Path | None = None, *,
                   progress: Callable[[str], None] | None = None) -> tuple[Path, dict[str, int], bool]:
    """The folder of the three stores of ``scale`` (made once, then reused), its counts, and whether it was reused.

    The folder is named by the scale, the seed and the generator's version; it is made
    under another name and renamed when complete, so an interrupted run leaves nothing
    that looks finished.
    """
    root = root or default_cache()
    folder = root / f"reporting-{scale.key()}"
    manifest = folder / "history.json"
    if manifest.exists():
        return folder, json.loads(manifest.read_text())["counts"], True
    root.mkdir(parents=True, exist_ok=True)
    making = root / f".making-{scale.key()}-{os.getpid()}"
    shutil.rmtree(making, ignore_errors=True)
    making.mkdir()
    stores = open_stores(making)
    try:
        counts = generate(stores, scale, progress=progress)
    finally:
        for store in stores.values():
            store.engine.dispose()
    (making / "history.json").write_text(json.dumps(
        {"scale": asdict(scale), "generator": GENERATOR, "counts": counts}, indent=1))
    making.rename(folder)
    return folder, counts, False
