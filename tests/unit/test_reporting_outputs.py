"""Outputs of the reporting service: CSV, XLSX, the dashboard's HTML and its charts.

The first tests are the safety rule: a hidden cell is never a number in any output, not
even when the document itself (wrongly) carries a value for it. The rest check each
format: the CSV round-trips with the csv module, the workbook opens with openpyxl with the
expected sheets, the HTML is accessible and loads nothing from elsewhere, and the charts
leave hidden values out. The PDF has its own module (test_reporting_outputs_pdf.py).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from html.parser import HTMLParser
from typing import Any

import pytest
from openpyxl import load_workbook

from services.reporting.disclosure import TOTAL, CellStatus, ProtectedCell
from services.reporting.document import ReportDocument
from services.reporting.outputs import Page, Provenance, render_csv, render_dashboard, render_xlsx
from services.reporting.outputs.charts import (
    Dot, HiddenMark, Label, Path, Rect, chart_data, chart_of, layout, nice_ticks)
from services.reporting.outputs.export_csv import COLUMNS, read_csv
from services.reporting.outputs.export_xlsx import sheet_name
from services.reporting.outputs.view import (
    MARKER, cell_view, dim_label, fmt_date, fmt_int, fmt_number, grid, key_label, statistic)
from tests.unit.test_reporting_outputs_sample import sample_document

POISON = 987654
POISON_TEXTS = ("987654", "987.654", "987,654")
SOURCE = Provenance(report_id="r-test", kind="overview", content_hash="0" * 64,
                    computed_from={"recruitment": 3, "matching": 2, "followup": 1}, created_at="2026-01-05T10:00:00Z")


def poisoned() -> ReportDocument:
    """The sample with a value left in every hidden cell, as a buggy report kind might do."""
    doc = sample_document()
    for section in doc.sections:
        for view in section.tables:
            view.table.cells[:] = [
                ProtectedCell(row=c.row, col=c.col, value=POISON, status=c.status, rounded=False)
                if c.status not in (CellStatus.shown, CellStatus.structural_zero) else c
                for c in view.table.cells]
        for i, stat in enumerate(section.statistics):
            if stat.withheld is not None:
                section.statistics[i] = stat.model_copy(update={"value": float(POISON), "units": POISON})
    return doc


def hidden_cells(doc: ReportDocument) -> list[tuple[str, ProtectedCell]]:
    return [(v.table.name, c) for s in doc.sections for v in s.tables for c in v.table.cells
            if c.status not in (CellStatus.shown, CellStatus.structural_zero)]


# --------------------------------------------------------------------------- never a number


def test_a_cell_with_a_hidden_status_has_no_value_whatever_it_carries() -> None:
    for status in (CellStatus.below_threshold, CellStatus.complementary, CellStatus.forced):
        view = cell_view("r", "c", 7, status, True)
        assert view.value is None and view.hidden and view.display("nl") == MARKER
    assert cell_view("r", "c", None, CellStatus.shown, False).hidden
    assert cell_view("r", "c", 0, CellStatus.structural_zero, False).display("en") == "0"
    assert cell_view("r", "c", 1234, CellStatus.shown, True).display("nl") == "1.234"


def test_no_output_shows_a_value_left_in_a_hidden_cell() -> None:
    doc = poisoned()
    assert len(hidden_cells(doc)) > 20
    csv_text = render_csv(doc, source=SOURCE).decode("utf-8-sig")
    html = render_dashboard(Page(doc=doc, source=SOURCE)) + render_dashboard(Page(doc=doc, lang="en"))
    workbook = load_workbook(io.BytesIO(render_xlsx(doc, source=SOURCE)))
    cells = [str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    for text in POISON_TEXTS:
        assert text not in csv_text
        assert text not in html
        assert not any(text in c for c in cells)
    for section in doc.sections:
        for view in section.tables:
            data = chart_data(view)
            assert data is None or POISON not in [v for s in data.series for v in s.values]
            out = chart_of(view)
            assert out is None or not any(isinstance(s, Label) and s.text.nl in POISON_TEXTS for s in out.shapes)


def test_hidden_statistics_are_marked_and_have_no_units() -> None:
    doc = poisoned()
    withheld = [s for section in doc.sections for s in section.statistics if s.withheld is not None]
    assert withheld
    for stat in withheld:
        shown = statistic(stat)
        assert shown.hidden and shown.value is None and shown.units is None and shown.display("nl") == MARKER


def test_every_hidden_cell_gets_the_same_marker_whatever_the_reason() -> None:
    """Primary and secondary suppression are explained in the notes, never told per cell."""
    doc = sample_document()
    statuses = {c.status for _, c in hidden_cells(doc)}
    assert {CellStatus.below_threshold, CellStatus.complementary} <= statuses
    _, rows = read_csv(render_csv(doc))
    assert {r["status"] for r in rows if r["kind"] == "cell" and r["value"] == ""} == {"hidden"}
    html = render_dashboard(Page(doc=doc))
    assert "below_threshold" not in html and "complementary" not in html
    assert "primaire onderdrukking" in html and "secundaire onderdrukking" in html


# --------------------------------------------------------------------------- CSV


def test_the_csv_round_trips_with_the_csv_module() -> None:
    doc = sample_document()
    data = render_csv(doc, source=SOURCE)
    assert data.startswith(b"\xef\xbb\xbf# ")  # UTF-8 BOM for Excel, then the comment block
    comments, rows = read_csv(data)
    assert rows and list(rows[0]) == COLUMNS
    meta = dict(line[2:].split(": ", 1) for line in comments[1:] if not line.startswith(("# why", "# note", "# sugg", "# defi")))
    assert meta["format"] == "buddy-report-csv 1"
    assert meta["report_id"] == "r-test" and meta["content_hash"] == "sha256:" + "0" * 64
    assert meta["computed_from"] == "followup=1 matching=2 recruitment=3"
    assert any(line.startswith("# definition duos_started: ") for line in comments)
    assert any("secundaire onderdrukking" in line for line in comments)

    by_key = {(r["table"], r["row"], r["column"]): r for r in rows if r["kind"] == "cell"}
    expected = 0
    for section in doc.sections:
        for view in section.tables:
            for cell in view.table.cells:
                expected += 1
                row = by_key[(view.table.name, cell.row, cell.col)]
                assert row["section"] == section.key and row["indicator"] == view.indicator
                if cell.suppressed:
                    assert (row["value"], row["status"], row["status_label"]) == (
                        "", "hidden", "verborgen om personen te beschermen")
                else:
                    assert int(row["value"]) == cell.value
    assert len(by_key) == expected
    stats = [r for r in rows if r["kind"] == "statistic"]
    assert [(r["table"], r["value"], r["status"]) for r in stats] == [
        ("waiting_days_volunteer", "23.4", "shown"), ("duo_duration_median", "7.5", "shown"),
        ("planned_endings_share", "", "hidden")]
    label = by_key[("duos_started_by_region", "brugge-kust", "family")]
    assert (label["row_label"], label["column_label"]) == ("Brugge-Kust", "Gezinnen")


def test_the_csv_for_dutch_excel_uses_semicolons_and_decimal_commas() -> None:
    doc = sample_document()
    data = render_csv(doc, lang="en", dialect="excel-nl")
    _, rows = read_csv(data, dialect="excel-nl")
    assert ";" in data.decode("utf-8-sig").splitlines()[-1]
    stat = next(r for r in rows if r["table"] == "waiting_days_volunteer")
    assert stat["value"] == "23,4" and stat["title"] == "Mean waiting time, volunteer"


# --------------------------------------------------------------------------- XLSX


def test_the_workbook_opens_with_openpyxl_and_has_the_expected_sheets() -> None:
    doc = sample_document()
    workbook = load_workbook(io.BytesIO(render_xlsx(doc, source=SOURCE)))
    tables = [v for s in doc.sections for v in s.tables]
    assert workbook.sheetnames == (["Inhoud"] + [f"{i + 1:02d} {v.table.name}"[:31] for i, v in enumerate(tables)]
                                   + ["Kengetallen", "Definities", "Toelichting"])
    overview = workbook["Inhoud"]
    assert overview["A1"].value == "Overzicht buddywerking"
    assert "r-test" in [c.value for c in overview["B"]]

    region = workbook[workbook.sheetnames[tables.index(next(v for v in tables if v.table.name == "duos_started_by_region")) + 1]]
    header = [c.value for c in region[5]]
    assert header == [dim_label("region").nl, "Gezinnen", "Ouderen", "Psychische kwetsbaarheid", "Nieuwkomers", "Totaal"]
    rows = {r[0].value: [c.value for c in r[1:]] for r in region.iter_rows(min_row=6, max_row=11)}
    view = next(v for v in tables if v.table.name == "duos_started_by_region")
    g = grid(view)
    for key in g.rows:
        label = g.row_label(key).nl
        for j, col in enumerate(g.cols):
            cell = g.cell(key, col)
            assert rows[label][j] == (MARKER if cell.hidden else cell.value)
    assert region.freeze_panes == "B6"

    stats = workbook["Kengetallen"]
    values = {r[0].value: r[2].value for r in stats.iter_rows(min_row=2)}
    # the withheld share shows no figure: no row of dashes, but a line on the contents sheet
    assert values == {"waiting_days_volunteer": 23.4, "duo_duration_median": 7.5}
    listed = {r[2].value: r[1].value for r in overview.iter_rows() if r[2].value == "planned_endings_share"}
    assert listed == {"planned_endings_share": "alles verborgen"}
    assert [c.value for c in workbook["Definities"]["A"]][1:] == [d.indicator for d in doc.definitions]
    notes = [c.value for c in workbook["Toelichting"]["A"] if c.value]
    assert any("secundaire onderdrukking" in n for n in notes)
    assert any("grovere indeling" in n for n in notes)


def test_the_workbook_in_english_names_its_sheets_in_english() -> None:
    workbook = load_workbook(io.BytesIO(render_xlsx(sample_document(), lang="en")))
    assert workbook.sheetnames[0] == "Contents" and workbook.sheetnames[-3:] == ["Key figures", "Definitions", "Notes"]


def test_sheet_names_are_valid_and_unique() -> None:
    taken: set[str] = set()
    names = [sheet_name(n, taken) for n in ["a/b:c*d?e[f]", "x" * 40, "x" * 40, "Rapport", "rapport"]]
    assert names[0] == "a_b_c_d_e_f_"
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == len(names)


# --------------------------------------------------------------------------- dashboard HTML


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    return collector


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_dashboard_is_accessible_and_self_contained(lang: str) -> None:
    doc = sample_document()
    html = render_dashboard(Page(doc=doc, lang=lang, source=SOURCE))  # type: ignore[arg-type]
    page = parse(html)
    assert page.tags[0] == ("html", {"lang": lang, "data-lang": lang})
    ids = {attrs["id"] for _, attrs in page.tags if attrs.get("id")}
    svgs = [attrs for tag, attrs in page.tags if tag == "svg" and "chart" in (attrs.get("class") or "")]
    # each chart twice: laid out for wide screens and for a phone (the style sheet shows one)
    assert sorted(svg["class"].split()[-1] for svg in svgs) == ["chart-narrow"] * 6 + ["chart-wide"] * 6
    assert len({svg["aria-labelledby"] for svg in svgs}) == 12  # each names its own title and description
    for svg in svgs:
        assert svg["role"] == "img"
        assert all(part in ids for part in (svg["aria-labelledby"] or "").split())
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag  # the CSP forbids inline styles
        for name in ("src", "href", "action"):
            value = attrs.get(name)
            assert value is None or value.startswith(("/", "?", "#")), (tag, name, value)
        if "data-nl" in attrs:
            assert "data-en" in attrs
    assert page.inline_scripts == 0
    assert [attrs["src"] for tag, attrs in page.tags if tag == "script"] == ["/dashboard/static/dashboard.js?v=1"]
    tables = [attrs for tag, attrs in page.tags if tag == "table"]
    assert len(tables) >= 7
    assert all(attrs.get("scope") in ("col", "row") for tag, attrs in page.tags if tag == "th")
    hidden_td = [attrs for tag, attrs in page.tags if tag == "td" and "hidden-cell" in (attrs.get("class") or "")]
    assert len(hidden_td) == len(hidden_cells(doc))
    sr = {"nl": "verborgen om personen te beschermen", "en": "hidden to protect people"}[lang]
    assert html.count(f'<span class="sr-only" data-nl="verborgen om personen te beschermen" '
                      f'data-en="hidden to protect people">{sr}</span>') >= len(hidden_td)


def test_the_live_dashboard_has_a_filter_form_and_suggests_a_coarser_period() -> None:
    from services.reporting.outputs.dashboard import Choice, Controls

    doc = sample_document()
    controls = Controls(values={"audience": "government", "grain": "month", "period_start": "2025-01-01"},
                        audiences=[Choice("government", doc.title)], regions=["antwerpen-kempen"], projects=None)
    html = render_dashboard(Page(doc=doc, controls=controls, query={"grain": "month", "lang": "nl"}))
    page = parse(html)
    names = [attrs.get("name") for tag, attrs in page.tags if tag in ("input", "select")]
    assert names == ["audience", "region", "period_start", "period_end", "grain", "basis", "lang"]
    links = [attrs["href"] for tag, attrs in page.tags if tag == "a" and "button" in (attrs.get("class") or "")]
    assert links == ["?grain=quarter&lang=nl"]
    assert 'href="?grain=month&amp;lang=en"' in html  # the toggle without script


def test_a_published_report_offers_its_downloads() -> None:
    html = render_dashboard(Page(doc=sample_document(), lang="en", source=SOURCE,
                                 exports={"pdf": "/reports/r-test/export.pdf", "csv": "/reports/r-test/export.csv"}))
    assert 'href="/reports/r-test/export.pdf?lang=en" data-lang-link="/reports/r-test/export.pdf"' in html
    assert "0" * 64 in html and "<form" not in html


# --------------------------------------------------------------------------- charts


def view_named(doc: ReportDocument, name: str) -> Any:
    return next(v for s in doc.sections for v in s.tables if v.table.name == name)


def test_bar_charts_draw_a_bar_for_shown_values_only_and_mark_the_hidden_ones() -> None:
    doc = sample_document()
    for name in ("duos_started_by_region", "boundary_signals_by_month", "volunteer_funnel"):
        view = view_named(doc, name)
        data = chart_data(view)
        out = chart_of(view)
        assert data is not None and out is not None
        shown = [v for s in data.series for v in s.values if v]
        hidden = sum(v is None for s in data.series for v in s.values)
        bars = [s for s in out.shapes if isinstance(s, Rect) and s.role == "bar"]
        marks = [s for s in out.shapes if isinstance(s, HiddenMark)]
        assert len(bars) == len(shown) and len(marks) == hidden > 0
        if len(data.series) == 1:  # one bar per shown value, its length proportional to the value
            ratios = {round(b.w / v, 6) for b, v in zip(bars, shown)}
            assert len(ratios) == 1
        assert TOTAL not in [c for c, _ in data.categories]


def test_hidden_marks_sit_where_they_say_nothing_about_the_size() -> None:
    doc = sample_document()
    bars = chart_of(view_named(doc, "boundary_signals_by_month"))
    assert bars is not None
    xs = {m.x for m in bars.shapes if isinstance(m, HiddenMark)}
    assert len(xs) == 1  # all at the start of the axis, whatever they hide

    line = chart_of(view_named(doc, "contacts_by_month_and_mode"))
    assert line is not None
    grid_tops = min(s.y for s in line.shapes if isinstance(s, Dot))
    marks = [m for m in line.shapes if isinstance(m, HiddenMark)]
    assert marks and all(m.y < grid_tops for m in marks)  # in the strip above the plot
    assert len({round(m.y, 3) for m in marks}) == 1


def test_lines_break_at_hidden_points() -> None:
    doc = sample_document()
    view = view_named(doc, "contacts_by_month_and_mode")
    data = chart_data(view)
    out = chart_of(view)
    assert data is not None and out is not None
    assert [s.key for s in data.series] == ["visit", "phone", "video"]  # the total column is left out
    phone = data.series[1].values
    assert phone[3:6] == [None, None, None]
    dots = [s for s in out.shapes if isinstance(s, Dot)]
    assert len(dots) == sum(v is not None for s in data.series for v in s.values)
    paths = [s for s in out.shapes if isinstance(s, Path) and s.stroke == "#e69f00"]
    assert len(paths) == 2  # Jan–Mar and Jul–Oct: nothing drawn across the hidden months
    gaps = [s for s in out.shapes if isinstance(s, Rect) and s.role == "gap"]
    assert len(gaps) == sum(any(s.values[i] is None for s in data.series) for i in range(len(data.categories)))


def test_a_chart_of_only_hidden_values_still_renders() -> None:
    doc = sample_document()
    view = view_named(doc, "duos_ended_by_reason")
    data = chart_data(view)
    assert data is not None and data.kind == "stacked_bar"
    out = layout(data)
    assert out.height > 0 and sum(isinstance(s, HiddenMark) for s in out.shapes) == 3


@pytest.mark.parametrize(("maximum", "ticks"), [(0, [0, 1]), (7, [0, 2, 4, 6, 8]), (505, [0, 200, 400, 600]),
                                                (40, [0, 10, 20, 30, 40]), (1, [0, 1])])
def test_nice_ticks(maximum: int, ticks: list[int]) -> None:
    assert nice_ticks(maximum) == ticks


# --------------------------------------------------------------------------- words and numbers


def test_numbers_and_dates_read_as_in_dutch_and_english() -> None:
    assert (fmt_int(12345, "nl"), fmt_int(12345, "en")) == ("12.345", "12,345")
    assert (fmt_number(23.4, "nl"), fmt_number(23.4, "en"), fmt_number(1250.25, "nl")) == ("23,4", "23.4", "1.250,25")
    assert fmt_number(7.0, "nl") == "7"
    assert (fmt_date("2026-03-01", "nl"), fmt_date("2026-03-01", "en")) == ("1 maart 2026", "1 March 2026")
    assert key_label("2026-03").nl == "mrt 2026" and key_label("2026-Q2").en == "Q2 2026"
    assert key_label(TOTAL).nl == "Totaal" and key_label("antwerpen").nl == "antwerpen"
    assert re.fullmatch(r"\d{4}", key_label("2026").nl)


# --------------------------------------------------------------------------- odd documents


def odd_document() -> ReportDocument:
    """Labels with markup in them, a quote, statistics by month, and an empty section."""
    from services.reporting.outputs.view import document

    doc = sample_document().model_dump(mode="json")
    doc["title"] = {"nl": 'Rapport <script>alert("x")</script> & co', "en": "Report <b>bold</b> & co"}
    view = doc["sections"][1]["tables"][0]
    view["row_labels"]["enquired"] = {"nl": "<img src=x onerror=alert(1)>", "en": "a & b"}
    doc["sections"][0]["statistics"].append({
        "indicator": "contacts_per_duo", "title": {"nl": "Contacten per duo", "en": "Contacts per duo"},
        "unit": {"nl": "contacten", "en": "contacts"}, "value": 2.5, "units": None, "dims": {"month": "2025-03"}})
    doc["sections"][2]["quotes"] = [{"theme": "housing", "theme_label": {"nl": "wonen", "en": "housing"},
                                     "text": "Huurprijzen <stijgen> & niemand \"helpt\"."}]
    doc["sections"].append({"key": "empty", "title": {"nl": "Leeg", "en": "Empty"}, "tables": [], "statistics": []})
    return document(doc)


def test_markup_in_labels_is_text_everywhere() -> None:
    doc = odd_document()
    html = render_dashboard(Page(doc=doc))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "Huurprijzen &lt;stijgen&gt;" in html
    assert parse(html).inline_scripts == 0
    comments, rows = read_csv(render_csv(doc))
    assert any(line.startswith("# quote housing (wonen): Huurprijzen <stijgen>") for line in comments)
    assert any(r["kind"] == "statistic" and r["row"] == "month=2025-03" and r["row_label"] == "mrt 2025" for r in rows)
    workbook = load_workbook(io.BytesIO(render_xlsx(doc)))
    assert "Beleidssignalen" in workbook.sheetnames
    assert workbook["Beleidssignalen"]["B2"].value == 'Huurprijzen <stijgen> & niemand "helpt".'


def test_statistics_by_period_are_a_table_not_a_card_each() -> None:
    html = render_dashboard(Page(doc=odd_document()))
    assert html.count('class="kpi"') == 3  # the sample's three; the one for March sits in a table
    assert 'class="stat-series"' in html and ">mrt 2025</th>" in html


def test_an_empty_report_renders() -> None:
    doc = ReportDocument.model_validate({**sample_document().model_dump(mode="json"), "sections": [],
                                         "definitions": [], "notes": [], "suggestions": []})
    assert "<h1" in render_dashboard(Page(doc=doc))
    _, rows = read_csv(render_csv(doc))
    assert rows == []
    assert load_workbook(io.BytesIO(render_xlsx(doc))).sheetnames == ["Inhoud", "Definities", "Toelichting"]


# --------------------------------------------------------------------------- formula injection
FORMULA = '=HYPERLINK("http://example.org/x","Klik hier")'


def formula_document() -> ReportDocument:
    """Texts a spreadsheet would run, as old history may still hold them: a confirmed summary, a
    project's title and a row label."""
    from services.reporting.outputs.view import document

    doc = sample_document().model_dump(mode="json")
    doc["title"] = {"nl": "=1+1", "en": "=1+1"}
    doc["sections"][1]["tables"][0]["row_labels"]["enquired"] = {"nl": "@SUM(A1:A9)", "en": "+32 x"}
    doc["sections"][2]["quotes"] = [
        {"theme": "housing", "theme_label": {"nl": "wonen", "en": "housing"}, "text": FORMULA},
        {"theme": "mobility", "theme_label": {"nl": "mobiliteit", "en": "mobility"}, "text": 'Bus, "=2+3",-4 @x'},
        {"theme": "finances", "theme_label": {"nl": "financiën", "en": "finances"}, "text": "\x01Schulden\x00"}]
    return document(doc)


