"""Check-in cadence and follow-up calls on a scripted timeline (``FixedClock``), over a
real Redis: restarts in the middle, a crash while scheduling, and two instances of
follow-up on one database consuming the same ``DuoEnded`` — exactly three calls."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from shared.eventstore.tables import consumer_checkpoints, consumer_failures, events
from services.followup import scheduler as scheduler_module
from services.followup import subscribers as subscribers_module
from services.followup.domain import FollowUpCall
from services.followup.read_models import calls
from tests.integration.test_followup_support import (
    PRO,
    PROJECT,
    FakeMatching,
    clock_at,
    contact,
    followup_settings,
    make_app,
    matching,  # noqa: F401  (fixture)
    ok,
    running,
    wait_consumed,
    wait_until,
)

DUO, VOLUNTEER, PARTICIPANT = "d-timeline", "v-timeline", "pt-timeline"
CALL_IDS = {f"call-{DUO}-{m}m" for m in (3, 6, 12)}


def scheduled_calls(app: FastAPI) -> list[str]:
    """Every FollowUpCallScheduled in the store, by call (stream) id."""
    with app.state.runtime.engine.connect() as conn:
        return sorted(conn.execute(select(events.c.stream_id).where(events.c.type == "FollowUpCallScheduled")).scalars())


def overdue_calls(client: Any) -> list[tuple[str, int]]:
    body = ok(client.get(f"/projects/{PROJECT}/follow-up-calls/overdue", headers=PRO))
    return [(c["months_after_end"], c["days_overdue"]) for c in body["items"]]


def overdue_check_ins(client: Any) -> list[tuple[str, str, int]]:
    body = ok(client.get(f"/projects/{PROJECT}/check-ins", headers=PRO, params={"overdue": True}))
    return [(c["duo_id"], c["rule"], c["days_overdue"]) for c in body["items"]]


def test_cadence_and_calls_on_a_scripted_timeline_with_restarts(settings_factory, matching: FakeMatching) -> None:  # noqa: F811
    clock = clock_at(date(2026, 1, 5))
    settings = followup_settings(settings_factory, consumer_name="fu-timeline")
    matching.start(DUO, volunteer_id=VOLUNTEER, participant_id=PARTICIPANT, started_on=date(2026, 1, 5))
    matching.consent(PARTICIPANT, ["matching", "data_processing", "followup_contact"])

    # ---- first life: the duo starts; two contacts are due in the first 30 days
    app = make_app(settings, clock)
    with running(app) as client:
        matching.publish_now()
        wait_consumed(app, 1)
        [row] = ok(client.get(f"/projects/{PROJECT}/check-ins", headers=PRO))["items"]
        assert (row["rule"], row["due_on"], row["overdue"]) == ("first_period", "2026-02-04", False)
        clock.set(clock_at(date(2026, 1, 10)).now())
        ok(client.post(f"/duos/{DUO}/contacts", json=contact(date(2026, 1, 10)), headers=PRO), 201)
        clock.set(clock_at(date(2026, 2, 4)).now())
        assert overdue_check_ins(client) == []
        clock.set(clock_at(date(2026, 2, 5)).now())
        assert overdue_check_ins(client) == [(DUO, "first_period", 1)]

    # ---- restart: the alert is still there; a contact clears it; then the monthly rule
    app = make_app(settings, clock)
    with running(app) as client:
        assert overdue_check_ins(client) == [(DUO, "first_period", 1)]
        clock.set(clock_at(date(2026, 2, 6)).now())
        ok(client.post(f"/duos/{DUO}/contacts", json=contact(date(2026, 2, 6)), headers=PRO), 201)
        assert overdue_check_ins(client) == []
        assert ok(client.get(f"/duos/{DUO}", headers=PRO))["check_in"]["due_on"] == "2026-03-09"
        clock.set(clock_at(date(2026, 3, 10)).now())
        assert overdue_check_ins(client) == [(DUO, "max_gap", 1)]
        # the project asks for a contact at least every 45 days instead
        set_to = ok(client.put(f"/projects/{PROJECT}/cadence", headers=PRO,
                               json={"first_period_days": 30, "first_period_contacts": 2, "max_gap_days": 45}))
        assert set_to["changed"] is True
        assert overdue_check_ins(client) == []
        assert ok(client.get(f"/projects/{PROJECT}/cadence", headers=PRO))["source"] == "project"
        assert ok(client.get(f"/duos/{DUO}", headers=PRO))["check_in"]["due_on"] == "2026-03-23"

    # ---- follow-up is down when matching ends the duo: nothing is lost
    clock.set(clock_at(date(2026, 3, 20)).now())
    matching.end(DUO, volunteer_id=VOLUNTEER, participant_id=PARTICIPANT, ended_on=date(2026, 3, 20))
    matching.publish_now()
    app = make_app(settings, clock)
    with running(app) as client:
        wait_consumed(app, 3)  # the start, the consent to be called afterwards, the end
        assert scheduled_calls(app) == sorted(CALL_IDS)
        listed = ok(client.get(f"/projects/{PROJECT}/follow-up-calls", headers=PRO))["items"]
        assert [(c["months_after_end"], c["due_on"], c["status"]) for c in listed] == [
            (3, "2026-06-20", "scheduled"), (6, "2026-09-20", "scheduled"), (12, "2027-03-20", "scheduled")]
        assert ok(client.get(f"/projects/{PROJECT}/check-ins", headers=PRO))["items"] == []  # it ended
        clock.set(clock_at(date(2026, 6, 20)).now())
        assert overdue_calls(client) == []  # due today is not overdue
        clock.set(clock_at(date(2026, 6, 21)).now())
        assert overdue_calls(client) == [(3, 1)]
        call_3m = f"call-{DUO}-3m"
        for day in (21, 22):
            clock.set(clock_at(date(2026, 6, day)).now())
            state = ok(client.post(f"/follow-up-calls/{call_3m}/attempts", headers=PRO,
                                   json={"attempted_on": f"2026-06-{day}"}))
        assert (state["status"], state["attempts"]) == ("scheduled", 2)
        assert overdue_calls(client) == [(3, 2)]

    # ---- restart between the tries: the third unsuccessful try closes the call
    app = make_app(settings, clock)
    with running(app) as client:
        assert overdue_calls(client) == [(3, 2)]
        clock.set(clock_at(date(2026, 6, 23)).now())
        state = ok(client.post(f"/follow-up-calls/{call_3m}/attempts", headers=PRO,
                               json={"attempted_on": "2026-06-23"}))
        assert (state["status"], state["outcome"], state["attempts"]) == ("completed", "not_reachable", 3)
        assert overdue_calls(client) == []
        clock.set(clock_at(date(2026, 9, 25)).now())
        assert overdue_calls(client) == [(6, 5)]
        ok(client.post(f"/follow-up-calls/call-{DUO}-6m/completion", headers=PRO, json={
            "outcome": "reached", "completed_on": "2026-09-25",
            "answers": {"still_in_contact_with_buddy": True, "network_change": "grown", "wellbeing": 7}}))
        assert overdue_calls(client) == []
        clock.set(clock_at(date(2027, 4, 1)).now())
        assert overdue_calls(client) == [(12, 12)]
        refused = client.post(f"/follow-up-calls/call-{DUO}-12m/completion", headers=PRO,
                              json={"outcome": "declined", "completed_on": "2027-04-01", "answers": {"wellbeing": 3}})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "answers"
        ok(client.post(f"/follow-up-calls/call-{DUO}-12m/completion", headers=PRO,
                       json={"outcome": "declined", "completed_on": "2027-04-01"}))
        done = ok(client.get(f"/projects/{PROJECT}/follow-up-calls", headers=PRO, params={"status": "completed"}))
        assert [(c["months_after_end"], c["outcome"], c["attempts"]) for c in done["items"]] == [
            (3, "not_reachable", 3), (6, "reached", 1), (12, "declined", 1)]
        reached = ok(client.get(f"/follow-up-calls/call-{DUO}-6m", headers=PRO))
        assert (reached["still_in_contact_with_buddy"], reached["network_change"], reached["wellbeing"]) == \
            (True, "grown", 7)
        again = client.post(f"/follow-up-calls/{call_3m}/attempts", headers=PRO, json={"attempted_on": "2027-04-01"})
        assert again.status_code == 409 and "already completed" in again.json()["detail"]
        assert scheduled_calls(app) == sorted(CALL_IDS)
        assert app.state.runtime.store.verify().ok


def test_a_crash_while_scheduling_loses_no_call(settings_factory, matching: FakeMatching,  # noqa: F811
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies after appending the first call of three: the transaction rolls back with the
    checkpoint, the DuoEnded stays pending, and the restarted instance records all three."""
    clock = clock_at(date(2026, 5, 1))
    settings = followup_settings(settings_factory, consumer_name="fu-crash")
    matching.start(DUO, volunteer_id=VOLUNTEER, participant_id=PARTICIPANT, started_on=date(2026, 1, 5))
    matching.end(DUO, volunteer_id=VOLUNTEER, participant_id=PARTICIPANT, ended_on=date(2026, 4, 30))
    real = subscribers_module.schedule_calls

    def crash_after_first(conn, store, env, ended, months):  # type: ignore[no-untyped-def]
        real(conn, store, env, ended, list(months)[:1])
        raise RuntimeError("power cut after the first call")

    monkeypatch.setattr(subscribers_module, "schedule_calls", crash_after_first)
    app = make_app(settings, clock)
    with running(app):
        matching.publish_now()
        wait_consumed(app, 1)

        def failed_once() -> bool:
            with app.state.runtime.engine.connect() as conn:
                return bool(conn.execute(select(consumer_failures.c.attempts)).scalar())

        wait_until(failed_once, what="the DuoEnded failed once")
        assert app.state.runtime.consumer.checkpoint("matching") == 1
        assert scheduled_calls(app) == []  # the first call rolled back with everything else

    monkeypatch.setattr(subscribers_module, "schedule_calls", real)
    app = make_app(settings, clock)
    with running(app) as client:  # the same consumer name: it reads its pending entries first
        wait_consumed(app, 2)
        assert scheduled_calls(app) == sorted(CALL_IDS)
        assert ok(client.get(f"/projects/{PROJECT}/follow-up-calls", headers=PRO))["total"] == 3


