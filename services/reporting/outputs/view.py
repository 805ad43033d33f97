"""What every output shows of a ``ReportDocument``: labels, formatted figures, markers.

One rule, enforced here and only here: a hidden cell has no number. Renderers never read
``ProtectedCell.value`` themselves; they read a ``CellView``, whose ``value`` is ``None``
for every hidden cell, whatever else the cell says.

Every hidden cell gets the same marker. Whether a cell was hidden because it is small
(primary suppression) or to protect a small cell (secondary suppression) is explained in
general terms, never per cell: telling which cells are the small ones would tell a reader
that those counts lie between 1 and the threshold, which is what hiding them protects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.reporting.disclosure import AUDIENCE_LABELS, DIMENSION_LABELS, TOTAL, Audience, CellStatus
from services.reporting.document import ReportDocument, Section, StatisticView, TableView, Text

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")

MARKER = "—"
"""Shown instead of every hidden figure, in every output."""

HIDDEN = Text(nl="verborgen om personen te beschermen", en="hidden to protect people")
LEGEND = Text(nl=f"{MARKER} = {HIDDEN.nl}", en=f"{MARKER} = {HIDDEN.en}")
TOTAL_LABEL = Text(nl="Totaal", en="Total")
STRUCTURAL_ZERO = Text(nl="kan niet voorkomen", en="cannot occur")

Status = Literal["shown", "hidden", "structural_zero"]
STATUS_LABELS: dict[str, Text] = {
    "shown": Text(nl="getoond", en="shown"),
    "hidden": HIDDEN,
    "structural_zero": Text(nl="structurele nul (kan niet voorkomen)", en="structural zero (cannot occur)"),
}

WHY_HIDDEN: list[Text] = [
    Text(nl="Kleine aantallen, nul inbegrepen, worden niet getoond: wie weet dat een groep klein is, kan er "
            "personen in herkennen (primaire onderdrukking).",
         en="Small counts, zero included, are not shown: knowing that a group is small can let a reader recognise the "
            "people in it (primary suppression)."),
    Text(nl="Sommige grotere aantallen zijn ook verborgen, omdat je anders een verborgen klein aantal zou kunnen "
            "terugrekenen uit de totalen, uit andere tabellen of uit een ander rapport (secundaire onderdrukking). "
            "Elk rapport van een kalenderjaar leest dezelfde beschermde cijfers: een andere periode, indeling of "
            "regio kiezen toont nooit wat hier verborgen is.",
         en="Some larger counts are hidden too, because otherwise a hidden small count could be recomputed from the "
            "totals, from other tables or from another report (secondary suppression). Every report of a calendar "
            "year reads the same protected figures: choosing another period, breakdown or region never shows what "
            "is hidden here."),
    Text(nl="Cijfers per project (boven het project) en uitsplitsingen naar kenmerk worden per kalenderjaar "
            "vrijgegeven, uitsplitsingen alleen op je eigen niveau; elders staan ze verborgen.",
         en="Figures per project (above the project) and breakdowns by attribute are released per calendar year, "
            "breakdowns only at your own level; elsewhere they are hidden."),
    Text(nl="Welke verborgen cellen klein zijn en welke niet, tonen we bewust niet: dat zou net verraden wat "
            "beschermd moet worden. Alle verborgen cellen krijgen daarom hetzelfde teken.",
         en="Which hidden cells are small and which are not is deliberately not shown: that would reveal exactly what "
            "is being protected. Every hidden cell therefore gets the same mark."),
    Text(nl="Gemiddelden, medianen en percentages worden niet getoond als ze over te weinig eenheden gaan of een "
            "kleine groep zouden verraden.",
         en="Means, medians and percentages are not shown when they cover too few units or would reveal a small "
            "group."),
]

BASIS_LABELS: dict[str, Text] = {
    "occurred": Text(nl="over wat in de periode gebeurde", en="about what happened in the period"),
    "recorded": Text(nl="zoals geregistreerd", en="as recorded"),
}

MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}
MONTHS_SHORT = {
    "nl": ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}

_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_KEY = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR_KEY = re.compile(r"^(\d{4})$")


# --------------------------------------------------------------------------- the document, read leniently


class StatisticOut(StatisticView):
    """A statistic; report kinds may say where in a breakdown it sits (e.g. {"month": "2026-03"})."""

    dims: dict[str, str] = Field(default_factory=dict)


class QuoteOut(BaseModel):
    """A confirmed, anonymised summary of a policy signal, shown as it was confirmed."""

    theme: str
    theme_label: Text
    text: str


class SectionOut(Section):
    statistics: list[StatisticOut] = Field(default_factory=list)  # type: ignore[assignment]
    quotes: list[QuoteOut] = Field(default_factory=list)


class OutputDocument(ReportDocument):
    """A ``ReportDocument`` with what report kinds may add beside the contract (statistics
    by period, policy-signal summaries); content without them reads the same."""

    sections: list[SectionOut]  # type: ignore[assignment]


def document(content: Any) -> OutputDocument:
    """The document of a report's content (raises pydantic's ValidationError if it is none)."""
    return OutputDocument.model_validate(content)


def dims_of(view: StatisticView) -> dict[str, str]:
    return dict(getattr(view, "dims", None) or {})


def quotes_of(section: Section) -> list[QuoteOut]:
    return list(getattr(section, "quotes", None) or [])


def dims_label(dims: dict[str, str]) -> Text:
    parts = [key_label(v) for v in dims.values()]
    return Text(nl=", ".join(p.nl for p in parts), en=", ".join(p.en for p in parts))


def pick(text: Text | Any, lang: Lang) -> str:
    """The text in one language (a ``Text``, a ``Message`` or a {nl, en} mapping)."""
    if isinstance(text, dict):
        return str(text.get(lang) or text.get("nl") or "")
    return str(getattr(text, lang, None) or getattr(text, "nl", ""))


def both(text: Text | Any) -> str:
    """Dutch first, English second."""
    nl, en = pick(text, "nl"), pick(text, "en")
    return nl if nl == en else f"{nl} / {en}"


def same(value: str) -> Text:
    return Text(nl=value, en=value)


# --------------------------------------------------------------------------- numbers and dates


def fmt_int(value: int, lang: Lang) -> str:
    """1.234 in Dutch, 1,234 in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "nl" else text


