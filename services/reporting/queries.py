"""Reads of the projections: the facts behind every indicator, for one scope and period.

Each function returns plain rows (``Fact``: project, month, attributes, count, and the
values statistics need); ``reports`` turns them into protected tables. With the window's
``Placing`` the counting reads group by the report's own unit (project or region) and
bucket (month, quarter or year) in the database: one row per published cell instead of
one per project and month. Joins across
upstreams (a contact's target group lives in matching's tables) happen here, at query
time, never in the projections.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import re

from sqlalchemy import Connection, and_, case, func, literal_column, select, true
from sqlalchemy.sql import ColumnElement

from shared.eventstore.tables import consumer_checkpoints
from services.reporting.projections import ACCOMPANIMENT
from services.reporting.read_models import (
    boundary_signals, coaching_attendance, coaching_sessions, contact_activity_months, contact_months, contacts, duo_pauses, duos, evaluations,
    followup_calls, goals, keep_warm, participant_events, participants, policy_signals, projects, proposals,
    volunteer_duos, volunteers)

Basis = Literal["occurred", "recorded"]

# --------------------------------------------------------------------------- the project summary (as before)
INDICATORS = {
    "available_volunteers": "Vrijwilligers beschikbaar in de pool, nog zonder duo / Volunteers available in the pool, not yet in a duo",
    "active_duos": "Lopende duo's / Duos running now",
    "contacts": "Gelogde contacten van duo's / Logged contacts of duos",
}


def project_region(conn: Connection, project_id: str) -> str | None:
    return conn.execute(select(projects.c.region).where(projects.c.project_id == project_id)).scalar()


def project_counts(conn: Connection, project_id: str) -> dict[str, int]:
    in_a_duo = select(duos.c.volunteer_id).where(duos.c.status == "active")
    available = conn.execute(select(func.count()).select_from(volunteers).where(
        volunteers.c.project_id == project_id, volunteers.c.status == "available",
        volunteers.c.volunteer_id.not_in(in_a_duo))).scalar_one()
    active = conn.execute(select(func.count()).select_from(duos).where(
        duos.c.project_id == project_id, duos.c.status == "active")).scalar_one()
    logged = conn.execute(select(func.count()).select_from(contacts).where(contacts.c.project_id == project_id)).scalar_one()
    return {"available_volunteers": available, "active_duos": active, "contacts": logged}


def watermark(conn: Connection, consumer: str) -> dict[str, int]:
    rows = conn.execute(select(consumer_checkpoints.c.upstream, consumer_checkpoints.c.position)
                        .where(consumer_checkpoints.c.consumer == consumer))
    return {upstream: position for upstream, position in rows}


# --------------------------------------------------------------------------- the project register
@dataclass(frozen=True)
class Project:
    project_id: str
    title: str
    region: str
    target_groups: tuple[str, ...]


def project_register(conn: Connection) -> dict[str, Project]:
    rows = conn.execute(select(projects.c.project_id, projects.c.title, projects.c.region, projects.c.target_groups)
                        .order_by(projects.c.project_id))
    return {p: Project(p, t, r, tuple(g.split(",")) if g else ()) for p, t, r, g in rows}


def regions(conn: Connection) -> list[str]:
    return sorted(set(conn.execute(select(projects.c.region)).scalars()))


# --------------------------------------------------------------------------- facts
@dataclass(frozen=True)
class Window:
    """The period and the date basis of a report: which dates count, and in which month."""

    start: date
    end: date
    basis: Basis
    projects: tuple[str, ...] | None = None  # the projects in scope; None: all of them
    placing: "Placing | None" = None  # group facts by the report's unit and bucket in the database


    @property
    def first(self) -> str:
        return self.start.isoformat()

    @property
    def last(self) -> str:
        return self.end.isoformat()

    def col(self, table: Any, stem: str) -> Any:
        """The date column of a fact on this basis: ``<stem>_on`` or ``<stem>_rec``."""
        return table.c[f"{stem}_{'on' if self.basis == 'occurred' else 'rec'}"]

    def within(self, column: Any, project: Any) -> ColumnElement[bool]:
        """The fact's day in the period, and its project in scope."""
        return and_(column >= self.first, column <= self.last, self.in_scope(project))

    def in_scope(self, project: Any) -> ColumnElement[bool]:
        return true() if self.projects is None else project.in_(self.projects)


