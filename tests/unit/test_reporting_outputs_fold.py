"""Reports a small region can read: tables and key figures without any figure are left out of
the PDF and the workbook and listed, with the reason, under "Zonder cijfers / Without figures".

What is checked: which tables count as "without figures" (empty, only zeros, every figure
hidden, or zeros and hidden figures), that one shown figure keeps a table, that the decision
reads only what the report publishes (a document with other values in its hidden cells gives
the same PDF bytes), that the list names each table and its reason but no count, that the
workbook opens on its contents sheet with internal links to every sheet and no sheet for a
table without figures, and that the CSV keeps every cell and names the same tables.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import load_workbook

from services.reporting.disclosure import TOTAL, CellStatus, ProtectedCell
from services.reporting.document import ReportDocument, TableView
from services.reporting.outputs import render_csv, render_pdf, render_xlsx
from services.reporting.outputs.export_csv import read_csv
from services.reporting.outputs.view import NO_FIGURE_REASONS, fold, grid, no_figure_reason, table_ids
from tests.unit.test_reporting_outputs_pdf import text_of
from tests.unit.test_reporting_outputs_sample import sample_document

KEPT = "duos_started_by_month"  # the one table of the small document that keeps a figure


def hide(cell: ProtectedCell) -> ProtectedCell:
    return ProtectedCell(row=cell.row, col=cell.col, value=None, status=CellStatus.complementary, rounded=False)


def zero(cell: ProtectedCell) -> ProtectedCell:
    return ProtectedCell(row=cell.row, col=cell.col, value=0, status=CellStatus.shown, rounded=False)


def small_document(*, hidden_value: int | None = None) -> ReportDocument:
    """The sample as a small region gets it: one table keeps a single shown figure (its grand
    total), the others show none — every cell hidden, only zeros, zeros and hidden cells, or
    no cell at all. ``hidden_value`` leaves a value in every hidden cell (as a buggy report
    kind might): it must change nothing in any output."""
    doc = sample_document("coordinator")
    views = [v for s in doc.sections for v in s.tables]
    for i, view in enumerate(views):
        cells = view.table.cells
        if view.table.name == KEPT:
            cells[:] = [c if (c.row, c.col) == (TOTAL, TOTAL) or (c.row == TOTAL and not view.table.cols)
                        else hide(c) for c in cells]
            continue
        match i % 4:
            case 0:
                cells[:] = [hide(c) for c in cells]
            case 1:
                cells[:] = [zero(c) for c in cells]
            case 2:
                cells[:] = [zero(c) if j % 2 else hide(c) for j, c in enumerate(cells)]
            case 3:
                cells[:] = []
    why = next(s.withheld for section in doc.sections for s in section.statistics if s.withheld is not None)
    for section in doc.sections:  # every key figure withheld
        section.statistics[:] = [s.model_copy(update={"value": None, "units": None, "withheld": s.withheld or why})
                                 for s in section.statistics]
    if hidden_value is not None:
        for view in views:
            view.table.cells[:] = [c.model_copy(update={"value": hidden_value}) if c.status is CellStatus.complementary
                                   else c for c in view.table.cells]
    return doc


def view_of(doc: ReportDocument, name: str) -> TableView:
    return next(v for s in doc.sections for v in s.tables if v.table.name == name)


def test_a_table_without_any_shown_figure_is_without_figures_and_says_why() -> None:
    doc = small_document()
    reasons = {v.table.name: no_figure_reason(grid(v)) for s in doc.sections for v in s.tables}
    assert reasons.pop(KEPT) is None
    assert set(reasons.values()) == {"hidden", "zeros", "zeros_and_hidden", "empty"}


def test_a_table_with_one_shown_figure_is_kept() -> None:
    doc = small_document()
    view = view_of(doc, KEPT)
    shown = [c for c in view.table.cells if c.status is CellStatus.shown]
    assert len(shown) == 1 and shown[0].value
    folded = fold(doc)
    assert [v.table.name for s in folded.doc.sections for v in s.tables] == [KEPT]
    assert KEPT not in {e.name for e in folded.omitted}
    # a shown zero is no figure: with its one figure at 0 the table goes too
    view.table.cells[:] = [zero(c) if c.status is CellStatus.shown else c for c in view.table.cells]
    assert no_figure_reason(grid(view)) == "zeros_and_hidden"


def test_folding_reads_only_what_is_published() -> None:
    """Values left in hidden cells change nothing: not what is left out, not one byte of the PDF."""
    clean, poisoned = small_document(), small_document(hidden_value=987654)
    assert fold(clean).omitted == fold(poisoned).omitted
    assert render_pdf(clean) == render_pdf(poisoned)


def test_the_pdf_of_a_small_region_lists_what_it_leaves_out_without_a_count(tmp_path: Path) -> None:
    doc = small_document()
    full = render_pdf(sample_document("coordinator"))
    pdf = render_pdf(doc)
    pages = len(re.findall(rb"/Type /Page[^s]", pdf))
    assert pages < len(re.findall(rb"/Type /Page[^s]", full)) and pages <= 5
    text = " ".join(text_of(pdf, tmp_path).split())
    listed = text[text.index("Zonder cijfers Deze tabellen"):text.index("Wat verborgen is en waarom —")]
    running = [r"— = verborgen om personen te beschermen live berekend · pagina \d+",  # footer and header
               re.escape(f"{doc.title.nl} · {doc.scope_label.nl} · 1 januari 2025 – 31 december 2025")]
    listed = re.sub("|".join(running), "", listed)
    folded = fold(doc)
    for entry in folded.omitted:
        if entry.kind != "section":
            assert entry.title.nl in listed, entry.title.nl
    for reason in ("alles verborgen", "alleen nullen", "nullen en verborgen cijfers", "geen gegevens"):
        assert reason in listed
    assert not re.search(r"\d", listed)  # names and reasons, never a count
    printed = text[:text.index("Zonder cijfers Deze tabellen")]
    assert view_of(doc, KEPT).title.nl in printed  # the table with a figure is printed, with its heading
    assert not any(e.title.nl in printed for e in folded.omitted if e.kind == "table")


def test_the_workbook_opens_on_its_contents_sheet_with_links_to_every_sheet() -> None:
    doc = small_document()
    workbook = load_workbook(io.BytesIO(render_xlsx(doc)))
    contents = workbook.worksheets[0]
    assert contents.title == "Inhoud" and workbook.active.title == "Inhoud"
    assert contents["A1"].value == doc.title.nl and contents["A2"].value == doc.scope_label.nl
    facts = {r[0].value: r[1].value for r in contents.iter_rows(min_row=4, max_row=8)}
    assert facts["Voor"] == "Regionale coördinator" and facts["Periode"].startswith("1 januari 2025 – 31 december 2025")
    links = {c.hyperlink.location for row in contents.iter_rows() for c in row if c.hyperlink is not None}
    targets = {re.fullmatch(r"'(.+)'!A1", loc)[1].replace("''", "'") for loc in links}
    assert targets == set(workbook.sheetnames[1:])  # every other sheet, each an internal link
    assert all(c.hyperlink.target is None for row in contents.iter_rows() for c in row if c.hyperlink)
    assert workbook.sheetnames == ["Inhoud", f"01 {KEPT}", "Definities", "Toelichting"]
    assert workbook[f"01 {KEPT}"]["A4"].hyperlink.location == "'Inhoud'!A1"
    rows = [[c.value for c in r] for r in contents.iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "Zonder cijfers")
    entries = {r[2]: r[1] for r in rows[start + 3:] if r[1]}
    folded = fold(doc)
    assert entries == {e.name: NO_FIGURE_REASONS[e.reason].nl for e in folded.omitted if e.kind != "section"}
    assert not any(isinstance(v, int | float) for r in rows[start:] for v in r)


def test_the_csv_keeps_every_cell_and_names_the_tables_without_figures() -> None:
    doc = small_document()
    comments, rows = read_csv(render_csv(doc, lang="en"))
    assert sum(r["kind"] == "cell" for r in rows) == sum(len(v.table.cells) for s in doc.sections for v in s.tables)
    listed = [line for line in comments if line.startswith("# without_figures ")]
    ids = table_ids(doc)
    expected = {ids[id(v)] for s in doc.sections for v in s.tables if v.table.name != KEPT}
    assert {line.split()[3].rstrip(":") for line in listed if line.split()[2] == "table"} == expected
    assert {line.split()[4] for line in listed} == {"hidden", "zeros", "zeros_and_hidden", "empty"}
    assert any(line.startswith("# without_figures statistic ") for line in listed)


def test_a_report_with_figures_everywhere_leaves_nothing_out() -> None:
    doc = sample_document()
    folded = fold(doc)
    assert [e.name for e in folded.omitted] == ["planned_endings_share"]  # the one withheld key figure
    assert sum(len(s.tables) for s in folded.doc.sections) == sum(len(s.tables) for s in doc.sections)
