"""Every indicator of the overview on a scripted multi-project history, against values worked
out by hand from the script (tests/integration/test_reporting_script.py).

The reports here use a policy that hides nothing (threshold 1, no rounding) so that the
figures can be compared one by one; disclosure control has its own tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from shared.eventstore import EventStore, make_engine
from shared.eventstore.db import reader
from shared.domain import InvalidInput
from services.reporting.disclosure import TOTAL
from services.reporting.read_models import PROJECTION_TABLES
from services.reporting.rebuild import StoreRowsFeed, compute_as_known_on, rebuild
from services.reporting.reports import build_overview, compute, parse_parameters
from tests.integration.test_reporting_script import R1, R2, history

EXACT = {"threshold": 1, "rounding_base": 1, "min_units_for_statistics": 1}
Q1 = {"period_start": "2026-01-01", "period_end": "2026-03-31", "grain": "month"}
JAN, FEB, MAR = "2026-01", "2026-02", "2026-03"


def rebuilt(folder: Path, stores: dict[str, EventStore], name: str = "reporting") -> Engine:
    engine = make_engine(f"sqlite:///{folder}/{name}.db")
    asyncio.run(rebuild(engine, StoreRowsFeed(stores)))
    return engine


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, EventStore], Engine]:
    folder = tmp_path_factory.mktemp("script")
    stores, _ = history(folder)
    return folder, stores, rebuilt(folder, stores)


def overview(engine: Engine, **params: Any) -> dict[str, Any]:
    with reader(engine).connect() as conn:
        return compute(conn, "overview", {"audience": "government", **Q1, "disclosure": EXACT, **params})


def table(doc: dict[str, Any], indicator: str, name: str) -> dict[Any, int | None]:
    """A published table as {row: value} (one-way) or {(row, col): value}."""
    for section in doc["sections"]:
        for view in section["tables"]:
            if view["indicator"] == indicator and view["table"]["name"] == name:
                cells = view["table"]["cells"]
                if not view["table"]["cols"]:
                    return {c["row"]: c["value"] for c in cells}
                return {(c["row"], c["col"]): c["value"] for c in cells}
    raise KeyError((indicator, name))


def nonzero(cells: dict[Any, int | None]) -> dict[Any, int | None]:
    return {k: v for k, v in cells.items() if v != 0}


def stat(doc: dict[str, Any], indicator: str, **dims: str) -> float | None:
    for section in doc["sections"]:
        for s in section["statistics"]:
            if s["indicator"] == indicator and s["dims"] == dims:
                return s["value"]
    raise KeyError(indicator)


# --------------------------------------------------------------------------- all of Flanders
@pytest.fixture(scope="module")
def flanders(world: Any) -> dict[str, Any]:
    return overview(world[2])


def test_scope_period_and_definitions(flanders: dict[str, Any]) -> None:
    doc = flanders
    assert doc["kind"] == "overview" and doc["audience"] == "government" and doc["scope"] == {"level": "flanders"}
    assert doc["period"] == {"start": "2026-01-01", "end": "2026-03-31", "grain": "month"}
    assert doc["basis"] == "occurred" and doc["as_known_on"] is None
    used = {v["indicator"] for s in doc["sections"] for v in s["tables"]}
    assert used <= {d["indicator"] for d in doc["definitions"]}
    assert [s["key"] for s in doc["sections"]] == ["volunteers", "participants", "duos", "contacts", "coaching",
                                                   "boundaries", "impact", "followup_calls", "policy"]


def test_volunteer_journey(flanders: dict[str, Any]) -> None:
    doc = flanders
    # enquiries in Q1: v1 (Jan, website), v4 (Jan, platform), v3 (Feb, website), v5 (Mar, website); v2, v6, v7 earlier
    # intakes: v1, v2 (Jan), v3 (Feb), v5 (Mar); approved: v1, v2 (v3 not approved); first training: v1, v2 (Jan);
    # first available: v2 (Jan), v1 (Feb); first duo: v6 (Feb 15), v1 (Feb 20), v2 (Mar 10); stopped: v3, v4
    assert table(doc, "volunteer_funnel", "volunteer_funnel") == {
        "volunteers_enquired": 4, "volunteers_intake": 4, "volunteers_approved": 2, "volunteers_coached": 2,
        "volunteers_available": 2, "volunteers_in_duo": 3, "volunteers_stopped": 2}
    by_month = table(doc, "volunteer_funnel", "volunteer_funnel_by_period")
    assert {s: [by_month[(m, s)] for m in (JAN, FEB, MAR)] for s in (
        "volunteers_enquired", "volunteers_intake", "volunteers_available", "volunteers_in_duo", "volunteers_stopped",
    )} == {"volunteers_enquired": [2, 1, 1], "volunteers_intake": [2, 1, 1], "volunteers_available": [1, 1, 0],
           "volunteers_in_duo": [0, 2, 1], "volunteers_stopped": [0, 1, 1]}
    by_region = table(doc, "volunteer_funnel", "volunteer_funnel_by_unit")
    assert by_region[(R1, "volunteers_enquired")] == 3 and by_region[(R2, "volunteers_enquired")] == 1
    assert nonzero(table(doc, "volunteers_enquired", "channel")) == {"website": 3, "volunteer_platform": 1, TOTAL: 4}
    # waits since first available: v1 Feb 3 → Feb 20 = 17 days; v2 Jan 16 → Mar 10 = 53; v6 Dec 1 → Feb 15 = 76
    assert nonzero(table(doc, "volunteers_in_duo", "wait_band")) == {"lt_1m": 1, "1_3m": 2, TOTAL: 3}
    assert stat(doc, "volunteer_waiting_days_median") == 53
    assert stat(doc, "volunteer_waiting_days_mean") == 48.7  # (17 + 53 + 76) / 3
    assert nonzero(table(doc, "volunteers_stopped", "stop_reason")) == {"not_approved": 1, "no_time": 1, TOTAL: 2}
    assert nonzero(table(doc, "keep_warm_contacts", "keep_warm_kind")) == {"call": 1, TOTAL: 1}


def test_participants(flanders: dict[str, Any]) -> None:
    doc = flanders
    # referred in Q1: pt1 (Jan, pA, adult, social services), pt3 (Feb, pC, youth, self), pt4 (Feb, pB, child, school)
    assert table(doc, "participants_referred", "by_period") == {JAN: 1, FEB: 2, MAR: 0, TOTAL: 3}
    assert table(doc, "participants_referred", "by_unit") == {R1: 2, R2: 1, TOTAL: 3}
    assert nonzero(table(doc, "participants_referred", "target_group")) == {
        "individual_adult": 1, "child": 1, "youth": 1, TOTAL: 3}
    assert nonzero(table(doc, "participants_referred", "referrer_type")) == {
        "social_services": 1, "school": 1, "self": 1, TOTAL: 3}
    # several domains per participant: pt1 poverty + isolation, pt3 newcomer, pt4 poverty; no total
    assert nonzero(table(doc, "participant_life_domains", "mentions")) == {"poverty": 2, "isolation": 1, "newcomer": 1}
    assert table(doc, "participants_intake", "by_period")[TOTAL] == 1
    assert nonzero(table(doc, "participants_withdrawn", "withdrawal_reason")) == {"waited_too_long": 1, TOTAL: 1}
    assert table(doc, "participants_returned", "by_period") == {JAN: 0, FEB: 0, MAR: 1, TOTAL: 1}


def test_duos(flanders: dict[str, Any]) -> None:
    doc = flanders
    assert table(doc, "participant_flow", "participant_flow") == {
        "participants_referred": 3, "participants_intake": 1, "duo_proposals": 3, "duos_started": 3, "duos_ended": 2,
        "participants_withdrawn": 1}
    # proposals: d9 (Jan, declined), d1 (Feb, started), d2 (Mar, started)
    assert nonzero(table(doc, "duo_proposals", "proposal_outcome")) == {"started": 2, "declined": 1, TOTAL: 3}
    # started: d3 (Feb 15, youth), d1 (Feb 20, adult), d2 (Mar 10, family)
    assert table(doc, "duos_started", "by_period") == {JAN: 0, FEB: 2, MAR: 1, TOTAL: 3}
    assert nonzero(table(doc, "duos_started", "target_group")) == {"individual_adult": 1, "family": 1, "youth": 1,
                                                                   TOTAL: 3}
    # participants waited: pt1 Jan 7 → Feb 20 = 44 days, pt3 Feb 1 → 15 = 14, pt2 Dec 20 → Mar 10 = 80
    assert nonzero(table(doc, "duos_started", "wait_band")) == {"lt_1m": 1, "1_3m": 2, TOTAL: 3}
    assert stat(doc, "participant_waiting_days_median") == 44
    assert stat(doc, "participant_waiting_days_mean") == 46.0
    # ended: d0 (Jan 31, goals reached, planned), d3 (Mar 25, mismatch, unplanned)
    assert nonzero(table(doc, "duos_ended", "end_reason")) == {
        ("goals_reached", "planned"): 1, ("goals_reached", TOTAL): 1, ("mismatch", "unplanned"): 1,
        ("mismatch", TOTAL): 1, (TOTAL, "planned"): 1, (TOTAL, "unplanned"): 1, (TOTAL, TOTAL): 2}
    # d0: Oct 1 → Jan 31 = 122 days = 4.01 months; d3: Feb 15 → Mar 25 = 38 days = 1.25 months
    assert stat(doc, "duo_duration_months_median") == 2.6 and stat(doc, "duo_duration_months_mean") == 2.6
    assert stat(doc, "duos_planned_end_share") == 50
    # running in the quarter: d0, d1, d2, d3; per month: Jan d0; Feb d1, d3; Mar d1 (after its pause), d2, d3
    assert table(doc, "duos_active", "by_unit") == {R1: 3, R2: 1, TOTAL: 4}
    assert nonzero(table(doc, "duos_active", "target_group")) == {"individual_adult": 2, "family": 1, "youth": 1,
                                                                  TOTAL: 4}
    assert table(doc, "duos_active_by_period", "series") == {JAN: 1, FEB: 2, MAR: 3}
    assert nonzero(table(doc, "duos_paused", "pause_reason")) == {"holiday": 1, TOTAL: 1}


def test_contacts_count_corrections_and_not_drafts_or_retractions(flanders: dict[str, Any]) -> None:
    doc = flanders
    # Jan: c01, c02; Feb: c11, c31; Mar: c12, c16 (corrected Mar 5 → Mar 6), c21, c32.
    # Not: c03 (December), c13 (a draft), c14 (retracted), c15 (corrected to April 2).
    assert table(doc, "contacts", "by_period") == {JAN: 2, FEB: 2, MAR: 4, TOTAL: 8}
    assert table(doc, "contacts", "by_unit") == {R1: 6, R2: 2, TOTAL: 8}
    # c16 counts as corrected: in person, not video
    assert nonzero(table(doc, "contacts", "contact_mode")) == {"in_person": 6, "phone": 1, "message": 1, TOTAL: 8}
    assert nonzero(table(doc, "contacts", "target_group")) == {"individual_adult": 5, "family": 1, "youth": 2,
                                                               TOTAL: 8}
    assert nonzero(table(doc, "contact_activities", "mentions")) == {
        "walk": 3, "coffee_or_chat": 1, "shopping": 1, "accompany_food_bank": 1, "accompany_doctor": 1,
        "playground_or_children_activity": 1, "other": 1}
    assert table(doc, "contacts_accompaniment", "by_period") == {JAN: 0, FEB: 1, MAR: 1, TOTAL: 2}
    # contacts per running duo-month: Jan 2 / 1, Feb 2 / 2, Mar 4 / 3; the quarter 8 / 6
    assert stat(doc, "contacts_per_active_duo_month") == 1.3
    assert [stat(doc, "contacts_per_active_duo_month", month=m) for m in (JAN, FEB, MAR)] == [2.0, 1.0, 1.3]
    assert stat(doc, "contact_minutes_mean") == 59.4  # 475 minutes / 8


def test_coaching_boundaries_goals_calls_and_signals(flanders: dict[str, Any]) -> None:
    doc = flanders
    assert nonzero(table(doc, "coaching_sessions", "coaching_kind")) == {"group": 1, "individual": 1, "intervision": 1,
                                                                         TOTAL: 3}
    assert nonzero(table(doc, "coaching_themes", "mentions")) == {"boundaries": 2, "communication": 1,
                                                                  "role_of_the_buddy": 1}
    assert table(doc, "coached_volunteers", "by_unit") == {R1: 2, R2: 1, TOTAL: 3}
    assert stat(doc, "coaching_minutes_per_volunteer") == 125.0  # v1 120 + 45, v2 120, v6 90
    assert stat(doc, "coaching_sessions_per_volunteer") == 1.3  # 4 / 3
    # boundary signals: b2 (Feb), b1 and b3 (Mar); resolved b1 after 10 days, b2 after 33
    assert table(doc, "boundary_signals", "by_period") == {JAN: 0, FEB: 1, MAR: 2, TOTAL: 3}
    assert nonzero(table(doc, "boundary_signals", "signal_type")) == {
        ("money_or_goods_asked", "high"): 1, ("money_or_goods_asked", TOTAL): 1, ("conflict", "medium"): 1,
        ("conflict", TOTAL): 1, ("safety", "critical"): 1, ("safety", TOTAL): 1, (TOTAL, "medium"): 1,
        (TOTAL, "high"): 1, (TOTAL, "critical"): 1, (TOTAL, TOTAL): 3}
    assert nonzero(table(doc, "boundary_signals_resolved", "resolution")) == {
        "agreements_made": 1, "duo_paused_or_ended": 1, TOTAL: 2}
    assert stat(doc, "boundary_resolution_days_median") == 21.5
    # goals set: g2 (Feb 18), g1 (Feb 25); closed: g3 (Jan, achieved), g2 (Mar, partly); progress g3 +4, g2 +2
    assert nonzero(table(doc, "goals_set", "goal_domain")) == {"social_network": 1, "language": 1, TOTAL: 2}
    assert nonzero(table(doc, "goals_closed", "goal_outcome")) == {"achieved": 1, "partly_achieved": 1, TOTAL: 2}
    assert stat(doc, "goal_progress_mean") == 3.0 and stat(doc, "goals_achieved_share") == 50
    # final evaluations: d0 wellbeing 4 → 7, network 3 → 5; d3 wellbeing 6 → 5, network 4 → 4
    assert nonzero(table(doc, "evaluation_changes", "change")) == {
        ("improved", "improved"): 1, ("improved", TOTAL): 1, ("declined", "same"): 1, ("declined", TOTAL): 1,
        (TOTAL, "improved"): 1, (TOTAL, "same"): 1, (TOTAL, TOTAL): 2}
    assert stat(doc, "wellbeing_change_mean") == 1.0 and stat(doc, "network_change_mean") == 1.0
    # follow-up calls due: x3 (Jan, open), x1 (Feb, reached, network grown), x2 (Mar, not reachable); x4 in April; x5 (Feb) cancelled, so never due
    assert table(doc, "followup_calls_due", "by_period") == {JAN: 1, FEB: 1, MAR: 1, TOTAL: 3}
    assert nonzero(table(doc, "followup_calls_due", "call_status")) == {"reached_grown": 1, "not_reachable": 1,
                                                                        "open": 1, TOTAL: 3}
    assert nonzero(table(doc, "followup_calls_due", "call_result")) == {"reached": 1, "not_reachable": 1, "open": 1,
                                                                        TOTAL: 3}
    assert stat(doc, "followup_reach_share") == 33 and stat(doc, "still_in_contact_share") == 100
    assert stat(doc, "followup_wellbeing_mean") == 8.0
    # policy signals: ps1 (Jan, digital), ps2 (Feb, digital), ps3 (Mar, housing); ps4 in December
    assert nonzero(table(doc, "policy_signals", "policy_theme")) == {"digital_barriers": 2, "housing": 1, TOTAL: 3}
    quotes = next(s for s in doc["sections"] if s["key"] == "policy")["quotes"]
    assert [(q["theme"], q["text"]) for q in quotes] == [
        ("digital_barriers", "Loketten zijn alleen nog online bereikbaar."),
        ("housing", "Een huurwaarborg is niet op te brengen.")]


# --------------------------------------------------------------------------- other scopes, bases and times
def test_a_coordinator_sees_the_projects_of_the_region(world: Any) -> None:
    doc = overview(world[2], audience="coordinator", region=R1)
    assert doc["scope"] == {"level": "region", "region": R1}
    assert table(doc, "contacts", "by_unit") == {"pA": 4, "pB": 2, TOTAL: 6}
    assert table(doc, "volunteer_funnel", "volunteer_funnel_by_unit")[("pA", "volunteers_enquired")] == 2
    views = {v["table"]["name"]: v for s in doc["sections"] for v in s["tables"] if v["indicator"] == "contacts"}
    assert views["by_unit"]["row_labels"]["pB"] == {"nl": "Project pB (Mortsel)", "en": "Project pB (Mortsel)"}


def test_a_project_report_covers_its_project_only(world: Any) -> None:
    doc = overview(world[2], audience="project", project_id="pA")
    assert doc["scope"] == {"level": "project", "region": R1, "project": "pA"}
    assert table(doc, "duos_started", "by_period")[TOTAL] == 2  # d1, d2
    assert table(doc, "contacts", "by_period") == {JAN: 0, FEB: 1, MAR: 3, TOTAL: 4}
    assert all(v["table"]["name"] != "by_unit" or not v["table"]["cols"]
               for s in doc["sections"] for v in s["tables"])


def test_quarters_and_the_recorded_basis(world: Any) -> None:
    doc = overview(world[2], grain="quarter")
    assert table(doc, "contacts", "by_period") == {"2026-Q1": 8, TOTAL: 8}
    # recorded: c02 in Jan; c01 (entered Feb 3), c11, c31 in Feb; c12, c15 (logged Mar 29), c16, c21 in Mar;
    # c32 was entered on April 2
    doc = overview(world[2], basis="recorded")
    assert doc["basis"] == "recorded"
    assert table(doc, "contacts", "by_period") == {JAN: 1, FEB: 3, MAR: 4, TOTAL: 8}


def test_as_known_on_a_date_uses_what_was_recorded_by_then(world: Any) -> None:
    _, stores, live = world
    params = parse_parameters({"audience": "government", **Q1, "disclosure": EXACT, "as_known_on": "2026-02-28"})
    built, marks = asyncio.run(compute_as_known_on(StoreRowsFeed(stores), params))
    doc = built.content
    assert doc["as_known_on"] == "2026-02-28"
    # known on Feb 28: c01 (entered Feb 3), c02, c11, c31; d3 had not ended; g2 not closed
    assert table(doc, "contacts", "by_period") == {JAN: 2, FEB: 2, MAR: 0, TOTAL: 4}
    assert table(doc, "duos_ended", "by_period")[TOTAL] == 1
    assert all(0 < marks[u] < stores[u].head()[0] for u in marks)
    with reader(live).connect() as conn, pytest.raises(InvalidInput) as refused:
        build_overview(conn, params)  # the live projections know more than on Feb 28
    assert refused.value.field == "as_known_on"


def test_a_correction_gives_the_figures_of_a_direct_entry(world: Any, tmp_path: Path) -> None:
    folder, _, corrected = world
    stores, _ = history(tmp_path, corrected_directly=True)
    direct = rebuilt(tmp_path, stores, "direct")
    dump = "SELECT * FROM rp_contacts ORDER BY contact_id"
    with reader(corrected).connect() as a, reader(direct).connect() as b:
        assert list(a.execute(text(dump))) == list(b.execute(text(dump)))
    for basis in ("occurred", "recorded"):
        assert overview(corrected, basis=basis) == overview(direct, basis=basis)


def test_summaries_only_where_the_theme_count_passes_the_threshold(world: Any) -> None:
    doc = overview(world[2], disclosure={"threshold": 2, "rounding_base": 1, "min_units_for_statistics": 2})
    section = next(s for s in doc["sections"] if s["key"] == "policy")
    themes = {c["row"]: c for v in section["tables"] if v["table"]["name"] == "policy_theme"
              for c in v["table"]["cells"] if c["col"] == TOTAL}
    assert themes["housing"]["value"] is None  # one signal: below the threshold
    assert all(q["theme"] != "housing" for q in section["quotes"])
    for q in section["quotes"]:
        assert themes[q["theme"]]["value"] is not None and themes[q["theme"]]["value"] >= 2


def test_no_personal_data_in_any_projection(world: Any) -> None:
    """Ids, codes, dates and numbers only; the one text is a confirmed policy-signal summary."""
    folder, _, engine = world
    summaries = {"Loketten zijn alleen nog online bereikbaar.", "Een huurwaarborg is niet op te brengen.",
                 "Schulden stapelen zich op."}
    with reader(engine).connect() as conn:
        for t in PROJECTION_TABLES:
            for row in conn.execute(text(f"SELECT * FROM {t.name}")).mappings():
                for column, value in row.items():
                    if isinstance(value, str) and " " in value:
                        assert (t.name, column) in {("rp_policy_signals", "summary"), ("rp_projects", "title")}, \
                            (t.name, column, value)
                        assert value in summaries or value.startswith("Project "), value
