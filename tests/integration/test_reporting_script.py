"""A scripted multi-project history for the reporting tests (every figure is worked out by
hand in tests/integration/test_reporting_indicators.py), and a check that it records.

Three projects in two regions: pA and pB in antwerpen-kempen, pC in gent-meetjesland.
The report period is the first quarter of 2026. Each event is recorded on the day it
happened (12:00 UTC) unless the script says otherwise (late entries), and the three
stores receive the events in recording order, as in life.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from shared.clock import FixedClock
from shared.contracts import followup as fu
from shared.contracts import matching as mt
from shared.contracts import recruitment as rc
from shared.contracts.common import MatchingPreferences, TargetGroup
from shared.events.envelope import Actor, Role
from shared.events.registry import DomainEvent
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.eventstore.store import ANY_VERSION

ACTOR = Actor(id="prof-1", role=Role.professional)
R1, R2 = "antwerpen-kempen", "gent-meetjesland"
REGION = {"pA": R1, "pB": R1, "pC": R2}
D = date.fromisoformat


@dataclass
class Script:
    items: list[tuple[datetime, int, str, str, DomainEvent, date]] = field(default_factory=list)

    def add(self, service: str, stream: str, event: DomainEvent, on: str, recorded: str | None = None) -> None:
        happened = D(on)
        moment = datetime.combine(D(recorded) if recorded else happened, time(12, 0), UTC)
        self.items.append((moment, len(self.items), service, stream, event, happened))

    def write(self, folder: Path) -> tuple[dict[str, EventStore], FixedClock]:
        clock = FixedClock(datetime(2025, 1, 1, tzinfo=UTC))
        stores = {}
        for name in ("recruitment", "matching", "followup"):
            engine = make_engine(f"sqlite:///{folder}/{name}.db")
            migrate(engine, name)
            stores[name] = EventStore(engine, name, clock)
        for moment, _, service, stream, event, happened in sorted(self.items):
            clock.set(moment)
            stores[service].append(stream, ANY_VERSION, [NewEvent(
                event, occurred_at=datetime.combine(happened, time(12, 0), UTC),
                project_id=getattr(event, "project_id", None))], actor=ACTOR)
        return stores, clock


def rec(s: Script, event: DomainEvent, on: str, recorded: str | None = None, stream: str | None = None) -> None:
    s.add("recruitment", stream or getattr(event, "volunteer_id", None) or event.project_id, event, on, recorded)


def mat(s: Script, event: DomainEvent, on: str, recorded: str | None = None, stream: str | None = None) -> None:
    s.add("matching", stream or getattr(event, "duo_id", None) or getattr(event, "participant_id", None), event, on,
          recorded)


def fol(s: Script, event: DomainEvent, on: str, recorded: str | None = None, stream: str | None = None) -> None:
    s.add("followup", stream or event.duo_id, event, on, recorded)  # type: ignore[attr-defined]


def contact(contact_id: str, duo: str, project: str, on: str, mode: str, activities: list[str], minutes: int,
            kind: type = fu.ContactLogged) -> Any:
    return kind(contact_id=contact_id, duo_id=duo, project_id=project, contact_date=D(on), minutes=minutes,
                mode=fu.ContactMode(mode), activities=[fu.Activity(a) for a in activities], logged_by="buddy")


def script(*, corrected_directly: bool = False, erasures: bool = True) -> Script:
    """The history. ``corrected_directly``: contact c16 is logged once with its corrected
    values instead of logged and then corrected (the figures must be the same).
    ``erasures``: volunteer v6 and participant pt3 (coached, in duo d3, which ended) are
    erased by their owning services at the end of March; without them the figures must be
    the same."""
    s = Script()
    prefs = MatchingPreferences(target_groups=[TargetGroup.individual_adult, TargetGroup.family])
    for p in ("pA", "pB", "pC"):
        rec(s, rc.ProjectRegistered(project_id=p, name=f"Project {p}", organisation="vzw", municipality_nis="11002",
                                    region=REGION[p], target_groups=list(TargetGroup)), "2025-09-01")
    rec(s, rc.ProjectChanged(project_id="pB", title="Project pB (Mortsel)", organisation="vzw", municipality_nis="11029",
                             region=R1, target_groups=list(TargetGroup)), "2025-09-15")

    def enquiry(v: str, p: str, on: str, channel: str) -> None:
        rec(s, rc.VolunteerEnquiryReceived(volunteer_id=v, project_id=p, channel=rc.RecruitmentChannel(channel),
                                           municipality_nis="11002"), on)

    def prepared(v: str, p: str, intake: str, screened: str, trained: list[str], available: str) -> None:
        rec(s, rc.VolunteerIntakeHeld(volunteer_id=v, project_id=p, held_on=D(intake)), intake)
        rec(s, rc.VolunteerScreened(volunteer_id=v, project_id=p, screened_on=D(screened),
                                    outcome=rc.ScreeningOutcome.approved), screened)
        rec(s, rc.VolunteerLegalItemRecorded(volunteer_id=v, project_id=p, item=rc.LegalItem.insurance,
                                             dated=D(screened)), screened)
        for day in trained:
            rec(s, rc.VolunteerTrained(volunteer_id=v, project_id=p, session_on=D(day),
                                       kind=rc.TrainingKind.individual_coaching, hours=2), day)
        rec(s, rc.VolunteerMadeAvailable(volunteer_id=v, project_id=p, preferences=prefs), available)

    # volunteers
    enquiry("v1", "pA", "2026-01-05", "website")
    prepared("v1", "pA", "2026-01-10", "2026-01-15", ["2026-01-20", "2026-02-01"], "2026-02-03")
    enquiry("v2", "pA", "2025-12-10", "word_of_mouth")
    prepared("v2", "pA", "2026-01-08", "2026-01-12", ["2026-01-14"], "2026-01-16")
    rec(s, rc.VolunteerKeptWarm(volunteer_id="v2", project_id="pA", contacted_on=D("2026-02-15"),
                                kind=rc.KeepWarmKind.call), "2026-02-15")
    rec(s, rc.VolunteerPreferencesChanged(volunteer_id="v2", project_id="pA", preferences=prefs), "2026-02-16")
    enquiry("v3", "pA", "2026-02-02", "website")
    rec(s, rc.VolunteerIntakeHeld(volunteer_id="v3", project_id="pA", held_on=D("2026-02-05")), "2026-02-05")
    rec(s, rc.VolunteerScreened(volunteer_id="v3", project_id="pA", screened_on=D("2026-02-10"),
                                outcome=rc.ScreeningOutcome.not_approved,
                                refusal_reason=rc.ScreeningRefusal.profile_does_not_fit), "2026-02-10")
    rec(s, rc.VolunteerStopped(volunteer_id="v3", project_id="pA", reason=rc.StopReason.not_approved), "2026-02-10")
    enquiry("v4", "pB", "2026-01-20", "volunteer_platform")
    rec(s, rc.VolunteerStopped(volunteer_id="v4", project_id="pB", reason=rc.StopReason.no_time), "2026-03-05")
    enquiry("v5", "pC", "2026-03-01", "website")
    rec(s, rc.VolunteerIntakeHeld(volunteer_id="v5", project_id="pC", held_on=D("2026-03-15")), "2026-03-15")
    enquiry("v6", "pC", "2025-11-01", "referral")
    prepared("v6", "pC", "2025-11-05", "2025-11-10", ["2025-11-20"], "2025-12-01")
    rec(s, rc.VolunteerPaused(volunteer_id="v6", project_id="pC", until=D("2026-02-01")), "2026-01-10")
    rec(s, rc.VolunteerResumed(volunteer_id="v6", project_id="pC"), "2026-02-01")
    enquiry("v7", "pB", "2025-08-01", "event")
    prepared("v7", "pB", "2025-08-05", "2025-08-10", ["2025-08-15"], "2025-08-20")

    # participants
    def refer(pt: str, p: str, on: str, group: str, referrer: str, domains: list[str]) -> None:
        mat(s, mt.ParticipantReferred(
            participant_id=pt, project_id=p, target_group=TargetGroup(group), referrer_type=mt.ReferrerType(referrer),
            life_domains=[mt.LifeDomain(d) for d in domains], municipality_nis="11002", consent_recorded=True,
            consent=mt.Consent(scopes=list(mt.REQUIRED_CONSENT)), referred_on=D(on)), on)

    refer("pt1", "pA", "2026-01-07", "individual_adult", "social_services", ["poverty", "isolation"])
    mat(s, mt.ParticipantIntakeHeld(participant_id="pt1", project_id="pA", held_on=D("2026-01-12")), "2026-01-12")
    refer("pt2", "pA", "2025-12-20", "family", "school", ["isolation"])
    refer("pt3", "pC", "2026-02-01", "youth", "self", ["newcomer"])
    refer("pt4", "pB", "2026-02-10", "child", "school", ["poverty"])
    mat(s, mt.ParticipantConsentRecorded(participant_id="pt4", project_id="pB",
                                         consent=mt.Consent(scopes=list(mt.REQUIRED_CONSENT))), "2026-02-11")
    mat(s, mt.ParticipantWithdrawn(participant_id="pt4", project_id="pB", reason=mt.WithdrawalReason.waited_too_long,
                                   withdrawn_on=D("2026-03-20")), "2026-03-20")
    refer("pt5", "pB", "2025-09-01", "individual_adult", "general_practitioner", ["isolation"])

    # duos
    def start(d: str, p: str, v: str, pt: str, on: str, after_proposal: bool = True) -> None:
        mat(s, mt.DuoStarted(duo_id=d, project_id=p, volunteer_id=v, participant_id=pt, started_on=D(on),
                             agreed_contacts_per_month=2, after_proposal=after_proposal), on)
        rec(s, rc.VolunteerJoinedDuo(volunteer_id=v, project_id=p, duo_id=d, joined_on=D(on)), on)

    def end(d: str, p: str, v: str, pt: str, on: str, reason: str, planned: bool) -> None:
        mat(s, mt.DuoEnded(duo_id=d, project_id=p, volunteer_id=v, participant_id=pt, ended_on=D(on),
                           reason=mt.EndReason(reason), planned=planned), on)
        rec(s, rc.VolunteerLeftDuo(volunteer_id=v, project_id=p, duo_id=d, left_on=D(on)), on)

    def propose(d: str, p: str, v: str, pt: str, on: str) -> None:
        mat(s, mt.DuoProposed(duo_id=d, project_id=p, volunteer_id=v, participant_id=pt, proposed_on=D(on)), on)

    start("d0", "pB", "v7", "pt5", "2025-10-01", after_proposal=False)
    end("d0", "pB", "v7", "pt5", "2026-01-31", "goals_reached", True)
    propose("d9", "pB", "v4", "pt4", "2026-01-25")
    mat(s, mt.DuoDeclined(duo_id="d9", project_id="pB", party=mt.Party.participant, reason="no_click"), "2026-01-28")
    propose("d1", "pA", "v1", "pt1", "2026-02-10")
    for party in mt.Party:
        mat(s, mt.DuoAccepted(duo_id="d1", project_id="pA", party=party), "2026-02-12")
    start("d1", "pA", "v1", "pt1", "2026-02-20")
    mat(s, mt.DuoPaused(duo_id="d1", project_id="pA", paused_on=D("2026-03-01"), reason=mt.PauseReason.holiday),
        "2026-03-01")
    mat(s, mt.DuoResumed(duo_id="d1", project_id="pA", resumed_on=D("2026-03-15")), "2026-03-15")
    propose("d2", "pA", "v2", "pt2", "2026-03-01")
    start("d2", "pA", "v2", "pt2", "2026-03-10")
    start("d3", "pC", "v6", "pt3", "2026-02-15", after_proposal=False)
    end("d3", "pC", "v6", "pt3", "2026-03-25", "mismatch", False)
    mat(s, mt.ParticipantReturnedToWaitingList(participant_id="pt3", project_id="pC", reason=mt.ReturnReason.mismatch,
                                               duo_id="d3"), "2026-03-26", stream="pt3")

    # contacts (c01 entered late; c32 entered after the quarter)
    fol(s, contact("c03", "d0", "pB", "2025-12-15", "phone", ["coffee_or_chat"], 30), "2025-12-15")
    fol(s, contact("c01", "d0", "pB", "2026-01-05", "in_person", ["walk"], 60), "2026-01-05", recorded="2026-02-03")
    fol(s, contact("c02", "d0", "pB", "2026-01-20", "phone", ["coffee_or_chat"], 30), "2026-01-20")
    fol(s, contact("c11", "d1", "pA", "2026-02-22", "in_person", ["walk", "accompany_food_bank"], 90), "2026-02-22")
    fol(s, contact("c12", "d1", "pA", "2026-03-20", "in_person", ["shopping"], 60), "2026-03-20")
    fol(s, contact("c13", "d1", "pA", "2026-03-25", "phone", ["walk"], 30, fu.ContactDrafted), "2026-03-25")
    fol(s, contact("c14", "d1", "pA", "2026-03-28", "phone", ["walk"], 30), "2026-03-28")
    fol(s, fu.ContactRetracted(contact_id="c14", duo_id="d1", project_id="pA",
                               reason=fu.ContactRetractionReason.duplicate), "2026-03-28")
    fol(s, contact("c15", "d1", "pA", "2026-03-29", "phone", ["coffee_or_chat"], 20), "2026-03-29")
    fol(s, contact("c15", "d1", "pA", "2026-04-02", "phone", ["coffee_or_chat"], 20, fu.ContactCorrected), "2026-03-30")
    if corrected_directly:
        fol(s, contact("c16", "d1", "pA", "2026-03-06", "in_person", ["accompany_doctor"], 45), "2026-03-05")
    else:
        fol(s, contact("c16", "d1", "pA", "2026-03-05", "video", ["other"], 30), "2026-03-05")
        fol(s, contact("c16", "d1", "pA", "2026-03-06", "in_person", ["accompany_doctor"], 45, fu.ContactCorrected),
            "2026-03-07")
    fol(s, contact("c21", "d2", "pA", "2026-03-12", "in_person", ["walk"], 60), "2026-03-12")
    fol(s, contact("c31", "d3", "pC", "2026-02-16", "in_person", ["playground_or_children_activity"], 120), "2026-02-16")
    fol(s, contact("c32", "d3", "pC", "2026-03-01", "message", ["other"], 10), "2026-03-01", recorded="2026-04-02")
    fol(s, fu.CheckInCadenceSet(project_id="pA", first_period_days=30, first_period_contacts=2, max_gap_days=31),
        "2026-01-02", stream="cadence-pA")

    # coaching
    def coaching(session: str, p: str, on: str, kind: str, minutes: int, themes: list[str], vols: list[str]) -> None:
        fol(s, fu.CoachingSessionLogged(session_id=session, project_id=p, kind=fu.CoachingKind(kind),
                                        session_date=D(on), minutes=minutes,
                                        themes=[fu.CoachingTheme(t) for t in themes], volunteer_ids=vols),
            on, stream=session)

    coaching("s1", "pA", "2026-01-15", "group", 120, ["boundaries", "communication"], ["v1", "v2"])
    coaching("s2", "pA", "2026-02-10", "individual", 45, ["role_of_the_buddy"], ["v1"])
    coaching("s3", "pC", "2026-03-05", "intervision", 90, ["boundaries"], ["v6"])

    # boundary signals
    def signal(b: str, d: str, p: str, on: str, kind: str, severity: str) -> None:
        fol(s, fu.BoundarySignalRaised(signal_id=b, duo_id=d, project_id=p, signal_type=fu.BoundarySignalType(kind),
                                       severity=fu.BoundarySeverity(severity), raised_by=fu.BoundaryRaisedBy.buddy,
                                       raised_on=D(on)), on, stream=b)

    def resolved(b: str, d: str, p: str, on: str, how: str) -> None:
        fol(s, fu.BoundarySignalResolved(signal_id=b, duo_id=d, project_id=p, resolution=fu.BoundaryResolution(how),
                                         resolved_on=D(on)), on, stream=b)

    signal("b1", "d1", "pA", "2026-03-02", "money_or_goods_asked", "high")
    fol(s, fu.BoundarySignalFollowedUp(signal_id="b1", duo_id="d1", project_id="pA",
                                       action=fu.BoundaryFollowUpAction.conversation_with_buddy,
                                       followed_up_on=D("2026-03-04"), severity=fu.BoundarySeverity.medium),
        "2026-03-04", stream="b1")
    resolved("b1", "d1", "pA", "2026-03-12", "agreements_made")
    signal("b2", "d3", "pC", "2026-02-20", "conflict", "medium")
    resolved("b2", "d3", "pC", "2026-03-25", "duo_paused_or_ended")
    signal("b3", "d2", "pA", "2026-03-30", "safety", "critical")

    # goals and evaluations
    def goal(g: str, d: str, p: str, on: str, domain: str, baseline: int) -> None:
        fol(s, fu.GoalSet(goal_id=g, duo_id=d, project_id=p, domain=fu.GoalDomain(domain), set_on=D(on),
                          baseline=baseline, target=8), on, stream=g)

    def progress(g: str, d: str, p: str, on: str, score: int) -> None:
        fol(s, fu.GoalProgressRecorded(goal_id=g, duo_id=d, project_id=p, recorded_on=D(on), score=score), on,
            stream=g)

    def closed(g: str, d: str, p: str, on: str, outcome: str) -> None:
        fol(s, fu.GoalClosed(goal_id=g, duo_id=d, project_id=p, closed_on=D(on), outcome=fu.GoalOutcome(outcome)), on,
            stream=g)

    goal("g1", "d1", "pA", "2026-02-25", "social_network", 3)
    progress("g1", "d1", "pA", "2026-03-20", 5)
    goal("g2", "d3", "pC", "2026-02-18", "language", 2)
    progress("g2", "d3", "pC", "2026-03-10", 4)
    closed("g2", "d3", "pC", "2026-03-25", "partly_achieved")
    goal("g3", "d0", "pB", "2025-11-01", "wellbeing", 4)
    progress("g3", "d0", "pB", "2026-01-10", 8)
    closed("g3", "d0", "pB", "2026-01-31", "achieved")

    def evaluation(d: str, p: str, moment: str, on: str, wellbeing: int, network: int) -> None:
        fol(s, fu.EvaluationRecorded(duo_id=d, project_id=p, moment=fu.EvaluationMoment(moment), evaluated_on=D(on),
                                     wellbeing=wellbeing, network_size=network), on, stream=f"eval-{d}")

    evaluation("d0", "pB", "start", "2025-10-05", 4, 3)
    evaluation("d0", "pB", "final", "2026-01-30", 7, 5)
    evaluation("d3", "pC", "start", "2026-02-16", 6, 4)
    evaluation("d3", "pC", "final", "2026-03-24", 5, 4)
    evaluation("d1", "pA", "start", "2026-02-22", 5, 2)

    # follow-up calls (of duos that ended before this history's detail)
    def call(c: str, d: str, p: str, due: str, scheduled: str) -> None:
        fol(s, fu.FollowUpCallScheduled(call_id=c, duo_id=d, project_id=p, months_after_end=3, ended_on=D(scheduled),
                                        due_on=D(due)), scheduled, stream=c)

    call("x1", "dx", "pB", "2026-02-28", "2025-11-28")
    fol(s, fu.FollowUpCallCompleted(call_id="x1", duo_id="dx", project_id="pB", outcome=fu.FollowUpCallOutcome.reached,
                                    completed_on=D("2026-03-02"), attempts=1, still_in_contact_with_buddy=True,
                                    network_change=fu.NetworkChange.grown, wellbeing=8), "2026-03-02", stream="x1")
    call("x2", "dy", "pA", "2026-03-15", "2025-12-15")
    fol(s, fu.FollowUpCallAttempted(call_id="x2", duo_id="dy", project_id="pA", attempt=1,
                                    attempted_on=D("2026-03-16")), "2026-03-16", stream="x2")
    fol(s, fu.FollowUpCallCompleted(call_id="x2", duo_id="dy", project_id="pA",
                                    outcome=fu.FollowUpCallOutcome.not_reachable, completed_on=D("2026-03-20"),
                                    attempts=2), "2026-03-20", stream="x2")
    call("x3", "dz", "pC", "2026-01-31", "2025-10-31")
    call("x4", "dy", "pA", "2026-04-30", "2026-01-30")
    call("x5", "dz", "pC", "2026-02-20", "2025-11-20")  # the participant withdraws consent: never due
    fol(s, fu.FollowUpCallCancelled(call_id="x5", duo_id="dz", project_id="pC", cancelled_on=D("2026-02-10"),
                                    reason=fu.CallCancelReason.consent_withdrawn), "2026-02-10", stream="x5")

    # policy signals
    def policy(ps: str, p: str, on: str, theme: str, summary: str | None = None) -> None:
        fol(s, fu.PolicySignalRecorded(signal_id=ps, project_id=p, theme=fu.PolicyTheme(theme), observed_on=D(on)), on,
            stream=ps)
        if summary:
            fol(s, fu.PolicySignalSummaryConfirmed(signal_id=ps, project_id=p, theme=fu.PolicyTheme(theme),
                                                   summary=summary, confirmed_on=D(on)), on, stream=ps)

    if erasures:  # the duo ended on 2026-03-25; both asked to be forgotten
        rec(s, rc.VolunteerPersonalDataErased(volunteer_id="v6", project_id="pC"), "2026-03-28")
        mat(s, mt.ParticipantPersonalDataErased(participant_id="pt3", project_id="pC"), "2026-03-28")
    policy("ps1", "pA", "2026-01-20", "digital_barriers", "Loketten zijn alleen nog online bereikbaar.")
    policy("ps2", "pB", "2026-02-11", "digital_barriers")
    policy("ps3", "pC", "2026-03-03", "housing", "Een huurwaarborg is niet op te brengen.")
    policy("ps4", "pA", "2025-12-01", "finances", "Schulden stapelen zich op.")
    return s


def history(folder: Path, **options: Any) -> tuple[dict[str, EventStore], FixedClock]:
    return script(**options).write(folder)


def test_the_script_records_in_order_with_intact_chains(tmp_path: Path) -> None:
    stores, _ = history(tmp_path)
    for store in stores.values():
        assert store.verify().ok
        events = store.read_after(0, 10_000)
        assert [e.envelope.recorded_at for e in events] == sorted(e.envelope.recorded_at for e in events)