@dataclass(frozen=True)
class Placing:
    """Where a report puts a fact: its unit (the project, or the project's region) and bucket.

    With it the counting queries group by the report's own cells in the database and
    return one row per unit, bucket and attributes instead of one per project and month.
    """

    unit: Literal["project", "region"]
    buckets: tuple[tuple[str, str], ...]  # (month YYYY-MM, bucket label) for every month of the period

    def __post_init__(self) -> None:
        if any(not _LABEL.fullmatch(x) for pair in self.buckets for x in pair):
            raise ValueError("months and buckets are YYYY-MM, YYYY-Qn or YYYY")


_LABEL = re.compile(r"\d{4}(-\d{2}|-Q[1-4])?")


@dataclass
class Fact:
    """``n`` facts of one project in one month with the same attributes; ``values`` for statistics.

    ``placed``: already grouped by the report's unit and bucket (``project`` holds the unit,
    ``month`` the bucket; see ``Placing``).
    """

    project: str
    month: str
    attrs: tuple[str, ...]
    n: int
    values: list[float] = field(default_factory=list)
    placed: bool = False


def _month(column: Any) -> Any:
    # literal positions: with bound ones PostgreSQL cannot match the GROUP BY to the SELECT
    return func.substr(column, literal_column("1"), literal_column("7"))


def _bucket(month: Any, placing: Placing) -> Any:
    """The bucket of a month expression; literals (checked labels), for the GROUP BY as above."""
    if all(m == b for m, b in placing.buckets):
        return month
    return case(*[(month == literal_column(f"'{m}'"), literal_column(f"'{b}'")) for m, b in placing.buckets],
                else_=None)


def _unit(project: Any, placing: Placing) -> tuple[Any, Any]:
    """The unit of a project column, and the join that gives it (the region lives in the register)."""
    if placing.unit == "project":
        return project, None
    return projects.c.region, (projects, projects.c.project_id == project)


def _place(select_from: Any, project: Any, month: Any, placing: Placing | None) -> tuple[Any, Any, Any]:
    """(from clause, unit expression, bucket expression) of a query on the window's placing."""
    if placing is None:
        return select_from, project, month
    unit, join = _unit(project, placing)
    if join is not None:
        select_from = select_from.outerjoin(*join)
    return select_from, unit, _bucket(month, placing)


def _grouped(conn: Connection, table: Any, day: Any, window: Window, attrs: Sequence[Any] = (),
             where: Iterable[ColumnElement[bool]] = (), select_from: Any = None) -> list[Fact]:
    source, unit, bucket = _place(select_from if select_from is not None else table, table.c.project_id,
                                  _month(day), window.placing)
    query = (select(unit, bucket, *attrs, func.count())
             .select_from(source)
             .where(window.within(day, table.c.project_id), *where)
             .group_by(unit, bucket, *attrs))
    placed = window.placing is not None
    return [Fact(row[0], row[1], tuple(_code(v) for v in row[2:-1]), int(row[-1]), placed=placed)
            for row in conn.execute(query)]


