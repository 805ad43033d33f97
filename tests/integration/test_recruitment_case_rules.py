"""Case rules of recruitment through its HTTP API: likely duplicates found through the blind
index, and erased volunteers leaving the waiting board and reading "gewist / erased"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shared.eventstore.db import reader
from services.recruitment.read_models import name_index
from tests.integration.test_recruitment_api import ANTWERPEN, PRO, RC, check, clock, rc  # noqa: F401 (fixtures)

PERSON = {"first_name": "Émile", "last_name": "Dupont-Claes", "birth_date": "1985-04-12", "email": "emile@example.org"}


def enquiry(personal: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"channel": "website", "municipality_nis": "11002", "personal": personal, **extra}


def test_a_second_enquiry_for_the_same_person_is_answered_with_the_existing_file(rc: RC) -> None:
    rc.project()
    rc.project("demo-gent", nis="44021", region="oost-vlaanderen")
    first = rc.ok(rc.post(f"/projects/{ANTWERPEN}/volunteers", enquiry(PERSON)), 201)["volunteer_id"]

    # Same name (other case, accents, order) and birth date; same name and e-mail: very likely the same person.
    for personal in ({"first_name": "EMILE", "last_name": "dupont claes", "birth_date": "1985-04-12"},
                     {"first_name": "Dupont-Claes", "last_name": "Emile", "birth_date": "1985-04-12"},
                     {"first_name": "Emile", "last_name": "Dupont Claes", "email": "Emile@Example.org"}):
        body = check(rc.post(f"/projects/{ANTWERPEN}/volunteers", enquiry(personal)), 409, mentions=first)
        assert body["code"] == "likely_duplicate" and body["existing_file"] == first
        assert "confirmed_other_person" in body["detail"] and "dossier" in body["detail"]
    # Nothing was recorded by the refusals.
    assert rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers"))["total"] == 1

    # Same name, another birth date and no e-mail: someone else; so is a namesake in another project.
    rc.ok(rc.post(f"/projects/{ANTWERPEN}/volunteers",
                  enquiry({**PERSON, "birth_date": "1990-01-01", "email": None})), 201)
    rc.ok(rc.post("/projects/demo-gent/volunteers", enquiry(PERSON)), 201)
    # The professional confirms it is someone else: recorded.
    rc.ok(rc.post(f"/projects/{ANTWERPEN}/volunteers", enquiry(PERSON, confirmed_other_person=True)), 201)
    assert rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers"))["total"] == 3

    # The identity keys are keyed hashes in the blind index, gone with the person on erasure.
    rc.ok(rc.post(f"/volunteers/{first}/erasure"))
    with reader(rc.runtime.engine).connect() as conn:
        assert conn.execute(select(name_index).where(name_index.c.volunteer_id == first)).first() is None


def test_a_changed_birth_date_is_what_later_enquiries_are_compared_with(rc: RC) -> None:
    rc.project()
    first = rc.ok(rc.post(f"/projects/{ANTWERPEN}/volunteers", enquiry(PERSON)), 201)["volunteer_id"]
    rc.ok(rc.call("PUT", f"/volunteers/{first}/personal", PRO, {**PERSON, "birth_date": "1985-04-21", "email": None}))
    rc.ok(rc.post(f"/projects/{ANTWERPEN}/volunteers", enquiry(PERSON)), 201)  # the old data no longer matches
    check(rc.post(f"/projects/{ANTWERPEN}/volunteers",
                  enquiry({**PERSON, "birth_date": "1985-04-21", "email": None})), 409, mentions=first)


def test_erased_volunteers_are_not_shown_as_waiting_and_lists_say_erased(rc: RC) -> None:
    rc.project()
    stays, gone = rc.enquire(first="Ann", last="Blijft"), rc.enquire(first="Bo", last="Weg")
    for volunteer in (stays, gone):
        rc.available(volunteer)
    rc.clock.advance(days=40)  # both wait long enough for a keep-warm alert
    board = rc.ok(rc.get(f"/projects/{ANTWERPEN}/waiting-board"))
    assert {p["volunteer_id"] for p in board["longest_waiting"]} == {stays, gone}
    rc.ok(rc.post(f"/volunteers/{gone}/erasure"))

    board = rc.ok(rc.get(f"/projects/{ANTWERPEN}/waiting-board"))
    assert [p["volunteer_id"] for p in board["longest_waiting"]] == [stays]
    available = next(s for s in board["stages"] if s["stage"] == "available")
    assert available["count"] == 1 and [p["volunteer_id"] for p in available["people"]] == [stays]
    assert [a["volunteer_id"] for a in board["alerts"]["items"]] == [stays]
    assert [a["volunteer_id"] for a in rc.ok(rc.get(f"/projects/{ANTWERPEN}/keep-warm-alerts"))["items"]] == [stays]

    listed = {v["volunteer_id"]: v for v in rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers"))["items"]}
    assert listed[gone]["name"] is None and listed[gone]["name_label"] == {"nl": "gewist", "en": "erased"}
    assert listed[stays]["name"] == "Ann Blijft" and "name_label" not in listed[stays]
    assert rc.ok(rc.get(f"/volunteers/{gone}"))["name_label"] == {"nl": "gewist", "en": "erased"}


def test_read_models_emptied_by_the_migration_are_rebuilt_with_identity_keys(rc: RC) -> None:
    """Migration 0403 empties the read models; at start-up the service rebuilds them from the log."""
    from sqlalchemy import delete

    from services.recruitment.read_models import projects, volunteers

    rc.project()
    first = rc.ok(rc.post(f"/projects/{ANTWERPEN}/volunteers", enquiry(PERSON)), 201)["volunteer_id"]
    with rc.runtime.engine.begin() as conn:
        for table in (name_index, volunteers, projects):
            conn.execute(delete(table))
    rc.runtime.migrate()
    body = check(rc.post(f"/projects/{ANTWERPEN}/volunteers", enquiry({**PERSON, "birth_date": None})), 409,
                 mentions=first)  # found on the name with the e-mail address
    assert body["existing_file"] == first
