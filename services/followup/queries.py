"""Reads of follow-up: roster, contacts and figures, check-ins, coaching, signals, goals,
evaluations, follow-up calls. Paginated (limit/offset) and filterable; "today" comes
from the runtime's clock, so every list can be checked on a scripted timeline.

Private notes and descriptions are opened from the vault only for professionals of the
project (and admins); after the person's erasure they read as ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, func, select

from shared.auth import Principal, require_project
from shared.domain import NotFound
from shared.events.envelope import Role
from shared.eventstore.db import reader
from shared.eventstore.tables import events
from shared.screening import LegalDates, ScreeningSettings, item_label
from shared.service import ServiceRuntime
from services.followup.config import FollowupSettings
from services.followup.domain import Cadence, CheckIn, ContactValues, check_in, contact_figures, screening_alert
from services.followup.handlers import FollowupHandlers
from services.followup.read_models import (
    boundary_signals,
    cadences,
    calls,
    coaching_attendance,
    coaching_sessions,
    contacts,
    evaluations,
    goals,
    participants,
    policy_signals,
    roster,
    volunteer_legal,
)

_ROSTER_COLUMNS = ("duo_id", "project_id", "volunteer_id", "participant_id", "status", "started_on", "ended_on",
                   "agreed_contacts_per_month", "paused_on", "resumed_on")


def _page(conn: Connection, query: Select, order: Sequence[Any], limit: int, offset: int) -> tuple[int, list[dict]]:
    total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = conn.execute(query.order_by(*order).limit(limit).offset(offset)).mappings().all()
    return total, [dict(r) for r in rows]


def paged(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _check_in_json(c: CheckIn) -> dict[str, Any]:
    return {"rule": c.rule, "due_on": c.due_on.isoformat() if c.due_on else None, "overdue": c.overdue,
            "days_overdue": c.days_overdue, "contacts_in_first_period": c.contacts_in_first_period,
            "last_contact_on": c.last_contact_on.isoformat() if c.last_contact_on else None}


def _contact_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("contact_id", "duo_id", "project_id", "status", "contact_date", "minutes", "mode",
                                "activities", "logged_by", "has_private_note", "corrections", "retraction_reason",
                                "recorded_at", "updated_at")}


def _values(row: Mapping[str, Any]) -> ContactValues:
    return ContactValues.of(date.fromisoformat(row["contact_date"]), row["minutes"], row["mode"], row["activities"],
                            bool(row["has_private_note"]))


class FollowupQueries:
    def __init__(self, runtime: ServiceRuntime, config: FollowupSettings | None = None,
                 screening: ScreeningSettings | None = None) -> None:
        self.runtime = runtime
        self.config = config or FollowupSettings()
        self.screening = screening or ScreeningSettings()
        self._reads = reader(runtime.engine)

    @property
    def today(self) -> date:
        return self.runtime.clock.today()

    # -- helpers
    def _duo(self, conn: Connection, duo_id: str, principal: Principal, *, buddy: bool = False) -> dict[str, Any]:
        row = conn.execute(select(roster).where(roster.c.duo_id == duo_id)).mappings().first()
        if row is None:
            raise NotFound("Duo", "Duo", duo_id)
        FollowupHandlers.authorise_duo(principal, row, buddy=buddy)
        return dict(row)

    @staticmethod
    def _may_read_private(principal: Principal) -> bool:
        return principal.role in (Role.professional, Role.admin)

    def _open(self, conn: Connection, position: int | None, key: str) -> str | None:
        """A sealed text of the event at ``position``; ``None`` when there is none or it was shredded."""
        if position is None or self.runtime.vault is None:
            return None
        row = conn.execute(select(events.c.subject_id, events.c.sealed).where(events.c.position == position)).first()
        if row is None or row.sealed is None:
            return None
        opened = self.runtime.vault.open(row.subject_id, row.sealed, conn)
        return None if opened is None else opened.get(key)

    def cadence_of(self, conn: Connection, project_id: str) -> tuple[Cadence, str]:
        row = conn.execute(select(cadences).where(cadences.c.project_id == project_id)).mappings().first()
        if row is None:
            c = self.config
            return Cadence(c.first_period_days, c.first_period_contacts, c.max_gap_days), "default"
        return Cadence(row["first_period_days"], row["first_period_contacts"], row["max_gap_days"]), "project"

    def _check_in(self, conn: Connection, duo: Mapping[str, Any], cadence: Cadence,
                  dates: list[date] | None = None) -> CheckIn:
        if dates is None:
            dates = [date.fromisoformat(d) for d in conn.execute(select(contacts.c.contact_date).where(
                contacts.c.duo_id == duo["duo_id"], contacts.c.status == "logged")).scalars()]
        return check_in(started_on=date.fromisoformat(duo["started_on"]), contact_dates=dates, cadence=cadence,
                        today=self.today, status=duo["status"],
                        resumed_on=date.fromisoformat(duo["resumed_on"]) if duo["resumed_on"] else None)

    # -- roster and check-ins
    def duo(self, duo_id: str, principal: Principal) -> dict[str, Any]:
        with self._reads.connect() as conn:
            duo = self._duo(conn, duo_id, principal, buddy=True)
            cadence, source = self.cadence_of(conn, duo["project_id"])
            counts = dict(conn.execute(select(contacts.c.status, func.count()).where(contacts.c.duo_id == duo_id)
                                       .group_by(contacts.c.status)).all())
            result = {k: duo[k] for k in _ROSTER_COLUMNS}
            result["check_in"] = _check_in_json(self._check_in(conn, duo, cadence))
            result["cadence"] = {**cadence.__dict__, "source": source}
            result["contacts"] = {s: counts.get(s, 0) for s in ("logged", "draft", "retracted", "discarded")}
            if principal.role is not Role.buddy:
                result["open_boundary_signals"] = conn.execute(select(func.count()).where(
                    boundary_signals.c.duo_id == duo_id, boundary_signals.c.status == "open")).scalar_one()
                result["follow_up_calls"] = [dict(r) for r in conn.execute(
                    select(calls.c.call_id, calls.c.months_after_end, calls.c.due_on, calls.c.status, calls.c.outcome)
                    .where(calls.c.duo_id == duo_id).order_by(calls.c.due_on)).mappings()]
            else:
                result.pop("participant_id")
        return result

    def duos(self, project_id: str, principal: Principal, *, status_filter: str | None, limit: int,
             offset: int) -> dict[str, Any]:
        require_project(principal, project_id)
        query = select(roster).where(roster.c.project_id == project_id)
        if status_filter:
            query = query.where(roster.c.status == status_filter)
        with self._reads.connect() as conn:
            total, rows = _page(conn, query, [roster.c.started_on, roster.c.duo_id], limit, offset)
            cadence, _ = self.cadence_of(conn, project_id)
            items = [{**{k: r[k] for k in _ROSTER_COLUMNS}, "check_in": _check_in_json(self._check_in(conn, r, cadence))}
                     for r in rows]
        return paged(items, total, limit, offset)

    def check_ins(self, project_id: str, principal: Principal, *, overdue_only: bool, limit: int,
                  offset: int) -> dict[str, Any]:
        """Running duos with their next check-in; overdue ones first (longest overdue first)."""
        require_project(principal, project_id)
        with self._reads.connect() as conn:
            cadence, source = self.cadence_of(conn, project_id)
            duos = conn.execute(select(roster).where(roster.c.project_id == project_id,
                                                     roster.c.status == "active")).mappings().all()
            dates: dict[str, list[date]] = {}
            for duo_id, day in conn.execute(select(contacts.c.duo_id, contacts.c.contact_date).where(
                    contacts.c.project_id == project_id, contacts.c.status == "logged")):
                dates.setdefault(duo_id, []).append(date.fromisoformat(day))
            rows = []
            for duo in duos:
                c = self._check_in(conn, duo, cadence, dates.get(duo["duo_id"], []))
                if overdue_only and not c.overdue:
                    continue
                rows.append({"duo_id": duo["duo_id"], "volunteer_id": duo["volunteer_id"],
                             "started_on": duo["started_on"], **_check_in_json(c)})
        rows.sort(key=lambda r: (-r["days_overdue"], r["due_on"] or "", r["duo_id"]))
        return {**paged(rows[offset:offset + limit], len(rows), limit, offset), "today": self.today.isoformat(),
                "cadence": {**cadence.__dict__, "source": source}}

    # -- today
    def screening_alerts(self, conn: Connection, project_id: str) -> list[dict[str, Any]]:
        """Running duos with a child, youth or family whose buddy's extract or insurance lapses."""
        running = conn.execute(
            select(roster, participants.c.target_group)
            .join(participants, participants.c.participant_id == roster.c.participant_id, isouter=True)
            .where(roster.c.project_id == project_id, roster.c.status.in_(["active", "paused"]))
            .order_by(roster.c.started_on, roster.c.duo_id)).mappings().all()
        volunteers = sorted({r["volunteer_id"] for r in running})
        legal: dict[str, dict[str, LegalDates]] = {}
        for row in conn.execute(select(volunteer_legal).where(volunteer_legal.c.volunteer_id.in_(volunteers))).mappings():
            legal.setdefault(row["volunteer_id"], {})[row["item"]] = LegalDates(
                date.fromisoformat(row["dated"]), date.fromisoformat(row["valid_until"]) if row["valid_until"] else None)
        out = []
        for duo in running:
            alert = screening_alert(target_group=duo["target_group"], legal=legal.get(duo["volunteer_id"], {}),
                                    today=self.today, extract_max_age_days=self.screening.extract_max_age_days,
                                    notice_days=self.config.screening_notice_days)
            if alert is None:
                continue
            nl, en = item_label(alert.item)
            out.append({"kind": "screening", "duo_id": duo["duo_id"], "volunteer_id": duo["volunteer_id"],
                        "participant_id": duo["participant_id"], "target_group": duo["target_group"],
                        "item": alert.item, "item_label": {"nl": nl, "en": en}, "state": alert.state,
                        "last_valid_day": alert.last_valid_day.isoformat() if alert.last_valid_day else None,
                        "days": alert.days, "message": alert.message()})
        return out

    def today_list(self, project_id: str, principal: Principal) -> dict[str, Any]:
        """What needs the professional today, most urgent first (all in Europe/Brussels days).

        Screening lapses of buddies in running duos with minors (expired or missing first, then
        expiring), open boundary signals of high or critical severity, overdue check-ins and
        overdue follow-up calls.
        """
        require_project(principal, project_id)
        today = self.today
        with self._reads.connect() as conn:
            screening = self.screening_alerts(conn, project_id)
            signals = conn.execute(
                select(boundary_signals.c.signal_id, boundary_signals.c.duo_id, boundary_signals.c.signal_type,
                       boundary_signals.c.severity, boundary_signals.c.raised_on)
                .where(boundary_signals.c.project_id == project_id, boundary_signals.c.status == "open",
                       boundary_signals.c.severity.in_(["high", "critical"]))
                .order_by(boundary_signals.c.severity_rank.desc(), boundary_signals.c.raised_on)).mappings().all()
            overdue_calls = conn.execute(
                self._calls_query().where(calls.c.project_id == project_id, calls.c.status == "scheduled",
                                          calls.c.due_on < today.isoformat())
                .order_by(calls.c.due_on, calls.c.call_id)).mappings().all()
        check_ins = self.check_ins(project_id, principal, overdue_only=True, limit=500, offset=0)["items"]
        urgent = [a for a in screening if a["state"] != "expiring"]
        soon = [a for a in screening if a["state"] == "expiring"]
        items: list[dict[str, Any]] = [*sorted(urgent, key=lambda a: -a["days"])]
        items += [{"kind": "boundary_signal", **dict(r), "days": (today - date.fromisoformat(r["raised_on"])).days}
                  for r in signals]
        items += [{"kind": "check_in", **c, "days": c["days_overdue"]} for c in check_ins]
        items += [{"kind": "follow_up_call", "call_id": r["call_id"], "duo_id": r["duo_id"], "due_on": r["due_on"],
                   "months_after_end": r["months_after_end"], "consent_to_call": r["consent_to_call"],
                   "days": (today - date.fromisoformat(r["due_on"])).days} for r in overdue_calls]
        items += sorted(soon, key=lambda a: a["days"])
        counts = {kind: sum(1 for i in items if i["kind"] == kind)
                  for kind in ("screening", "boundary_signal", "check_in", "follow_up_call")}
        return {"project_id": project_id, "today": today.isoformat(), "items": items, "total": len(items),
                "counts": counts}

    def cadence(self, project_id: str, principal: Principal) -> dict[str, Any]:
        require_project(principal, project_id)
        with self._reads.connect() as conn:
            cadence, source = self.cadence_of(conn, project_id)
        return {"project_id": project_id, **cadence.__dict__, "source": source}

    # -- contacts
    def contacts(self, duo_id: str, principal: Principal, *, status_filter: str | None, from_date: date | None,
                 to_date: date | None, mode: str | None, activity: str | None, limit: int,
                 offset: int) -> dict[str, Any]:
        with self._reads.connect() as conn:
            self._duo(conn, duo_id, principal, buddy=True)
            query = select(contacts).where(contacts.c.duo_id == duo_id)
            if status_filter:
                query = query.where(contacts.c.status == status_filter)
            if from_date:
                query = query.where(contacts.c.contact_date >= from_date.isoformat())
            if to_date:
                query = query.where(contacts.c.contact_date <= to_date.isoformat())
            if mode:
                query = query.where(contacts.c.mode == mode)
            rows = conn.execute(query.order_by(contacts.c.contact_date.desc(), contacts.c.recorded_at.desc(),
                                               contacts.c.contact_id)).mappings().all()
        if activity:  # activities are a JSON list: filtered here, portable across databases
            rows = [r for r in rows if activity in r["activities"]]
        return paged([_contact_json(r) for r in rows[offset:offset + limit]], len(rows), limit, offset)

    def contact(self, duo_id: str, contact_id: str, principal: Principal) -> dict[str, Any]:
        with self._reads.connect() as conn:
            self._duo(conn, duo_id, principal, buddy=True)
            row = conn.execute(select(contacts).where(contacts.c.contact_id == contact_id,
                                                      contacts.c.duo_id == duo_id)).mappings().first()
            if row is None:
                raise NotFound("Contact", "Contact", contact_id)
            result = _contact_json(row)
            if self._may_read_private(principal):
                result["note"] = self._open(conn, row["note_position"], "note")
        return result

    def duo_figures(self, duo_id: str, principal: Principal) -> dict[str, Any]:
        with self._reads.connect() as conn:
            self._duo(conn, duo_id, principal, buddy=True)
            rows = conn.execute(select(contacts).where(contacts.c.duo_id == duo_id,
                                                       contacts.c.status == "logged")).mappings().all()
        return {"duo_id": duo_id, "months": contact_figures(_values(r) for r in rows)}

    def project_figures(self, project_id: str, principal: Principal, *, month_from: str | None,
                        month_to: str | None, duo_id: str | None, limit: int, offset: int) -> dict[str, Any]:
        """Counted contacts per duo per month (``YYYY-MM``): contacts, minutes, modes, activities."""
        require_project(principal, project_id)
        query = select(contacts).where(contacts.c.project_id == project_id, contacts.c.status == "logged")
        if month_from:
            query = query.where(contacts.c.month >= month_from)
        if month_to:
            query = query.where(contacts.c.month <= month_to)
        if duo_id:
            query = query.where(contacts.c.duo_id == duo_id)
        with self._reads.connect() as conn:
            rows = conn.execute(query).mappings().all()
        per_duo: dict[str, list[ContactValues]] = {}
        for r in rows:
            per_duo.setdefault(r["duo_id"], []).append(_values(r))
        items = [{"duo_id": d, "month": m, **f}
                 for d in sorted(per_duo) for m, f in contact_figures(per_duo[d]).items()]
        items.sort(key=lambda i: (i["month"], i["duo_id"]))
        return paged(items[offset:offset + limit], len(items), limit, offset)

    # -- coaching
    def coaching_sessions(self, project_id: str, principal: Principal, *, kind: str | None, volunteer_id: str | None,
                          from_date: date | None, to_date: date | None, limit: int, offset: int) -> dict[str, Any]:
        require_project(principal, project_id)
        query = select(coaching_sessions).where(coaching_sessions.c.project_id == project_id)
        if kind:
            query = query.where(coaching_sessions.c.kind == kind)
        if volunteer_id:
            query = query.where(coaching_sessions.c.session_id.in_(select(coaching_attendance.c.session_id).where(
                coaching_attendance.c.volunteer_id == volunteer_id)))
        if from_date:
            query = query.where(coaching_sessions.c.session_date >= from_date.isoformat())
        if to_date:
            query = query.where(coaching_sessions.c.session_date <= to_date.isoformat())
        with self._reads.connect() as conn:
            total, rows = _page(conn, query, [coaching_sessions.c.session_date.desc(), coaching_sessions.c.session_id],
                                limit, offset)
        return paged(rows, total, limit, offset)

    # -- boundary signals
    def boundary_signals(self, project_id: str, principal: Principal, *, status_filter: str | None,
                         signal_type: str | None, severity: str | None, duo_id: str | None, limit: int,
                         offset: int) -> dict[str, Any]:
        """Most severe first, then oldest first: what a professional should look at now."""
        require_project(principal, project_id)
        query = select(boundary_signals).where(boundary_signals.c.project_id == project_id)
        for column, value in ((boundary_signals.c.status, status_filter), (boundary_signals.c.signal_type, signal_type),
                              (boundary_signals.c.severity, severity), (boundary_signals.c.duo_id, duo_id)):
            if value:
                query = query.where(column == value)
        order = [boundary_signals.c.severity_rank.desc(), boundary_signals.c.raised_on, boundary_signals.c.signal_id]
        with self._reads.connect() as conn:
            total, rows = _page(conn, query, order, limit, offset)
        for r in rows:
            r.pop("note_positions")
            r.pop("severity_rank")
        return paged(rows, total, limit, offset)

    def boundary_signal(self, signal_id: str, principal: Principal) -> dict[str, Any]:
        with self._reads.connect() as conn:
            row = conn.execute(select(boundary_signals).where(boundary_signals.c.signal_id == signal_id)).mappings().first()
            if row is None:
                raise NotFound("Signaal", "Signal", signal_id)
            self._duo(conn, row["duo_id"], principal)
            result = {k: v for k, v in row.items() if k not in ("note_positions", "severity_rank")}
            result["notes"] = [self._open(conn, p, "note") for p in row["note_positions"]]
        return result

    # -- goals and evaluations
    def goals(self, duo_id: str, principal: Principal, *, status_filter: str | None, limit: int,
              offset: int) -> dict[str, Any]:
        with self._reads.connect() as conn:
            self._duo(conn, duo_id, principal)
            query = select(goals).where(goals.c.duo_id == duo_id)
            if status_filter:
                query = query.where(goals.c.status == status_filter)
            total, rows = _page(conn, query, [goals.c.set_on, goals.c.goal_id], limit, offset)
        for r in rows:
            r["has_private_description"] = r.pop("description_position") is not None
        return paged(rows, total, limit, offset)

    def goal(self, goal_id: str, principal: Principal) -> dict[str, Any]:
        with self._reads.connect() as conn:
            row = conn.execute(select(goals).where(goals.c.goal_id == goal_id)).mappings().first()
            if row is None:
                raise NotFound("Doel", "Goal", goal_id)
            self._duo(conn, row["duo_id"], principal)
            result = {k: v for k, v in row.items() if k != "description_position"}
            result["description"] = self._open(conn, row["description_position"], "description")
        return result

    def evaluations(self, duo_id: str, principal: Principal) -> dict[str, Any]:
        order = {"start": 0, "mid": 1, "final": 2}
        with self._reads.connect() as conn:
            self._duo(conn, duo_id, principal)
            rows = [dict(r) for r in conn.execute(select(evaluations).where(evaluations.c.duo_id == duo_id)).mappings()]
        rows.sort(key=lambda r: order[r["moment"]])
        return {"duo_id": duo_id, "items": rows}

    # -- follow-up calls
    @staticmethod
    def _calls_query() -> Select:
        """Calls with whether the participant consented to be called (``null``: not known here)."""
        consent = (select(participants.c.consent_to_call)
                   .join(roster, roster.c.participant_id == participants.c.participant_id)
                   .where(roster.c.duo_id == calls.c.duo_id).scalar_subquery())
        return select(calls, consent.label("consent_to_call"))

    def calls(self, project_id: str, principal: Principal, *, status_filter: str | None, overdue: bool,
              due_before: date | None, duo_id: str | None, limit: int, offset: int) -> dict[str, Any]:
        require_project(principal, project_id)
        query = self._calls_query().where(calls.c.project_id == project_id)
        if status_filter:
            query = query.where(calls.c.status == status_filter)
        if overdue:  # due date passed, not completed
            query = query.where(calls.c.status == "scheduled", calls.c.due_on < self.today.isoformat())
        if due_before:
            query = query.where(calls.c.due_on <= due_before.isoformat())
        if duo_id:
            query = query.where(calls.c.duo_id == duo_id)
        with self._reads.connect() as conn:
            total, rows = _page(conn, query, [calls.c.due_on, calls.c.call_id], limit, offset)
        today = self.today
        for r in rows:
            due = date.fromisoformat(r["due_on"])
            r["days_overdue"] = (today - due).days if r["status"] == "scheduled" and due < today else 0
        return {**paged(rows, total, limit, offset), "today": today.isoformat()}

    def call(self, call_id: str, principal: Principal) -> dict[str, Any]:
        with self._reads.connect() as conn:
            row = conn.execute(self._calls_query().where(calls.c.call_id == call_id)).mappings().first()
        if row is None:
            raise NotFound("Opvolgbelmoment", "Follow-up call", call_id)
        require_project(principal, row["project_id"])
        return dict(row)

    # -- policy signals
    def policy_signals(self, project_id: str, principal: Principal, *, theme: str | None, status_filter: str | None,
                       limit: int, offset: int) -> dict[str, Any]:
        require_project(principal, project_id)
        query = select(policy_signals).where(policy_signals.c.project_id == project_id)
        if theme:
            query = query.where(policy_signals.c.theme == theme)
        if status_filter:
            query = query.where(policy_signals.c.status == status_filter)
        with self._reads.connect() as conn:
            total, rows = _page(conn, query, [policy_signals.c.observed_on.desc(), policy_signals.c.signal_id],
                                limit, offset)
        for r in rows:
            r["has_private_description"] = r.pop("description_position") is not None
        return paged(rows, total, limit, offset)

    def policy_signal(self, signal_id: str, principal: Principal) -> dict[str, Any]:
        with self._reads.connect() as conn:
            row = conn.execute(select(policy_signals).where(policy_signals.c.signal_id == signal_id)).mappings().first()
            if row is None:
                raise NotFound("Signaal", "Signal", signal_id)
            require_project(principal, row["project_id"])
            result = {k: v for k, v in row.items() if k != "description_position"}
            result["description"] = self._open(conn, row["description_position"], "description")
        return result