def fmt_number(value: float | int, lang: Lang) -> str:
    """A statistic as given (its decimals already chosen by the disclosure policy)."""
    if float(value).is_integer():
        return fmt_int(int(value), lang)
    decimals = max(len(f"{float(value):.3f}".rstrip("0").partition(".")[2]), 1)
    whole, _, frac = f"{value:,.{decimals}f}".partition(".")
    if lang == "nl":
        return f"{whole.replace(',', '.')},{frac}"
    return f"{whole}.{frac}"


def number_text(value: float | int) -> Text:
    return Text(nl=fmt_number(value, "nl"), en=fmt_number(value, "en"))


def fmt_date(iso: str, lang: Lang) -> str:
    """1 januari 2026 / 1 January 2026 (the ISO string itself when it is not a date)."""
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{day.day} {MONTHS[lang][day.month - 1]} {day.year}"


def date_text(iso: str) -> Text:
    return Text(nl=fmt_date(iso, "nl"), en=fmt_date(iso, "en"))


def key_label(key: str) -> Text:
    """A readable label for a period key (2026-03, 2026-Q1, 2026) or the key itself."""
    if key == TOTAL:
        return TOTAL_LABEL
    if m := _MONTH_KEY.match(key):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return Text(nl=f"{MONTHS_SHORT['nl'][month - 1]} {year}", en=f"{MONTHS_SHORT['en'][month - 1]} {year}")
    if m := _QUARTER_KEY.match(key):
        return Text(nl=f"K{m[2]} {m[1]}", en=f"Q{m[2]} {m[1]}")
    return same(key)


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class CellView:
    """A published cell as outputs may show it: ``value`` is None when hidden."""

    row: str
    col: str
    value: int | None
    status: Status
    rounded: bool

    @property
    def hidden(self) -> bool:
        return self.status == "hidden"

    @property
    def is_total(self) -> bool:
        return self.row == TOTAL or self.col == TOTAL

    def display(self, lang: Lang) -> str:
        if self.value is None:
            return MARKER
        return fmt_int(self.value, lang)

    def text(self) -> Text:
        return Text(nl=self.display("nl"), en=self.display("en"))


_SHOWN = {CellStatus.shown, CellStatus.structural_zero}


def cell_view(row: str, col: str, value: int | None, status: CellStatus | str, rounded: bool) -> CellView:
    status = CellStatus(status)
    if value is None or status not in _SHOWN:
        return CellView(row, col, None, "hidden", False)
    if status is CellStatus.structural_zero:
        return CellView(row, col, 0, "structural_zero", False)
    return CellView(row, col, int(value), "shown", rounded)


