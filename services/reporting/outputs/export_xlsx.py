"""XLSX export with openpyxl: a contents sheet, one sheet per table with figures, key
figures, definitions and notes.

The workbook opens on its contents sheet: the report's title, scope, audience and period,
a link to every other sheet, and the tables and key figures without figures (empty, only
zeros, or every figure hidden), each with the reason and never a count. Those get no sheet
(``view.fold``): a small region's report is a handful of sheets, not eighty of dashes.

Shown figures are numbers (so they sum and chart in Excel); a hidden figure is the text
"—" on a grey ground, never a number, explained on every table sheet and on the notes
sheet. Every text cell is text: the workbook holds no formula, so a summary or a name
that starts like one (``=HYPERLINK(…)``) is shown, never run (``as_text``).
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from shared.contracts.common import formula_like
from services.reporting.disclosure import TOTAL
from services.reporting.document import ReportDocument, Text
from services.reporting.outputs.view import (
    HIDDEN, LEGEND, MARKER, NO_FIGURE_REASONS, WHOLE_SECTION, WHY_HIDDEN, WITHOUT_FIGURES, WITHOUT_FIGURES_INTRO,
    Folded, Grid, Lang, Provenance, all_grids, audience_label, basis_label, dim_label, dims_label, dims_of, fold,
    grain_label, pick, period_label, provenance_rows, quotes_of, statistic)

ACCENT = "1F5F8B"
GREY = "F1F3F5"
MUTED = "5B6770"
SHEETS = {
    "contents": Text(nl="Inhoud", en="Contents"),
    "statistics": Text(nl="Kengetallen", en="Key figures"),
    "quotes": Text(nl="Beleidssignalen", en="Policy signals"),
    "definitions": Text(nl="Definities", en="Definitions"),
    "notes": Text(nl="Toelichting", en="Notes"),
}
SHEET_TOPICS = {
    "statistics": Text(nl="Kengetallen: gemiddelden, medianen en aandelen", en="Key figures: means, medians and shares"),
    "quotes": Text(nl="Bevestigde, geanonimiseerde beleidssignalen", en="Confirmed, anonymised policy signals"),
    "definitions": Text(nl="Definities van de indicatoren", en="Definitions of the indicators"),
    "notes": Text(nl="Wat verborgen is en waarom", en="What was hidden and why"),
}

TITLE = Font(bold=True, size=15, color=ACCENT)
BOLD = Font(bold=True)
HEADER = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor=ACCENT)
HIDDEN_FONT = Font(color=MUTED, bold=True)
HIDDEN_FILL = PatternFill("solid", fgColor=GREY)
TOTAL_FILL = PatternFill("solid", fgColor="F7F9FA")
NOTE = Font(italic=True, color=MUTED)
LINK = Font(color=ACCENT, underline="single")
THIN = Border(bottom=Side(style="thin", color="DFE4E8"))
WRAP = Alignment(wrap_text=True, vertical="top")
_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(base: str, taken: set[str]) -> str:
    """A valid, unique sheet name (at most 31 characters, none of []:*?/\\)."""
    name = _BAD.sub("_", base).strip("'") or "tabel"
    name = name[:31]
    candidate, n = name, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate = name[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(candidate.lower())
    return candidate


def _widths(ws: Worksheet, widths: dict[int, float]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width


def _header(ws: Worksheet, row: int, values: list[str]) -> None:
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        cell.font, cell.fill = HEADER, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="bottom", horizontal="left" if col == 1 else "right")


def link(ws: Worksheet, row: int, column: int, text: str, sheet: str) -> None:
    """A cell that opens another sheet of the workbook (an internal link, no file or URL)."""
    cell = ws.cell(row=row, column=column, value=text)
    quoted = sheet.replace("'", "''")
    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{quoted}'!A1", display=text)
    cell.font = LINK


def _contents(ws: Worksheet, doc: ReportDocument, source: Provenance, lang: Lang, tables: list[tuple[str, Grid]],
              others: list[tuple[str, str]], folded: Folded) -> None:
    """The first sheet: what the report is, a link to every sheet, and what has no figures."""
    ws["A1"] = pick(doc.title, lang)
    ws["A1"].font = TITLE
    ws["A2"] = pick(doc.scope_label, lang)
    ws["A2"].font = Font(size=12, bold=True)
    facts: list[tuple[Text, str]] = [
        (Text(nl="Voor", en="Audience"), pick(audience_label(doc), lang)),
        (Text(nl="Periode", en="Period"), f"{pick(period_label(doc), lang)} ({pick(grain_label(doc.period.grain), lang)})"),
        (Text(nl="Basis", en="Basis"), pick(basis_label(doc), lang)),
    ] + provenance_rows(doc, source)
    row = 4
    for label, value in facts:
        ws.cell(row=row, column=1, value=pick(label, lang)).font = BOLD
        ws.cell(row=row, column=2, value=value).alignment = WRAP
        row += 1
    row += 1
    ws.cell(row=row, column=1, value=pick(LEGEND, lang)).font = HIDDEN_FONT
    row += 2
    ws.cell(row=row, column=1, value=pick(SHEETS["contents"], lang)).font = Font(bold=True, size=12, color=ACCENT)
    row += 1
    _header(ws, row, [pick(Text(nl="Tabel", en="Table"), lang), pick(Text(nl="Blad", en="Sheet"), lang),
                      pick(Text(nl="Verborgen cellen", en="Hidden cells"), lang)])
    for name, g in tables:
        row += 1
        ws.cell(row=row, column=1, value=pick(g.view.title, lang)).alignment = WRAP
        link(ws, row, 2, name, name)
        ws.cell(row=row, column=3, value=f"{g.hidden} / {g.visible}").alignment = Alignment(horizontal="right")
    for key, name in others:
        row += 1
        ws.cell(row=row, column=1, value=pick(SHEET_TOPICS[key], lang)).alignment = WRAP
        link(ws, row, 2, name, name)
    if folded.omitted:
        row += 2
        ws.cell(row=row, column=1, value=pick(WITHOUT_FIGURES, lang)).font = Font(bold=True, size=12, color=ACCENT)
        row += 1
        ws.cell(row=row, column=1, value=pick(WITHOUT_FIGURES_INTRO, lang)).alignment = WRAP
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        ws.row_dimensions[row].height = 62
        row += 1
        _header(ws, row, [pick(Text(nl="Tabel of kengetal", en="Table or key figure"), lang),
                          pick(Text(nl="Waarom niet opgenomen", en="Why not included"), lang),
                          pick(Text(nl="Naam in de CSV-export", en="Name in the CSV export"), lang)])
        for title, whole, entries in folded.omitted_by_section():
            row += 1
            head = pick(title, lang) + (f" — {pick(WHOLE_SECTION, lang)}" if whole else "")
            ws.cell(row=row, column=1, value=head).font = BOLD
            for entry in entries:
                if entry.kind == "section":
                    continue
                row += 1
                label = pick(entry.title, lang) + (pick(Text(nl=" (kengetal)", en=" (key figure)"), lang)
                                                   if entry.kind == "statistic" else "")
                ws.cell(row=row, column=1, value=label).alignment = WRAP
                ws.cell(row=row, column=2, value=pick(NO_FIGURE_REASONS[entry.reason], lang))
                ws.cell(row=row, column=3, value=entry.name).font = NOTE
    _widths(ws, {1: 60, 2: 40, 3: 28})


def _table_sheet(ws: Worksheet, g: Grid, lang: Lang, contents: str) -> None:
    view = g.view
    ws["A1"] = pick(view.title, lang)
    ws["A1"].font = TITLE
    ws["A2"] = f"{pick(Text(nl='Eenheid', en='Unit'), lang)}: {pick(view.unit, lang)} · {view.indicator}"
    ws["A2"].font = NOTE
    ws["A3"] = pick(LEGEND, lang)
    ws["A3"].font = HIDDEN_FONT
    link(ws, 4, 1, f"← {pick(SHEETS['contents'], lang)}", contents)
    top = 5
    _header(ws, top, [pick(dim_label(view.table.rows_axis.name), lang)] + [pick(g.col_label(c), lang) for c in g.cols])
    for i, r in enumerate(g.rows, start=1):
        row = top + i
        label = ws.cell(row=row, column=1, value=pick(g.row_label(r), lang))
        label.border = THIN
        if r == TOTAL:
            label.font = BOLD
        for j, c in enumerate(g.cols, start=2):
            cell = g.cell(r, c)
            target = ws.cell(row=row, column=j)
            target.border = THIN
            target.alignment = Alignment(horizontal="right")
            if cell is None:
                continue
            if cell.hidden:
                target.value = MARKER
                target.font, target.fill = HIDDEN_FONT, HIDDEN_FILL
                continue
            target.value = cell.value
            target.number_format = "#,##0"
            if r == TOTAL or (c == TOTAL and g.has_columns):
                target.font, target.fill = BOLD, TOTAL_FILL
    ws.freeze_panes = ws.cell(row=top + 1, column=2)
    note_row = top + len(g.rows) + 2
    if g.hidden:
        ws.cell(row=note_row, column=1, value=pick(Text(
            nl=f"{g.hidden} van {g.visible} cellen verborgen; zie het blad {SHEETS['notes'].nl}.",
            en=f"{g.hidden} of {g.visible} cells hidden; see the {SHEETS['notes'].en} sheet."), lang)).font = NOTE
    if g.any_rounded:
        ws.cell(row=note_row + 1, column=1, value=pick(Text(
            nl="Getoonde aantallen zijn afgerond; een totaal kan afwijken van de som van de cellen.",
            en="Shown counts are rounded; a total may differ from the sum of the cells."), lang)).font = NOTE
    widths = {1: max(18, min(40, max((len(pick(g.row_label(r), lang)) for r in g.rows), default=10) + 2))}
    for j, c in enumerate(g.cols, start=2):
        widths[j] = max(10, min(24, len(pick(g.col_label(c), lang)) + 2))
    _widths(ws, widths)


def _statistics(ws: Worksheet, doc: ReportDocument, lang: Lang) -> None:
    _header(ws, 1, [pick(t, lang) for t in (Text(nl="Indicator", en="Indicator"), Text(nl="Kengetal", en="Key figure"),
                                            Text(nl="Waarde", en="Value"), Text(nl="Eenheid", en="Unit"),
                                            Text(nl="Over (eenheden)", en="Over (units)"),
                                            Text(nl="Voor", en="For"))])
    row = 1
    for section in doc.sections:
        for view in section.statistics:
            row += 1
            shown = statistic(view)
            ws.cell(row=row, column=1, value=view.indicator)
            ws.cell(row=row, column=2, value=pick(view.title, lang))
            value = ws.cell(row=row, column=3)
            if shown.hidden:
                value.value = MARKER
                value.font, value.fill = HIDDEN_FONT, HIDDEN_FILL
                ws.cell(row=row, column=5, value=pick(HIDDEN, lang)).font = NOTE
            else:
                value.value = shown.value
                value.number_format = "#,##0.0##" if not float(shown.value).is_integer() else "#,##0"
                ws.cell(row=row, column=5, value=shown.units)
            value.alignment = Alignment(horizontal="right")
            ws.cell(row=row, column=4, value=pick(view.unit, lang))
            ws.cell(row=row, column=6, value=pick(dims_label(dims_of(view)), lang) or None)
    _widths(ws, {1: 26, 2: 42, 3: 12, 4: 14, 5: 16, 6: 16})
    ws.freeze_panes = "A2"


def _definitions(ws: Worksheet, doc: ReportDocument, lang: Lang) -> None:
    _header(ws, 1, [pick(t, lang) for t in (Text(nl="Indicator", en="Indicator"), Text(nl="Naam", en="Name"),
                                            Text(nl="Definitie", en="Definition"), Text(nl="Eenheid", en="Unit"),
                                            Text(nl="Bronnen (gebeurtenissen)", en="Sources (events)"))])
    for row, d in enumerate(doc.definitions, start=2):
        for col, value in enumerate([d.indicator, pick(d.title, lang), pick(d.formula, lang), pick(d.unit, lang),
                                     ", ".join(d.sources)], start=1):
            ws.cell(row=row, column=col, value=value).alignment = WRAP
    _widths(ws, {1: 26, 2: 30, 3: 60, 4: 14, 5: 40})
    ws.freeze_panes = "A2"


def _notes(ws: Worksheet, doc: ReportDocument, lang: Lang, tables: list[tuple[str, Grid]]) -> None:
    ws["A1"] = pick(Text(nl="Wat verborgen is en waarom", en="What was hidden and why"), lang)
    ws["A1"].font = TITLE
    ws["A2"] = pick(LEGEND, lang)
    ws["A2"].font = HIDDEN_FONT
    row = 4
    for text in WHY_HIDDEN:
        ws.cell(row=row, column=1, value=pick(text, lang)).alignment = WRAP
        row += 1
    if doc.notes:
        row += 1
        heading = Text(nl="Opmerkingen bij dit rapport", en="Notes on this report")
        ws.cell(row=row, column=1, value=pick(heading, lang)).font = BOLD
        for note in doc.notes:
            row += 1
            ws.cell(row=row, column=1, value=pick(note, lang)).alignment = WRAP
    if doc.suggestions:
        row += 2
        ws.cell(row=row, column=1, value=pick(Text(nl="Voorstel", en="Suggestion"), lang)).font = BOLD
        for suggestion in doc.suggestions:
            row += 1
            ws.cell(row=row, column=1, value=pick(suggestion.message, lang)).alignment = WRAP
    row += 2
    _header(ws, row, [pick(Text(nl="Tabel", en="Table"), lang), pick(Text(nl="Verborgen cellen", en="Hidden cells"), lang),
                      pick(Text(nl="Cellen", en="Cells"), lang)])
    for _, g in tables:
        row += 1
        ws.cell(row=row, column=1, value=pick(g.view.title, lang))
        ws.cell(row=row, column=2, value=g.hidden)
        ws.cell(row=row, column=3, value=g.visible)
    _widths(ws, {1: 100, 2: 18, 3: 10})


def _quotes(ws: Worksheet, doc: ReportDocument, lang: Lang) -> None:
    _header(ws, 1, [pick(Text(nl="Thema", en="Theme"), lang),
                    pick(Text(nl="Bevestigde, geanonimiseerde samenvatting", en="Confirmed, anonymised summary"), lang)])
    row = 1
    for section in doc.sections:
        for quote in quotes_of(section):
            row += 1
            ws.cell(row=row, column=1, value=pick(quote.theme_label, lang)).alignment = WRAP
            ws.cell(row=row, column=2, value=quote.text).alignment = WRAP
    _widths(ws, {1: 28, 2: 100})


def render_xlsx(doc: ReportDocument, *, source: Provenance | None = None, lang: Lang = "nl") -> bytes:
    source = source or Provenance()
    full = printable(doc)
    folded = fold(full)
    doc = folded.doc
    wb = Workbook()
    taken = {pick(t, lang).lower() for t in SHEETS.values()}
    tables = [(sheet_name(f"{i + 1:02d} {folded.ids[id(g.view)]}", taken), g) for i, (_, g) in enumerate(all_grids(doc))]
    first = wb.active
    first.title = contents = pick(SHEETS["contents"], lang)
    others: list[tuple[str, str]] = []

    def sheet(key: str) -> Worksheet:
        others.append((key, pick(SHEETS[key], lang)))
        return wb.create_sheet(others[-1][1])

    for name, g in tables:
        _table_sheet(wb.create_sheet(name), g, lang, contents)
    if any(section.statistics for section in doc.sections):
        _statistics(sheet("statistics"), doc, lang)
    if any(quotes_of(section) for section in doc.sections):
        _quotes(sheet("quotes"), doc, lang)
    _definitions(sheet("definitions"), full, lang)
    _notes(sheet("notes"), doc, lang, tables)
    _contents(first, doc, source, lang, tables, others, folded)
    wb.active = 0
    props = wb.properties
    props.title = pick(doc.title, lang)
    props.subject = pick(doc.scope_label, lang)
    props.creator = "Buddywerking rapportering"
    props.language = "nl-BE" if lang == "nl" else "en"
    stamp = _stamp(source.created_at)
    if stamp is not None:
        props.created = props.modified = stamp
    as_text(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def printable(doc: ReportDocument) -> ReportDocument:
    """The document without the control characters a workbook cannot hold (openpyxl refuses
    them): texts from older history may still carry one."""
    def clean(node: Any) -> Any:
        if isinstance(node, str):
            return ILLEGAL_CHARACTERS_RE.sub("", node)
        if isinstance(node, dict):
            return {clean(k): clean(v) for k, v in node.items()}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    return type(doc).model_validate(clean(doc.model_dump(mode="json")))  # the same kind of document back


def as_text(wb: Workbook) -> None:
    """Make every text cell plain text. openpyxl stores a string starting with "=" as a formula;
    such a cell becomes a string again, and every text that starts like a formula (= + - @) gets
    Excel's quote prefix, so that editing the cell does not turn it into one either."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str):
                    continue
                if cell.data_type == "f":
                    cell.data_type = "s"
                if formula_like(cell.value):
                    cell.quotePrefix = True


def _stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None
