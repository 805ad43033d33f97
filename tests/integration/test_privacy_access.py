"""The personal-data router every writing service mounts, in process on recruitment.

Personal data is decrypted only for admins, auditors and professionals of the person's
project, only with a reason from the vocabulary, and every read is an event in the same
store (who, when, what, why); the note on the reason is sealed, never published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.clock import FixedClock
from shared.contracts.audit import AccessKind, AccessReason, RecruitmentPersonalDataAccessed
from shared.events.registry import REGISTRY
from shared.settings import Settings
from tests.integration.test_recruitment_api import ANTWERPEN, NO_FEEDS, RC, START, make_rc

ADMIN, PRO, PRO_OTHER, COORDINATOR, AUDITOR, BUDDY = (
    "dev-admin", "dev-professional", "dev-professional-other", "dev-coordinator", "dev-auditor", "dev-buddy",
)
PERSONAL_NOTE = "Fluffernutter-intake: vertelde over haar schulden"
REASON_NOTE = "Klacht van Quackenbush-advocaat, dossier 17"


@pytest.fixture
def rc(settings_factory: Callable[..., Settings]) -> Iterator[RC]:
    yield from make_rc(settings_factory(service_urls=NO_FEEDS), FixedClock(START))


def volunteer(rc: RC) -> str:
    rc.project()
    vid = rc.enquire(first="Zebediah", last="Quackenbush")
    rc.step(vid, "intake", {"held_on": rc.today, "note": PERSONAL_NOTE})
    return vid


def access_events(rc: RC) -> list[Any]:
    return [s for s in rc.runtime.store.read_after(0) if s.envelope.type == "RecruitmentPersonalDataAccessed"]


def test_a_reasoned_read_decrypts_and_is_recorded_with_who_when_what_why(rc: RC) -> None:
    vid = volunteer(rc)
    head = rc.runtime.store.head()[0]
    body = rc.ok(rc.post(f"/personal-data/{vid}/access", {"reason": "audit", "note": REASON_NOTE}, AUDITOR))
    assert body["reason"] == "audit" and body["subject_erased"] is False
    data = {item["type"]: item["data"] for item in body["personal_data"]}
    assert data["VolunteerEnquiryReceived"]["last_name"] == "Quackenbush"
    assert data["VolunteerIntakeHeld"] == {"note": PERSONAL_NOTE}

    [stored] = access_events(rc)
    env = stored.envelope
    assert env.position == body["access_recorded_at"] == head + 1
    assert (env.actor.id, env.actor.role) == ("dev-auditor", "auditor")  # who
    assert env.recorded_at == START  # when (the injected clock)
    assert env.project_id == ANTWERPEN and env.stream_id == f"access:{vid}"
    event = REGISTRY.decode(env.type, env.schema_version, env.payload)
    assert isinstance(event, RecruitmentPersonalDataAccessed)
    assert event.subject_id == vid and event.access is AccessKind.view  # what
    assert event.reason is AccessReason.audit and event.has_note  # why
    assert event.opened_positions == [p["position"] for p in body["personal_data"]]
    # the note is sealed under the person's key: not in the public part, readable by the next reader
    assert REASON_NOTE not in str(env.model_dump()) and stored.sealed is not None and stored.subject_id == vid
    again = rc.ok(rc.post(f"/personal-data/{vid}/access", {"reason": "legal_obligation"}, ADMIN))
    assert {"note": REASON_NOTE} in [i["data"] for i in again["personal_data"]]
    feed = rc.ok(rc.get("/events", AUDITOR))["events"]
    assert REASON_NOTE not in str(feed) and PERSONAL_NOTE not in str(feed)
    assert rc.runtime.store.verify().ok


def test_who_may_read_personal_data(rc: RC) -> None:
    vid = volunteer(rc)
    path = f"/personal-data/{vid}/access"
    assert rc.post(path, {"reason": "audit"}, None).status_code == 401
    assert rc.post(path, {"reason": "audit"}, "not-a-token").status_code == 401
    for token in (COORDINATOR, BUDDY, PRO_OTHER):
        assert rc.post(path, {"reason": "audit"}, token).status_code == 403, token
    for token in (PRO, ADMIN, AUDITOR):
        assert rc.post(path, {"reason": "care_continuity"}, token).status_code == 200, token
    assert rc.post("/personal-data/v-nobody/access", {"reason": "audit"}, AUDITOR).status_code == 404
    assert rc.post("/personal-data/bad id!/access", {"reason": "audit"}, AUDITOR).status_code == 422  # no such id
    assert rc.post("/personal-data/v-%00x/access", {"reason": "audit"}, AUDITOR).status_code == 422
    # only the three allowed reads were recorded: refusals leave no trace in the log
    assert len(access_events(rc)) == 3


def test_no_read_without_a_reason_from_the_vocabulary(rc: RC) -> None:
    vid = volunteer(rc)
    for body in ({}, {"reason": "curiosity"}, {"reason": "audit", "extra": 1}):
        resp = rc.post(f"/personal-data/{vid}/access", body, AUDITOR)
        assert resp.status_code == 422, body
    resp = rc.get(f"/personal-data/{vid}/export", AUDITOR)
    assert resp.status_code == 422 and "reason" in str(resp.json()["errors"])
    assert access_events(rc) == []
    reasons = rc.ok(rc.get("/personal-data/reasons", COORDINATOR))
    assert set(reasons) == {r.value for r in AccessReason}
    assert all(labels["nl"] and labels["en"] for labels in reasons.values())
    assert reasons["subject_access_request"]["nl"] == "Inzageverzoek van de betrokkene"


def test_the_export_holds_everything_and_is_recorded(rc: RC) -> None:
    vid = volunteer(rc)
    rc.step(vid, "screening", {"screened_on": rc.today, "outcome": "approved"})
    export = rc.ok(rc.get(f"/personal-data/{vid}/export", PRO, reason="subject_access_request"))
    assert [e["type"] for e in export["events"]] == ["VolunteerEnquiryReceived", "VolunteerIntakeHeld",
                                                     "VolunteerScreened"]
    assert all(e["via"] == "subject" and e["service"] == "recruitment" for e in export["events"])
    assert export["projects"] == [ANTWERPEN]
    assert {"note": PERSONAL_NOTE} in [i["data"] for i in export["personal_data"]]
    [stored] = access_events(rc)
    assert stored.envelope.payload["access"] == "export"
    assert stored.envelope.payload["reason"] == "subject_access_request"
    assert stored.envelope.actor.id == "dev-professional"


def test_holdings_and_history_decrypt_nothing_and_record_nothing(rc: RC) -> None:
    vid = volunteer(rc)
    holdings = rc.ok(rc.get(f"/personal-data/{vid}", PRO))
    assert holdings == {"subject_id": vid, "service": "recruitment", "projects": [ANTWERPEN], "events": 2,
                        "sealed_items": 2, "holds_key": True, "personal_data_readable": True}
    history = rc.ok(rc.get(f"/audit/history/{vid}", AUDITOR))
    assert [i["type"] for i in history["items"]] == ["VolunteerEnquiryReceived", "VolunteerIntakeHeld"]
    assert "Quackenbush" not in str(history)
    for token in (PRO, COORDINATOR, BUDDY):
        assert rc.get(f"/audit/history/{vid}", token).status_code == 403
    assert rc.get(f"/personal-data/{vid}", COORDINATOR).status_code == 403
    assert rc.get(f"/personal-data/{vid}", PRO_OTHER).status_code == 403
    assert access_events(rc) == []


def test_after_erasure_a_read_finds_nothing_is_still_recorded_and_takes_no_note(rc: RC) -> None:
    vid = volunteer(rc)
    rc.ok(rc.post(f"/volunteers/{vid}/erasure", None, PRO))
    body = rc.ok(rc.post(f"/personal-data/{vid}/access", {"reason": "audit"}, AUDITOR))
    assert body["subject_erased"] is True
    assert all(item["data"] is None for item in body["personal_data"]) and body["personal_data"]
    refused = rc.post(f"/personal-data/{vid}/access", {"reason": "audit", "note": REASON_NOTE}, AUDITOR)
    assert refused.status_code == 409 and "erased" in refused.json()["detail"]
    assert rc.runtime.vault.is_erased(vid)  # the refused note did not create a new key
    [stored] = access_events(rc)
    assert stored.envelope.payload["subject_erased"] is True and stored.envelope.payload["opened_positions"] == []
    assert rc.ok(rc.get(f"/personal-data/{vid}", AUDITOR))["holds_key"] is False
    assert rc.runtime.store.verify().ok