@dataclass(frozen=True)
class Grid:
    """A table view laid out for output: row and column keys in reading order, with labels."""

    view: TableView
    rows: list[str]
    cols: list[str]
    cells: dict[tuple[str, str], CellView]

    @property
    def has_columns(self) -> bool:
        """False for a one-way table: its only column is the value (key TOTAL)."""
        return bool(self.view.table.cols)

    @property
    def inner_rows(self) -> list[str]:
        return [r for r in self.rows if r != TOTAL]

    @property
    def inner_cols(self) -> list[str]:
        return [c for c in self.cols if c != TOTAL]

    def cell(self, row: str, col: str) -> CellView | None:
        return self.cells.get((row, col))

    def row_label(self, key: str) -> Text:
        return self.view.row_labels.get(key) or key_label(key)

    def col_label(self, key: str) -> Text:
        if key == TOTAL and not self.has_columns:
            return self.view.unit
        return self.view.col_labels.get(key) or key_label(key)

    @property
    def hidden(self) -> int:
        return sum(c.hidden for c in self.cells.values())

    @property
    def visible(self) -> int:
        return sum(c.status != "structural_zero" for c in self.cells.values())

    @property
    def any_rounded(self) -> bool:
        return any(c.rounded for c in self.cells.values())


def grid(view: TableView) -> Grid:
    table = view.table
    cells = {(c.row, c.col): cell_view(c.row, c.col, c.value, c.status, c.rounded) for c in table.cells}
    rows = list(table.rows) + ([TOTAL] if any(r == TOTAL for r, _ in cells) else [])
    if table.cols:
        cols = list(table.cols) + ([TOTAL] if any(c == TOTAL for _, c in cells) else [])
    else:
        cols = [TOTAL]
    return Grid(view, rows, cols, cells)


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class StatisticShown:
    view: StatisticView
    value: float | None
    units: int | None

    @property
    def hidden(self) -> bool:
        return self.value is None

    def display(self, lang: Lang) -> str:
        return MARKER if self.value is None else fmt_number(self.value, lang)

    def text(self) -> Text:
        return Text(nl=self.display("nl"), en=self.display("en"))


def statistic(view: StatisticView) -> StatisticShown:
    """A statistic with its value only when it was released (no value when withheld)."""
    if view.value is None or view.withheld is not None:
        return StatisticShown(view, None, None)
    return StatisticShown(view, float(view.value), view.units)


# --------------------------------------------------------------------------- the report around the tables


def audience_label(doc: ReportDocument) -> Text:
    labels = AUDIENCE_LABELS[Audience(doc.audience)]
    return Text(nl=labels["nl"], en=labels["en"])


AXIS_LABELS: dict[str, Text] = {
    "stage": Text(nl="Stap", en="Step"),
    "step": Text(nl="Stap", en="Step"),
    "mode": Text(nl="Soort contact", en="Mode"),
    "reason": Text(nl="Reden", en="Reason"),
    "planned": Text(nl="Gepland", en="Planned"),
    "channel": Text(nl="Kanaal", en="Channel"),
    "referrer": Text(nl="Verwijzer", en="Referrer"),
    "life_domain": Text(nl="Levensdomein", en="Life domain"),
    "activity": Text(nl="Activiteit", en="Activity"),
    "signal_type": Text(nl="Soort signaal", en="Signal type"),
    "theme": Text(nl="Thema", en="Theme"),
    "outcome": Text(nl="Uitkomst", en="Outcome"),
    "status": Text(nl="Status", en="Status"),
    "municipality": Text(nl="Gemeente", en="Municipality"),
    "period": Text(nl="Periode", en="Period"),
    "indicator": Text(nl="Indicator", en="Indicator"),
}


@lru_cache(maxsize=1)
def _catalogue_dimensions() -> dict[str, Text]:
    try:  # the indicator catalogue names every dimension it uses
        from services.reporting.indicators import DIMENSIONS
    except ImportError:  # pragma: no cover - the catalogue is optional for the outputs
        return {}
    return {k: Text(nl=v.nl, en=v.en) for k, v in DIMENSIONS.items()}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def dim_label(name: str) -> Text:
    """The heading of a table's row axis (Maand, Regio, ...)."""
    label = _catalogue_dimensions().get(name) or AXIS_LABELS.get(name)
    if label is None and name in DIMENSION_LABELS:
        label = Text(nl=DIMENSION_LABELS[name]["nl"], en=DIMENSION_LABELS[name]["en"])
    if label is None:
        return same(_capital(name.replace("_", " ")))
    return Text(nl=_capital(label.nl), en=_capital(label.en))


