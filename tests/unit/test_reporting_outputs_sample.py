"""A realistic report document for the output tests, protected by the real disclosure engine.

``sample_document()`` builds an overview of all of Flanders: a monthly trend (line), the
volunteer funnel, a comparison of regions (bar), duo endings by reason (stacked bar), a
trend with several series, a table that hides too much (with a suggestion) and a few
statistics, one of them withheld. Every table goes through ``protect_tables``, so the
document carries small cells hidden by primary suppression and larger cells hidden by
secondary suppression, exactly as a real report does. The tests below check that.
"""

from __future__ import annotations

import functools
import random
from typing import Any

from services.reporting.disclosure import (
    TOTAL, Axis, CellStatus, CountCube, DisclosurePolicy, Message, ProtectedRelease, TableSpec, protect_share,
    protect_statistic, protect_tables)
from services.reporting.document import (
    Definition, Period, ReportDocument, Section, StatisticView, TableView, Text)

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
REGIONS = {
    "antwerpen-kempen": Text(nl="Antwerpen-Kempen", en="Antwerp-Campine"),
    "gent-meetjesland": Text(nl="Gent-Meetjesland", en="Ghent-Meetjesland"),
    "brugge-kust": Text(nl="Brugge-Kust", en="Bruges-Coast"),
    "leuven-hageland": Text(nl="Leuven-Hageland", en="Leuven-Hageland"),
    "limburg": Text(nl="Limburg", en="Limburg"),
}
PROJECTS = {f"{region}-{i}": region for region in REGIONS for i in (1, 2)}
TARGET_GROUPS = {
    "family": Text(nl="Gezinnen", en="Families"),
    "elderly": Text(nl="Ouderen", en="Older people"),
    "mental_health": Text(nl="Psychische kwetsbaarheid", en="Mental health"),
    "newcomers": Text(nl="Nieuwkomers", en="Newcomers"),
}
STAGES = {
    "enquired": Text(nl="Aanmelding", en="Enquiry"),
    "intake": Text(nl="Intakegesprek", en="Intake"),
    "approved": Text(nl="Goedgekeurd", en="Approved"),
    "coached": Text(nl="Vorming gevolgd", en="Trained"),
    "available": Text(nl="Beschikbaar", en="Available"),
    "in_duo": Text(nl="In een duo", en="In a duo"),
    "stopped": Text(nl="Gestopt", en="Stopped"),
}
MODES = {
    "visit": Text(nl="Bezoek", en="Visit"),
    "phone": Text(nl="Telefoon", en="Phone"),
    "video": Text(nl="Videogesprek", en="Video call"),
}
REASONS = {
    "goal_reached": Text(nl="Doel bereikt", en="Goal reached"),
    "moved": Text(nl="Verhuisd", en="Moved"),
    "mismatch": Text(nl="Geen klik", en="No match"),
    "health": Text(nl="Gezondheid", en="Health"),
}
PLANNED = {"planned": Text(nl="Gepland", en="Planned"), "unplanned": Text(nl="Niet gepland", en="Unplanned")}
COUNT = Text(nl="aantal", en="count")


def T(nl: str, en: str) -> Text:  # noqa: N802 - reads like a label
    return Text(nl=nl, en=en)


def duo_starts(rng: random.Random) -> dict[tuple[str, str, str], int]:
    counts = {}
    for project, region in PROJECTS.items():
        for tg in TARGET_GROUPS:
            for month in MONTHS:
                if region == "limburg":  # a small region: its cells get hidden
                    high = 1 if tg == "family" else 0
                elif tg == "newcomers" and region == "brugge-kust":
                    high = 0  # a small group across the year
                elif month == "2025-08":
                    high = 1  # summer: few starts
                else:
                    high = 3
                counts[(project, tg, month)] = rng.randint(0, high)
    counts[("brugge-kust-1", "newcomers", "2025-03")] = 2
    counts[("brugge-kust-2", "newcomers", "2025-06")] = 1
    return counts


def protect(cube: CountCube, specs: list[TableSpec], policy: DisclosurePolicy) -> ProtectedRelease:
    return protect_tables(cube, specs, policy)


def sample_document(audience: str = "government", *, seed: int = 7) -> ReportDocument:
    """A fresh copy each time (tests may change it); built once per audience and seed."""
    return ReportDocument.model_validate_json(_sample_json(audience, seed))


@functools.lru_cache(maxsize=8)
def _sample_json(audience: str, seed: int) -> str:
    return build_sample(audience, seed=seed).model_dump_json()