def test_two_instances_on_one_database_schedule_each_call_once(settings_factory, database_url: str,
                                                               matching: FakeMatching,  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    clock = clock_at(date(2026, 5, 1))
    one = make_app(followup_settings(settings_factory, database_url, consumer_name="fu-one"), clock)
    two = make_app(followup_settings(settings_factory, database_url, consumer_name="fu-two"), clock)
    matching.start(DUO, volunteer_id=VOLUNTEER, participant_id=PARTICIPANT, started_on=date(2026, 1, 5))
    matching.end(DUO, volunteer_id=VOLUNTEER, participant_id=PARTICIPANT, ended_on=date(2026, 4, 30))
    ended = matching.store.read_after(1, 1)[0].envelope
    assert ended.type == "DuoEnded"
    with running(one) as client_one, running(two) as client_two:
        # 1. both consume the same stream in one group
        matching.publish_now()
        wait_consumed(one, 2)
        assert scheduled_calls(one) == sorted(CALL_IDS)

        # 2. both catch up from the feed at once, and again with the checkpoint lost (a replay)
        def catch_up_both() -> None:
            threads = [threading.Thread(target=c.portal.call, args=(a.state.runtime.consumer.catch_up, "matching"))
                       for c, a in ((client_one, one), (client_two, two))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        catch_up_both()
        with one.state.runtime.engine.begin() as conn:
            conn.execute(update(consumer_checkpoints).values(position=0))
        catch_up_both()
        assert one.state.runtime.consumer.checkpoint("matching") == 2

        # 3. both apply the same DuoEnded in concurrent transactions, no checkpoint to stop them
        errors: list[BaseException] = []

        def apply(app: FastAPI) -> None:
            try:
                with app.state.runtime.store.transaction() as conn:
                    app.state.runtime.handler(conn, ended)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=apply, args=(a,)) for a in (one, two, one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []

        # 4. the other instance appended between our load and our append: the store refuses, it counts as done
        real_get = scheduler_module.Repository.get

        def stale(self, aggregate_id, conn=None):  # type: ignore[no-untyped-def]
            fresh = real_get(self, aggregate_id, conn)
            return FollowUpCall(aggregate_id) if isinstance(fresh, FollowUpCall) else fresh

        refused: list[str] = []

        class Spy:
            def info(self, name: str, **kw: Any) -> None:
                if name == "followup.call_already_scheduled":
                    refused.append(kw["call_id"])

        monkeypatch.setattr(scheduler_module.Repository, "get", stale)
        monkeypatch.setattr(scheduler_module, "log", Spy())
        with two.state.runtime.store.transaction() as conn:
            recorded = scheduler_module.schedule_calls(conn, two.state.runtime.store, ended,
                                                       matching_event(ended), [3, 6, 12])
        monkeypatch.setattr(scheduler_module.Repository, "get", real_get)
        assert recorded == [] and set(refused) == CALL_IDS  # each refused by the store's version check

        assert scheduled_calls(one) == scheduled_calls(two) == sorted(CALL_IDS)
        # both instances answer the same schedule on the same timeline
        clock.set(clock_at(date(2026, 8, 1)).now())
        assert overdue_calls(client_one) == overdue_calls(client_two) == [(3, 2)]
        clock.set(clock_at(date(2027, 5, 1)).now())
        assert overdue_calls(client_one) == overdue_calls(client_two) == [(3, 275), (6, 183), (12, 1)]
        with one.state.runtime.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(calls)).scalar_one() == 3
        assert one.state.runtime.store.verify().ok


def matching_event(env: Any) -> Any:
    from shared.events.registry import REGISTRY

    return REGISTRY.decode(env.type, env.schema_version, env.payload)