def grain_label(grain: str) -> Text:
    label = DIMENSION_LABELS.get(grain, {"nl": grain, "en": grain})
    return Text(nl=f"per {label['nl']}", en=f"by {label['en']}")


def period_label(doc: ReportDocument) -> Text:
    start, end = doc.period.start, doc.period.end
    return Text(nl=f"{fmt_date(start, 'nl')} – {fmt_date(end, 'nl')}", en=f"{fmt_date(start, 'en')} – {fmt_date(end, 'en')}")


def basis_label(doc: ReportDocument) -> Text:
    if doc.basis == "recorded" or doc.as_known_on:
        if doc.as_known_on:
            return Text(nl=f"zoals gekend op {fmt_date(doc.as_known_on, 'nl')}",
                        en=f"as known on {fmt_date(doc.as_known_on, 'en')}")
        return BASIS_LABELS["recorded"]
    return BASIS_LABELS["occurred"]


def all_grids(doc: ReportDocument) -> list[tuple[str, Grid]]:
    """Every table of the report with the key of its section."""
    return [(section.key, grid(view)) for section in doc.sections for view in section.tables]


def table_ids(doc: ReportDocument) -> dict[int, str]:
    """A name per table view (by ``id()``), unique in the report: the table's own name when
    that is unique, else ``indicator/name`` (report kinds reuse names like ``by_unit``)."""
    views = [view for section in doc.sections for view in section.tables]
    names = [view.table.name for view in views]
    out: dict[int, str] = {}
    taken: set[str] = set()
    for view in views:
        base = view.table.name if names.count(view.table.name) == 1 else f"{view.indicator}/{view.table.name}"
        ident, n = base, 2
        while ident in taken:
            ident, n = f"{base}~{n}", n + 1
        taken.add(ident)
        out[id(view)] = ident
    return out


def hidden_total(doc: ReportDocument) -> int:
    return sum(g.hidden for _, g in all_grids(doc)) + sum(
        statistic(s).hidden for section in doc.sections for s in section.statistics)


@dataclass(frozen=True)
class Provenance:
    """Where a rendered report comes from: a published record, or computed live."""

    report_id: str | None = None
    kind: str | None = None
    content_hash: str | None = None
    computed_from: dict[str, int] | None = None
    created_at: str | None = None

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> "Provenance":
        return cls(report_id=record.get("report_id"), kind=record.get("kind"), content_hash=record.get("content_hash"),
                   computed_from=dict(record.get("computed_from") or {}), created_at=record.get("created_at"))


def provenance_rows(doc: ReportDocument, source: Provenance) -> list[tuple[Text, str]]:
    """Facts about the report, for title pages and metadata blocks."""
    rows: list[tuple[Text, str]] = []
    if source.report_id:
        rows.append((Text(nl="Rapport-id", en="Report id"), source.report_id))
    rows.append((Text(nl="Soort rapport", en="Report kind"), source.kind or doc.kind))
    if source.created_at:
        rows.append((Text(nl="Gepubliceerd op", en="Published on"), source.created_at))
    if source.computed_from is not None:
        marks = ", ".join(f"{k} {v}" for k, v in sorted(source.computed_from.items())) or "—"
        rows.append((Text(nl="Berekend uit (positie per dienst)", en="Computed from (position per service)"), marks))
    if source.content_hash:
        rows.append((Text(nl="Inhoudshash (SHA-256)", en="Content hash (SHA-256)"), source.content_hash))
    return rows


# --------------------------------------------------------------------------- what has figures

# A small region's report is mostly tables without a single figure: every cell hidden, zero
# or absent. Printing them gave a handful of duos a 50-page PDF and an 82-sheet workbook of
# dashes and zeros. The PDF and the workbook print only what carries a figure and list the
# rest, with a reason, under "Zonder cijfers / Without figures"; the CSV keeps every cell.
#
# The decision reads only what the report publishes (``CellView``: no value for a hidden
# cell, whatever the document carries), so folding tells a reader nothing the full table
# would not: a table is left out because it shows no figure at all, and the reason names
# which of "empty", "zeros" and "hidden" it shows, never how many cells or people.

NoFigureReason = Literal["empty", "zeros", "hidden", "zeros_and_hidden"]

