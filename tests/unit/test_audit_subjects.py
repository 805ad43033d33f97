"""Pure parts of the audit and privacy tools: whose events, whose trajectory, which event type."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.contracts.audit import (
    ACCESS_EVENT_TYPES,
    PUBLISHERS,
    AccessReason,
    PersonalDataAccessed,
    access_stream_id,
    personal_data_accessed,
)
from shared.events.envelope import Actor, Envelope, Role
from shared.events.registry import REGISTRY
from shared.privacy import REASON_LABELS, RetentionSettings, SubjectMatcher, _add_years, trajectories


def env(type_: str, stream_id: str, payload: dict[str, Any], *, stream_type: str = "volunteer",
        at: str = "2020-01-15", position: int = 1) -> Envelope:
    moment = datetime.fromisoformat(at).replace(hour=10, tzinfo=UTC)
    return Envelope(event_id=uuid.uuid4(), type=type_, schema_version=1, service="x", stream_type=stream_type,
                    stream_id=stream_id, version=1, position=position, occurred_at=moment, recorded_at=moment,
                    actor=Actor(id="a", role=Role.professional), correlation_id=uuid.uuid4(), payload=payload)


def test_the_matcher_finds_a_persons_events_and_their_duos_events() -> None:
    match = SubjectMatcher("v-1")
    assert match("v-1", {"volunteer_id": "v-1"}) == "subject"  # their own stream
    assert match("d-1", {"duo_id": "d-1", "volunteer_id": "v-1", "participant_id": "p-1"}) == "subject"
    assert match("d-1", {"duo_id": "d-1", "party": "volunteer"}) == "duo:d-1"  # learned from the line above
    assert match("log-9", {"duo_id": "d-1", "contact_id": "c-1"}) == "duo:d-1"
    assert match("cs-1", {"volunteer_ids": ["v-0", "v-1"]}) == "subject"
    assert match("access:v-1", {"subject_id": "v-1"}) == "subject"
    assert match("c-2", {"note_of": "v-1"}, sealed_subject="v-1") == "subject"
    assert match("v-2", {"volunteer_id": "v-2", "project_id": "v-1"}) is None  # a project id is no person
    assert match("d-2", {"duo_id": "d-2", "participant_id": "p-1"}) is None


def test_without_duos_only_direct_events_count() -> None:
    match = SubjectMatcher("p-1", follow_duos=False)
    assert match("d-1", {"duo_id": "d-1", "participant_id": "p-1"}) == "subject"
    assert match("d-1", {"duo_id": "d-1"}) is None
    duo = SubjectMatcher("d-1")
    assert duo("d-1", {"duo_id": "d-1"}) == "subject" and not duo.duos


def test_volunteer_trajectories_end_when_stopped_and_out_of_every_duo() -> None:
    log = [
        env("VolunteerEnquiryReceived", "v-1", {"volunteer_id": "v-1", "project_id": "p"}),
        env("VolunteerStopped", "v-1", {"volunteer_id": "v-1", "project_id": "p"}, at="2020-02-01"),
        env("VolunteerEnquiryReceived", "v-2", {"volunteer_id": "v-2", "project_id": "p"}),
        env("VolunteerJoinedDuo", "v-2", {"volunteer_id": "v-2", "project_id": "p", "duo_id": "d"}),
        env("VolunteerStopped", "v-2", {"volunteer_id": "v-2", "project_id": "p"}, at="2020-03-01"),
        env("VolunteerEnquiryReceived", "v-3", {"volunteer_id": "v-3", "project_id": "p"}),
        env("ProjectRegistered", "p", {"project_id": "p"}, stream_type="project"),
        env("RecruitmentPersonalDataAccessed", "access:v-1", {"subject_id": "v-1"}, stream_type="personal_data_access"),
    ]
    found = trajectories("recruitment", log)
    assert set(found) == {"v-1", "v-2", "v-3"}
    assert found["v-1"].ended_on == date(2020, 2, 1) and found["v-1"].project_id == "p"
    assert found["v-2"].ended_on is None, "still in a duo"
    assert found["v-3"].ended_on is None, "never stopped"
    log.append(env("VolunteerLeftDuo", "v-2", {"volunteer_id": "v-2", "project_id": "p", "duo_id": "d",
                                               "left_on": "2021-06-30"}, at="2021-07-02"))
    log.append(env("VolunteerPersonalDataErased", "v-1", {"volunteer_id": "v-1", "project_id": "p"}))
    found = trajectories("recruitment", log)
    assert found["v-2"].ended_on == date(2021, 6, 30) and found["v-1"].erased


def test_participant_trajectories_end_with_a_withdrawal_or_a_duo_that_ended_well() -> None:
    def p(type_: str, pid: str, stream: str | None = None, **payload: Any) -> Envelope:
        return env(type_, stream or pid, {"participant_id": pid, "project_id": "p", **payload}, stream_type="x")

    log = [
        p("ParticipantReferred", "p-1"), p("ParticipantWithdrawn", "p-1", withdrawn_on="2020-05-05"),
        p("ParticipantReferred", "p-2"), p("DuoStarted", "p-2", "d-2", duo_id="d-2"),
        p("DuoEnded", "p-2", "d-2", duo_id="d-2", ended_on="2021-01-31", reason="goals_reached"),
        p("ParticipantReferred", "p-3"), p("DuoStarted", "p-3", "d-3", duo_id="d-3"),
        p("DuoEnded", "p-3", "d-3", duo_id="d-3", ended_on="2021-01-31", reason="mismatch"),
        p("ParticipantReturnedToWaitingList", "p-3", reason="mismatch"),
        p("ParticipantReferred", "p-4"), p("ParticipantWithdrawn", "p-4", withdrawn_on="2020-05-05"),
        p("ParticipantReturnedToWaitingList", "p-4", reason="new_request"),
    ]
    found = trajectories("matching", log)
    assert found["p-1"].ended_on == date(2020, 5, 5)
    assert found["p-2"].ended_on == date(2021, 1, 31)
    assert found["p-3"].ended_on is None and found["p-4"].ended_on is None


def test_years_are_added_on_the_calendar() -> None:
    assert _add_years(date(2020, 2, 29), 5) == date(2025, 2, 28)
    assert _add_years(date(2019, 3, 4), 5) == date(2024, 3, 4)


def test_retention_settings_have_their_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    assert RetentionSettings().years == 5
    monkeypatch.setenv("BUDDY_RETENTION_YEARS", "7")
    monkeypatch.setenv("BUDDY_RETENTION_INTERVAL_S", "3600")
    assert (RetentionSettings().years, RetentionSettings().interval_s) == (7, 3600)
    monkeypatch.setenv("BUDDY_RETENTION_YEARS", "0")
    with pytest.raises(ValueError):
        RetentionSettings()


def test_one_access_event_type_per_writing_service() -> None:
    assert set(PUBLISHERS) == {"recruitment", "matching", "followup"}
    for service in PUBLISHERS:
        model = personal_data_accessed(service)
        assert issubclass(model, PersonalDataAccessed) and model.service == service
        assert REGISTRY.latest(model.event_type) is model and model.event_type in ACCESS_EVENT_TYPES
    with pytest.raises(ValueError, match="holds no personal data"):
        personal_data_accessed("reporting")
    assert set(REASON_LABELS) == set(AccessReason)
    assert all(labels["nl"] and labels["en"] for labels in REASON_LABELS.values())


def test_access_streams_fit_the_store() -> None:
    assert access_stream_id("v-1") == "access:v-1"
    long = "x" * 100
    assert len(access_stream_id(long)) <= 100 and access_stream_id(long) == access_stream_id(long)