def test_a_formula_in_a_summary_is_text_in_the_workbook() -> None:
    data = render_xlsx(formula_document())
    workbook = load_workbook(io.BytesIO(data))
    cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    summary = next(c for c in cells if c.value == FORMULA)
    assert summary.data_type == "s" and summary.quotePrefix
    assert next(c for c in cells if c.value == "=1+1").quotePrefix
    assert next(c for c in cells if c.value == "@SUM(A1:A9)").quotePrefix
    assert "Schulden" in [c.value for c in cells]  # a control character a workbook cannot hold is left out
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        sheets = [package.read(n).decode() for n in package.namelist() if n.startswith("xl/worksheets/")]
    assert not any("<f>" in sheet or "<f " in sheet for sheet in sheets)  # no formula anywhere in the file


@pytest.mark.parametrize("dialect", ["standard", "excel-nl"])
def test_no_csv_cell_starts_like_a_formula(dialect: str) -> None:
    data = render_csv(formula_document(), dialect=dialect)
    delimiter = ";" if dialect == "excel-nl" else ","
    # every field as a spreadsheet splits the file: the comment lines too
    fields = [f for line in data.decode("utf-8-sig").splitlines() for f in next(csv.reader([line], delimiter=delimiter))]
    assert not [f for f in fields if f.lstrip(' "')[:1] in ("=", "+", "-", "@") and not re.fullmatch(r"-?[\d.,]+", f)]
    comments, rows = read_csv(data, dialect=dialect)
    assert "'@SUM(A1:A9)" in [r["row_label"] for r in rows]
    assert any(line.startswith("# quote housing (wonen): ") and FORMULA in line for line in comments)