NO_FIGURE_REASONS: dict[str, Text] = {
    "empty": Text(nl="geen gegevens", en="no data"),
    "zeros": Text(nl="alleen nullen", en="zeros only"),
    "hidden": Text(nl="alles verborgen", en="everything hidden"),
    "zeros_and_hidden": Text(nl="nullen en verborgen cijfers", en="zeros and hidden figures"),
}
WITHOUT_FIGURES = Text(nl="Zonder cijfers", en="Without figures")
WITHOUT_FIGURES_INTRO = Text(
    nl="Deze tabellen en kengetallen tonen in dit rapport geen enkel cijfer: ze zijn leeg, bevatten alleen nullen, of "
       "al hun cijfers zijn verborgen om personen te beschermen. Ze zijn daarom weggelaten. Een ruimere periode, "
       "een grovere indeling of een groter gebied kan ze wel cijfers geven. De CSV-export bevat ze cel per cel.",
    en="These tables and key figures show no figure at all in this report: they are empty, hold only zeros, or every "
       "figure is hidden to protect people. They are therefore left out. A longer period, a coarser breakdown or a "
       "larger area may give them figures. The CSV export holds them cell by cell.")
WHOLE_SECTION = Text(nl="hele sectie zonder cijfers", en="whole section without figures")


def no_figure_reason(g: Grid) -> NoFigureReason | None:
    """Why a table shows no figure, or None when it shows one (a shown count other than 0)."""
    cells = list(g.cells.values())
    if any(c.value for c in cells):  # a hidden cell has no value: only what is shown counts
        return None
    hidden = any(c.hidden for c in cells)
    zeros = any(not c.hidden for c in cells)
    if hidden and zeros:
        return "zeros_and_hidden"
    if hidden:
        return "hidden"
    return "zeros" if zeros else "empty"


def statistic_groups(section: Section) -> list[list[StatisticView]]:
    """The section's statistics grouped by indicator (one group: a figure and its breakdown
    by period), in the order they first appear."""
    groups: dict[str, list[StatisticView]] = {}
    for view in section.statistics:
        groups.setdefault(view.indicator, []).append(view)
    return list(groups.values())


@dataclass(frozen=True)
class WithoutFigures:
    """A table or key figure left out of the printed report, and why (never a count)."""

    section: str
    section_title: Text
    title: Text
    reason: NoFigureReason
    kind: Literal["table", "statistic", "section"]
    name: str  # the table's name in the CSV export, the statistic's indicator, or the section's key
    whole_section: bool = False


@dataclass(frozen=True)
class Folded:
    """A report as the PDF and the workbook print it: ``doc`` with only the tables and key
    figures that show a figure (and only the sections that keep one), and what was left out."""

    doc: OutputDocument
    omitted: list[WithoutFigures]
    ids: dict[int, str]  # table_ids of the full document, so names match the CSV export

    def omitted_by_section(self) -> list[tuple[Text, bool, list[WithoutFigures]]]:
        """(section title, whole section left out, its entries), in report order."""
        out: dict[str, tuple[Text, bool, list[WithoutFigures]]] = {}
        for entry in self.omitted:
            title, whole, entries = out.setdefault(entry.section, (entry.section_title, entry.whole_section, []))
            entries.append(entry)
        return list(out.values())


def fold(doc: ReportDocument) -> Folded:
    """The report without its tables and key figures that show no figure (see above)."""
    full = doc if isinstance(doc, OutputDocument) else document(doc.model_dump(mode="json"))
    ids = table_ids(full)
    sections: list[SectionOut] = []
    omitted: list[WithoutFigures] = []
    for section in full.sections:
        tables, left = [], []
        for view in section.tables:
            reason = no_figure_reason(grid(view))
            if reason is None:
                tables.append(view)
            else:
                left.append(WithoutFigures(section.key, section.title, view.title, reason, "table", ids[id(view)]))
        statistics: list[StatisticOut] = []
        for group in statistic_groups(section):
            if any(not statistic(s).hidden for s in group):
                statistics += group  # type: ignore[arg-type]
            else:
                first = next((s for s in group if not dims_of(s)), group[0])  # the figure, not a period of it
                left.append(WithoutFigures(section.key, section.title, first.title, "hidden", "statistic",
                                           first.indicator))
        quotes = quotes_of(section)
        whole = not (tables or statistics or quotes)
        if whole and not left:  # a section that had nothing to show at all
            left = [WithoutFigures(section.key, section.title, section.title, "empty", "section", section.key)]
        if whole:
            left = [WithoutFigures(e.section, e.section_title, e.title, e.reason, e.kind, e.name, True) for e in left]
        else:
            sections.append(section.model_copy(update={"tables": tables, "statistics": statistics}))
        omitted += left
    kept = {v.indicator for s in sections for v in [*s.tables, *s.statistics]}
    definitions = [d for d in full.definitions if d.indicator in kept]
    return Folded(full.model_copy(update={"sections": sections, "definitions": definitions}), omitted, ids)