def _code(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ----------------------------------------------------------------- volunteers
def volunteer_steps(conn: Connection, window: Window) -> dict[str, list[Fact]]:
    v = volunteers
    return {
        "volunteers_enquired": _grouped(conn, v, window.col(v, "enquired"), window, [v.c.channel]),
        "volunteers_intake": _grouped(conn, v, window.col(v, "intake"), window),
        "volunteers_approved": _grouped(conn, v, window.col(v, "screened"), window,
                                        where=[v.c.screening == "approved"]),
        "volunteers_coached": _grouped(conn, v, window.col(v, "trained"), window),
        "volunteers_available": _grouped(conn, v, window.col(v, "available"), window),
        "volunteers_stopped": _grouped(conn, v, window.col(v, "stopped"), window, [v.c.stop_reason]),
        "keep_warm_contacts": _grouped(conn, keep_warm, window.col(keep_warm, "contacted"), window, [keep_warm.c.kind]),
    }


def volunteers_first_duo(conn: Connection, window: Window) -> list[tuple[str, str, int | None]]:
    """(project, day of the first duo on the basis, days waited since first available or None)."""
    vd, v = volunteer_duos, volunteers
    first_on, first_rec = func.min(vd.c.joined_on), func.min(vd.c.joined_rec)
    first = first_on if window.basis == "occurred" else first_rec
    # all projects: only volunteers who joined a duo in the window can have their first one in it
    # (with projects in scope, their volunteers are the cheaper filter)
    joined = window.col(vd, "joined")
    in_window = (true() if window.projects is not None else
                 v.c.volunteer_id.in_(select(vd.c.volunteer_id).where(joined >= window.first, joined <= window.last)))
    query = (select(v.c.project_id, first_on, first_rec, v.c.available_on)
             .select_from(vd.join(v, v.c.volunteer_id == vd.c.volunteer_id))
             .where(window.in_scope(v.c.project_id), in_window)
             .group_by(v.c.volunteer_id, v.c.project_id, v.c.available_on)
             .having(and_(first >= window.first, first <= window.last)))
    out = []
    for project, joined_on, joined_rec, available_on in conn.execute(query):
        waited = None if available_on is None else _days(available_on, joined_on)
        if waited is not None and waited < 0:
            waited = None  # a duo before the availability (an older history): unknown, not a wait of zero
        out.append((project, joined_on if window.basis == "occurred" else joined_rec, waited))
    return out


# ----------------------------------------------------------------- participants
def participant_steps(conn: Connection, window: Window) -> dict[str, list[Fact]]:
    p, pe = participants, participant_events
    return {
        "participants_referred": _grouped(conn, p, window.col(p, "referred"), window,
                                          [p.c.target_group, p.c.referrer_type, p.c.life_domains]),
        "participants_intake": _grouped(conn, p, window.col(p, "intake"), window),
        "participants_withdrawn": _grouped(conn, pe, window.col(pe, "happened"), window, [pe.c.reason],
                                           where=[pe.c.kind == "withdrawn"]),
        "participants_returned": _grouped(conn, pe, window.col(pe, "happened"), window,
                                          where=[pe.c.kind == "returned"]),
    }


# ----------------------------------------------------------------- duos
def proposals_made(conn: Connection, window: Window) -> list[Fact]:
    pr = proposals
    day = window.col(pr, "proposed")
    source, unit, bucket = _place(pr.outerjoin(duos, duos.c.duo_id == pr.c.duo_id), pr.c.project_id, _month(day),
                                  window.placing)
    query = (select(unit, bucket, duos.c.duo_id.is_not(None), pr.c.declined_by.is_not(None), func.count())
             .select_from(source)
             .where(window.within(day, pr.c.project_id))
             .group_by(unit, bucket, duos.c.duo_id.is_not(None), pr.c.declined_by.is_not(None)))
    out = []
    for project, month, started, declined, n in conn.execute(query):
        state = "started" if started else "declined" if declined else "open"
        out.append(Fact(project, month, (state,), int(n), placed=window.placing is not None))
    return out


def duos_started(conn: Connection, window: Window) -> list[Fact]:
    """Per duo started in the window: target group and the participant's waiting days (as values)."""
    d, p = duos, participants
    day = window.col(d, "started")
    query = (select(d.c.project_id, day, p.c.target_group, d.c.participant_waited_days)
             .select_from(d.outerjoin(p, p.c.participant_id == d.c.participant_id))
             .where(window.within(day, d.c.project_id)))
    return [Fact(project, on[:7], (_code(group),), 1, [] if waited is None else [float(waited)])
            for project, on, group, waited in conn.execute(query)]


def duos_ended(conn: Connection, window: Window) -> list[Fact]:
    """Per duo ended in the window: target group, reason, planned; its duration in days as value."""
    d, p = duos, participants
    day = window.col(d, "ended")
    query = (select(d.c.project_id, day, p.c.target_group, d.c.end_reason, d.c.planned, d.c.started_on, d.c.ended_on)
             .select_from(d.outerjoin(p, p.c.participant_id == d.c.participant_id))
             .where(d.c.ended_on.is_not(None), window.within(day, d.c.project_id)))
    return [Fact(project, on[:7], (_code(group), _code(reason), "planned" if planned else "unplanned"), 1,
                 [float(max(0, _days(started, ended)))])
            for project, on, group, reason, planned, started, ended in conn.execute(query)]


@dataclass(frozen=True)
class DuoSpan:
    duo_id: str
    project: str
    target_group: str
    start: str
    end: str | None
    pauses: tuple[tuple[str, str | None], ...]

    def ran_between(self, first: str, last: str) -> bool:
        """Whether the duo ran on at least one day of [first, last]: started, not yet ended (the end
        day counts), not paused (a pause covers its first day up to the day before the resumption)."""
        cursor = max(first, self.start)
        hi = last if self.end is None else min(last, self.end)
        for paused, resumed in self.pauses:  # in order, not overlapping
            if cursor > hi:
                return False
            if paused > cursor:
                return True
            if resumed is None:
                return False
            cursor = max(cursor, resumed)
        return cursor <= hi


def duo_spans(conn: Connection, window: Window) -> list[DuoSpan]:
    """Duos that may have run in the window, with their pauses (dates on the report's basis)."""
    d, p, dp = duos, participants, duo_pauses
    start, end = window.col(d, "started"), window.col(d, "ended")
    query = (select(d.c.duo_id, d.c.project_id, p.c.target_group, start, end)
             .select_from(d.outerjoin(p, p.c.participant_id == d.c.participant_id))
             .where(start <= window.last, (end.is_(None)) | (end >= window.first), window.in_scope(d.c.project_id)))
    rows = sorted(conn.execute(query).all(), key=lambda r: r[0])
    paused, resumed = window.col(dp, "paused"), window.col(dp, "resumed")
    pauses: dict[str, list[tuple[str, str | None]]] = {}
    for duo_id, a, b, _ in sorted(conn.execute(select(dp.c.duo_id, paused, resumed, dp.c.event_id)
                                               .where(paused <= window.last, window.in_scope(dp.c.project_id))),
                                    key=lambda r: (r[0], r[1], r[3])):
        pauses.setdefault(duo_id, []).append((a, b))
    return [DuoSpan(duo_id, project, _code(group), s, e, tuple(pauses.get(duo_id, ())))
            for duo_id, project, group, s, e in rows]


def duo_pauses_started(conn: Connection, window: Window) -> list[Fact]:
    dp = duo_pauses
    return _grouped(conn, dp, window.col(dp, "paused"), window, [dp.c.reason])


# ----------------------------------------------------------------- contacts
# Read from the monthly counts (``rp_contact_months``, ``rp_contact_activity_months``), not
# the contacts: a report's period is whole months, so the months of the period hold exactly
# the contacts whose day is in it.
def _months(table: Any, window: Window) -> ColumnElement[bool]:
    return and_(table.c.basis == window.basis, table.c.month >= window.first[:7], table.c.month <= window.last[:7],
                window.in_scope(table.c.project_id))


def contact_facts(conn: Connection, window: Window) -> list[Fact]:
    """Contacts grouped by project, month, mode and target group; their minutes summed (value)."""
    c, d, p = contact_months, duos, participants
    source, unit, bucket = _place(
        c.outerjoin(d, d.c.duo_id == c.c.duo_id).outerjoin(p, p.c.participant_id == d.c.participant_id),
        c.c.project_id, c.c.month, window.placing)
    query = (select(unit, bucket, c.c.mode, p.c.target_group, func.sum(c.c.n), func.sum(c.c.minutes))
             .select_from(source)
             .where(_months(c, window))
             .group_by(unit, bucket, c.c.mode, p.c.target_group)
             .having(func.sum(c.c.n) > 0))
    placed = window.placing is not None
    return [Fact(project, m, (str(mode), _code(group)), int(n), [float(minutes)], placed=placed)
            for project, m, mode, group, n, minutes in conn.execute(query)]


def contact_activities(conn: Connection, window: Window, activities: Sequence[str],
                       accompany: Sequence[str]) -> list[tuple[str, str, list[int], int]]:
    """Per project and month (with a placing: per unit and bucket): contacts with each activity,
    and contacts with any accompaniment.

    ``accompany`` must be the activities starting with ``accompany_``: the counts of
    contacts with any of them are kept under ``ACCOMPANIMENT`` (see ``projections``).
    """
    if any(not a.startswith("accompany_") for a in accompany):
        raise ValueError("accompaniment is the activities starting with accompany_")
    a = contact_activity_months
    source, unit, bucket = _place(a, a.c.project_id, a.c.month, window.placing)
    per: dict[tuple[str, str], dict[str, int]] = {}
    for project, month, activity, n in conn.execute(
            select(unit, bucket, a.c.activity, func.sum(a.c.n)).select_from(source).where(_months(a, window))
            .group_by(unit, bucket, a.c.activity)):
        if project is None or month is None:  # a project not in the register: no unit
            continue
        per.setdefault((project, month), {})[activity] = int(n)
    return [(project, month, [counts.get(code, 0) for code in activities], counts.get(ACCOMPANIMENT, 0))
            for (project, month), counts in sorted(per.items())]


# ----------------------------------------------------------------- coaching
def coaching_facts(conn: Connection, window: Window) -> list[Fact]:
    s = coaching_sessions
    return _grouped(conn, s, window.col(s, "session"), window, [s.c.kind, s.c.themes])


def coached_volunteers(conn: Connection, window: Window) -> list[tuple[str, int, int]]:
    """(project, sessions, minutes) per volunteer coached in the window (counted in the session's project)."""
    a = coaching_attendance
    day = window.col(a, "session")
    query = (select(a.c.project_id, func.count(), func.sum(a.c.minutes))
             .where(window.within(day, a.c.project_id))
             .group_by(a.c.volunteer_id, a.c.project_id))
    return [(project, int(n), int(minutes)) for project, n, minutes in conn.execute(query)]


# ----------------------------------------------------------------- boundary signals
def boundary_raised(conn: Connection, window: Window) -> list[Fact]:
    b = boundary_signals
    return _grouped(conn, b, window.col(b, "raised"), window, [b.c.signal_type, b.c.severity])


def boundary_resolved(conn: Connection, window: Window) -> list[Fact]:
    b = boundary_signals
    day = window.col(b, "resolved")
    query = (select(b.c.project_id, day, b.c.resolution, b.c.raised_on, b.c.resolved_on)
             .where(b.c.resolved_on.is_not(None), window.within(day, b.c.project_id)))
    return [Fact(project, on[:7], (_code(resolution),), 1, [float(max(0, _days(raised, resolved)))])
            for project, on, resolution, raised, resolved in conn.execute(query)]


# ----------------------------------------------------------------- goals and evaluations
def goals_set(conn: Connection, window: Window) -> list[Fact]:
    return _grouped(conn, goals, window.col(goals, "set"), window, [goals.c.domain])


def goals_closed(conn: Connection, window: Window) -> list[Fact]:
    g = goals
    day = window.col(g, "closed")
    query = (select(g.c.project_id, day, g.c.outcome, g.c.baseline, g.c.latest_score)
             .where(g.c.closed_on.is_not(None), window.within(day, g.c.project_id)))
    return [Fact(project, on[:7], (_code(outcome),), 1, [] if score is None else [float(score - baseline)])
            for project, on, outcome, baseline, score in conn.execute(query)]


def evaluation_changes(conn: Connection, window: Window) -> list[Fact]:
    """Duos with a final evaluation in the window and a start evaluation: values (Δ wellbeing, Δ network)."""
    final, start = evaluations.alias("final"), evaluations.alias("start")
    day = final.c.evaluated_on if window.basis == "occurred" else final.c.evaluated_rec
    query = (select(final.c.project_id, day, final.c.wellbeing - start.c.wellbeing,
                    final.c.network_size - start.c.network_size)
             .select_from(final.join(start, and_(start.c.duo_id == final.c.duo_id, start.c.moment == "start")))
             .where(final.c.moment == "final", window.within(day, final.c.project_id)))
    return [Fact(project, on[:7], (_change(dw), _change(dn)), 1, [float(dw), float(dn)])
            for project, on, dw, dn in conn.execute(query)]


def _change(delta: int) -> str:
    return "improved" if delta > 0 else "declined" if delta < 0 else "same"


# ----------------------------------------------------------------- follow-up calls
def calls_due(conn: Connection, window: Window) -> list[Fact]:
    """Per call due in the window: its status; values: [still in contact (0/1)] and [wellbeing] when reached."""
    f = followup_calls
    day = f.c.due_on if window.basis == "occurred" else f.c.scheduled_rec
    query = (select(f.c.project_id, day, f.c.outcome, f.c.network_change, f.c.still_in_contact, f.c.wellbeing)
             .where(window.within(day, f.c.project_id)))
    out = []
    for project, on, outcome, network, still, wellbeing in conn.execute(query):
        if outcome is None:
            status = "open"
        elif outcome == "reached":
            status = f"reached_{network or 'unknown'}"
        else:
            status = str(outcome)
        values = [float(still) if still is not None else float("nan"),
                  float(wellbeing) if wellbeing is not None else float("nan")]
        out.append(Fact(project, on[:7], (status,), 1, values))
    return out


# ----------------------------------------------------------------- policy signals
def policy_signal_facts(conn: Connection, window: Window) -> list[Fact]:
    s = policy_signals
    return _grouped(conn, s, window.col(s, "observed"), window, [s.c.theme])


def policy_summaries(conn: Connection, window: Window) -> list[tuple[str, str, str, str]]:
    """(project, theme, observed day, summary) of confirmed summaries of signals in the window."""
    s = policy_signals
    day = window.col(s, "observed")
    query = (select(s.c.project_id, s.c.theme, day, s.c.summary, s.c.signal_id)
             .where(s.c.summary.is_not(None), window.within(day, s.c.project_id)))
    # ordered here, not by the database: the collation of text differs between SQLite and PostgreSQL
    rows = sorted(conn.execute(query), key=lambda r: (r[1], r[2], r[4]))
    return [(project, theme, on, summary) for project, theme, on, summary, _ in rows]


# --------------------------------------------------------------------------- "as known on"
RECORDED = [
    (volunteers, ("enquired_rec", "intake_rec", "screened_rec", "trained_rec", "available_rec", "stopped_rec")),
    (projects, ("registered_rec", "closed_rec")), (volunteer_duos, ("joined_rec",)),
    (keep_warm, ("contacted_rec",)), (participants, ("referred_rec", "intake_rec")),
    (participant_events, ("happened_rec",)), (proposals, ("proposed_rec", "declined_rec")),
    (duos, ("started_rec", "ended_rec")), (duo_pauses, ("paused_rec", "resumed_rec")), (contacts, ("logged_rec",)),
    (coaching_sessions, ("session_rec",)), (boundary_signals, ("raised_rec", "resolved_rec")),
    (goals, ("set_rec", "closed_rec")), (evaluations, ("evaluated_rec",)),
    (followup_calls, ("scheduled_rec", "completed_rec")), (policy_signals, ("observed_rec", "summary_rec")),
]


def latest_recorded(conn: Connection) -> str | None:
    """The latest day on which anything in the projections was recorded."""
    days = [conn.execute(select(func.max(table.c[c]))).scalar() for table, cols in RECORDED for c in cols]
    return max((d for d in days if d is not None), default=None)


def check_known_on(conn: Connection, day: date) -> None:
    """A report "as known on" a day needs projections rebuilt to that day's watermark.

    Cheap guard against computing it on live projections: nothing in them may have been
    recorded after that day (see ``services.reporting.as_known_on``).
    """
    from shared.domain import InvalidInput

    latest = latest_recorded(conn)
    if latest is not None and latest > day.isoformat():
        raise InvalidInput(
            f"Een rapport zoals gekend op {day} vraagt projecties herbouwd tot die dag (POST /reports) / "
            f"a report as known on {day} needs the projections rebuilt to that day (POST /reports)",
            field="as_known_on")


# --------------------------------------------------------------------------- dates
def _days(first: str, last: str) -> int:
    return (date.fromisoformat(last) - date.fromisoformat(first)).days