def build_sample(audience: str = "government", *, seed: int = 7) -> ReportDocument:
    rng = random.Random(seed)
    policy = DisclosurePolicy.for_audience(audience)
    releases: list[ProtectedRelease] = []

    starts = CountCube(("project", "target_group", "month"), duo_starts(rng),
                       levels={"project": tuple(PROJECTS), "target_group": tuple(TARGET_GROUPS), "month": tuple(MONTHS)})
    region_axis = Axis("region", "project", PROJECTS)
    r1 = protect(starts, [TableSpec("duos_started_by_month", "month"),
                          TableSpec("duos_started_by_region", region_axis, "target_group")], policy)
    releases.append(r1)

    funnel = CountCube(("stage",), {("enquired",): 243, ("intake",): 188, ("approved",): 151, ("coached",): 122,
                                    ("available",): 97, ("in_duo",): 71, ("stopped",): 8},
                       levels={"stage": tuple(STAGES)})
    r2 = protect(funnel, [TableSpec("volunteer_funnel", "stage", None, margins=False)], policy)
    releases.append(r2)

    contacts = {}
    for i, month in enumerate(MONTHS):
        contacts[(month, "visit")] = 140 + 6 * i + rng.randint(-10, 10)
        contacts[(month, "phone")] = 60 + rng.randint(-8, 8)
        contacts[(month, "video")] = rng.choice([3, 6, 12, 14, 4, 18])
    contact_cube = CountCube(("month", "mode"), contacts, levels={"month": tuple(MONTHS), "mode": tuple(MODES)})
    r3 = protect(contact_cube, [TableSpec("contacts_by_month_and_mode", "month", "mode")], policy)
    releases.append(r3)

    endings = {("goal_reached", "planned"): 34, ("goal_reached", "unplanned"): 0, ("moved", "planned"): 12,
               ("moved", "unplanned"): 4, ("mismatch", "planned"): 3, ("mismatch", "unplanned"): 15,
               ("health", "planned"): 11, ("health", "unplanned"): 13}
    end_cube = CountCube(("reason", "planned"), endings, levels={"reason": tuple(REASONS), "planned": tuple(PLANNED)})
    r4 = protect(end_cube, [TableSpec("duos_ended_by_reason", "reason", "planned")], policy)
    releases.append(r4)

    signals = {(m,): v for m, v in zip(MONTHS, [2, 0, 5, 1, 3, 11, 0, 1, 4, 2, 6, 3])}
    r5 = protect(CountCube(("month",), signals, levels={"month": tuple(MONTHS)}),
                 [TableSpec("boundary_signals_by_month", "month")], policy)
    releases.append(r5)

    months = {m: T(*label) for m, label in zip(MONTHS, [
        (f"{nl} 2025", f"{en} 2025") for nl, en in zip(
            ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])])}

    waiting = protect_statistic(23.4, 85, policy)
    duration = protect_statistic(7.5, 41, policy)
    planned_share = protect_share(4, 35, policy)

    def withheld(stat: Any) -> Message | None:
        if not stat.suppressed:
            return None
        return Message(code=str(stat.reason), nl="verborgen: zou een kleine groep verraden",
                       en="hidden: would reveal a small group")

    sections = [
        Section(key="trends", title=T("Evolutie", "Trends"),
                intro=T("Hoe het aantal nieuwe duo's en contacten evolueerde over het jaar.",
                        "How the number of new duos and contacts evolved over the year."),
                tables=[
                    TableView(indicator="duos_started", title=T("Gestarte duo's per maand", "Duos started per month"),
                              unit=COUNT, table=r1.table("duos_started_by_month"), row_labels=months, chart="line"),
                    TableView(indicator="contacts", title=T("Contacten per maand, per soort", "Contacts per month, by mode"),
                              unit=COUNT, table=r3.table("contacts_by_month_and_mode"), row_labels=months,
                              col_labels=MODES, chart="line"),
                ],
                statistics=[
                    StatisticView(indicator="waiting_days_volunteer",
                                  title=T("Gemiddelde wachttijd vrijwilliger", "Mean waiting time, volunteer"),
                                  unit=T("dagen", "days"), value=waiting.value, units=waiting.units),
                    StatisticView(indicator="duo_duration_median",
                                  title=T("Mediane duur van een duo", "Median duration of a duo"),
                                  unit=T("maanden", "months"), value=duration.value, units=duration.units),
                    StatisticView(indicator="planned_endings_share",
                                  title=T("Aandeel geplande afsluitingen", "Share of planned endings"),
                                  unit=T("%", "%"), value=planned_share.value, units=planned_share.units,
                                  withheld=withheld(planned_share)),
                ]),
        Section(key="volunteers", title=T("Vrijwilligers", "Volunteers"),
                tables=[TableView(indicator="volunteer_funnel",
                                  title=T("Van aanmelding tot duo", "From enquiry to duo"), unit=T("vrijwilligers", "volunteers"),
                                  table=r2.table("volunteer_funnel"), row_labels=STAGES, chart="funnel")]),
        Section(key="regions", title=T("Regio's vergeleken", "Regions compared"),
                tables=[TableView(indicator="duos_started",
                                  title=T("Gestarte duo's per regio en doelgroep", "Duos started by region and target group"),
                                  unit=COUNT, table=r1.table("duos_started_by_region"), row_labels=REGIONS,
                                  col_labels=TARGET_GROUPS, chart="bar")]),
        Section(key="duos", title=T("Afgesloten duo's", "Ended duos"),
                tables=[TableView(indicator="duos_ended", title=T("Afgesloten duo's per reden", "Duos ended by reason"),
                                  unit=COUNT, table=r4.table("duos_ended_by_reason"), row_labels=REASONS,
                                  col_labels=PLANNED, chart="stacked_bar"),
                        TableView(indicator="boundary_signals",
                                  title=T("Grenssignalen per maand", "Boundary signals per month"), unit=COUNT,
                                  table=r5.table("boundary_signals_by_month"), row_labels=months, chart="bar")]),
    ]
    definitions = [
        Definition(indicator="duos_started", title=T("Gestarte duo's", "Duos started"),
                   formula=T("Aantal duo's met startdatum in de periode.", "Number of duos with a start date in the period."),
                   unit=COUNT, sources=["DuoStarted"]),
        Definition(indicator="contacts", title=T("Contacten", "Contacts"),
                   formula=T("Aantal gelogde contacten met contactdatum in de periode, per soort.",
                             "Number of logged contacts dated in the period, by mode."),
                   unit=COUNT, sources=["ContactLogged", "ContactCorrected", "ContactRetracted"]),
        Definition(indicator="volunteer_funnel", title=T("Vrijwilligerstrechter", "Volunteer funnel"),
                   formula=T("Aantal vrijwilligers dat elke stap bereikte.", "Number of volunteers who reached each step."),
                   unit=T("vrijwilligers", "volunteers"),
                   sources=["VolunteerEnquiryReceived", "VolunteerMadeAvailable", "DuoStarted", "VolunteerStopped"]),
        Definition(indicator="duos_ended", title=T("Afgesloten duo's", "Duos ended"),
                   formula=T("Aantal duo's met einddatum in de periode, per reden en of het einde gepland was.",
                             "Number of duos with an end date in the period, by reason and whether it was planned."),
                   unit=COUNT, sources=["DuoEnded"]),
        Definition(indicator="boundary_signals", title=T("Grenssignalen", "Boundary signals"),
                   formula=T("Aantal gemelde grenssignalen.", "Number of boundary signals raised."),
                   unit=COUNT, sources=["BoundarySignalRaised"]),
        Definition(indicator="waiting_days_volunteer", title=T("Wachttijd vrijwilliger", "Waiting time, volunteer"),
                   formula=T("Dagen van beschikbaar tot de start van het eerste duo, gemiddeld.",
                             "Days from available to the start of the first duo, mean."),
                   unit=T("dagen", "days"), sources=["VolunteerMadeAvailable", "DuoStarted"]),
    ]
    notes, seen = [], set()
    suggestions = []
    for release in releases:
        for note in release.notes:
            if note.code not in seen:
                seen.add(note.code)
                notes.append(note)
        suggestions += [s for s in release.suggestions if s not in suggestions]
    return ReportDocument(
        kind="overview", title=T("Overzicht buddywerking", "Buddy programmes overview"), audience=audience,
        scope={}, scope_label=T("heel Vlaanderen", "all of Flanders"),
        period=Period(start="2025-01-01", end="2025-12-31", grain="month"), basis="occurred",
        sections=sections, definitions=definitions, notes=notes, suggestions=suggestions)


def hidden_cells(doc: ReportDocument) -> list[tuple[str, Any]]:
    return [(view.table.name, cell) for s in doc.sections for view in s.tables for cell in view.table.cells
            if cell.suppressed]


# --------------------------------------------------------------------------- the sample itself


def test_the_sample_hides_small_cells_and_their_complements() -> None:
    doc = sample_document()
    statuses = {cell.status for _, cell in hidden_cells(doc)}
    assert CellStatus.below_threshold in statuses
    assert CellStatus.complementary in statuses
    assert {view.chart for s in doc.sections for view in s.tables} >= {"line", "funnel", "bar", "stacked_bar"}
    assert any(s.withheld for section in doc.sections for s in section.statistics)
    assert doc.suggestions, "the boundary-signal table hides too much and says so"


def test_the_sample_round_trips_as_json() -> None:
    doc = sample_document()
    again = ReportDocument.model_validate(doc.model_dump(mode="json"))
    assert again == doc
    assert any(c.row == TOTAL for c in doc.sections[0].tables[0].table.cells)
