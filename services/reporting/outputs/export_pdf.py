"""PDF export with reportlab (pure Python, no system libraries): Dutch by default.

Title page, contents, definitions, every section with its key figures, charts (drawn
natively with reportlab.graphics from the same layout as the dashboard's SVG) and tables,
then the tables and key figures without figures, then what was hidden and why. A table or
key figure that shows no figure at all (empty, only zeros, every figure hidden) is not
printed but named, with the reason, in "Zonder cijfers / Without figures"
(``view.fold``), so a small region's report is a few pages, not fifty of dashes. Hidden figures are "—" on a grey ground, never a number,
and charts leave them out. The font (Bitstream Vera, shipped inside reportlab) is
embedded, so the file looks the same everywhere. Built with ``invariant=1``: the same
report gives the same bytes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from functools import lru_cache
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.shapes import Circle, Drawing, Group
from reportlab.graphics.shapes import Line as RLLine
from reportlab.graphics.shapes import PolyLine, String
from reportlab.graphics.shapes import Rect as RLRect
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate, CondPageBreak, Flowable, Frame, KeepTogether, NextPageTemplate, PageBreak, PageTemplate,
    Paragraph, Spacer, Table, TableStyle)
from reportlab.platypus.tableofcontents import TableOfContents

from services.reporting.disclosure import TOTAL
from services.reporting.document import ReportDocument, Section, TableView, Text
from services.reporting.outputs.charts import Dot, HiddenMark, Label, Layout, Line, Path, Rect, chart_of, legend_entries
from services.reporting.outputs.view import (
    HIDDEN, LEGEND, MARKER, NO_FIGURE_REASONS, WHOLE_SECTION, WHY_HIDDEN, WITHOUT_FIGURES, WITHOUT_FIGURES_INTRO,
    Folded, Grid, Lang, Provenance, audience_label, basis_label, dim_label, fold, grain_label, grid, pick,
    period_label, provenance_rows, quotes_of, statistic)

FONT, BOLD_FONT, ITALIC_FONT = "BuddySans", "BuddySans-Bold", "BuddySans-Italic"
ACCENT = colors.HexColor("#1f5f8b")
FLAG = colors.HexColor("#ffe615")
INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6770")
LINE = colors.HexColor("#dfe4e8")
GREY = colors.HexColor("#f1f3f5")
TOTAL_GROUND = colors.HexColor("#f7f9fa")
HEAD_GROUND = colors.HexColor("#e8eff5")
MAX_VALUE_COLUMNS = 9


def T(nl: str, en: str) -> Text:  # noqa: N802 - reads like a label
    return Text(nl=nl, en=en)


@lru_cache(maxsize=1)
def fonts() -> None:
    """Register the embedded TrueType fonts once (Vera ships with reportlab)."""
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    pdfmetrics.registerFont(TTFont(FONT, os.path.join(folder, "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD_FONT, os.path.join(folder, "VeraBd.ttf")))
    pdfmetrics.registerFont(TTFont(ITALIC_FONT, os.path.join(folder, "VeraIt.ttf")))
    pdfmetrics.registerFont(TTFont(f"{FONT}-BoldItalic", os.path.join(folder, "VeraBI.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD_FONT, italic=ITALIC_FONT,
                                  boldItalic=f"{FONT}-BoldItalic")


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13.5, textColor=INK, alignment=TA_LEFT,
                          spaceAfter=5)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=MUTED, spaceAfter=3),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10, spaceAfter=0),
        "cell_bold": ParagraphStyle("cell_bold", parent=base, fontName=BOLD_FONT, fontSize=8, leading=10, spaceAfter=0),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD_FONT, fontSize=7.5, leading=9.5, textColor=INK,
                               spaceAfter=0),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD_FONT, fontSize=26, leading=31, textColor=ACCENT,
                                spaceAfter=10),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=14, leading=19, textColor=INK, spaceAfter=18),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD_FONT, fontSize=16, leading=20, textColor=ACCENT,
                             spaceBefore=4, spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD_FONT, fontSize=11.5, leading=15, textColor=INK,
                             spaceBefore=8, spaceAfter=5),
        "toc1": ParagraphStyle("toc1", parent=base, fontSize=10.5, leading=16),
        "toc2": ParagraphStyle("toc2", parent=base, fontSize=9, leading=13, leftIndent=14, textColor=MUTED),
        "box": ParagraphStyle("box", parent=base, fontSize=9, leading=12.5, spaceAfter=3),
    }


def p(text: str, style: str = "body") -> Paragraph:
    return Paragraph(escape(text), styles()[style])


class Heading(Paragraph):
    """A heading that enters the table of contents."""

    def __init__(self, text: str, level: int) -> None:
        super().__init__(escape(text), styles()["h1" if level == 0 else "h2"])
        self.toc_level = level
        self.toc_text = text


class ReportTemplate(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, doc: ReportDocument, source: Provenance, lang: Lang) -> None:
        self.report, self.source, self.lang = doc, source, lang
        super().__init__(
            buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=22 * mm, bottomMargin=20 * mm,
            title=pick(doc.title, lang), author="Buddywerking rapportering", subject=pick(doc.scope_label, lang),
            creator="buddy reporting service", invariant=1, lang="nl-BE" if lang == "nl" else "en",
            displayDocTitle=1)
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate("title", [frame], onPage=self._title_page),
                               PageTemplate("body", [frame], onPage=self._body_page)])

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - reportlab's hook
        if isinstance(flowable, Heading):
            key = f"h{self.seq.nextf('heading')}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.toc_text, key, level=flowable.toc_level, closed=True)
            self.notify("TOCEntry", (flowable.toc_level, flowable.toc_text, self.page, key))

    def _title_page(self, canvas, _doc) -> None:  # type: ignore[no-untyped-def]
        width, height = A4
        canvas.saveState()
        canvas.setFillColor(ACCENT)
        canvas.rect(0, height - 46 * mm, width, 46 * mm, stroke=0, fill=1)
        canvas.setFillColor(FLAG)
        canvas.rect(0, height - 49 * mm, width, 3 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(BOLD_FONT, 13)
        canvas.drawString(20 * mm, height - 22 * mm, pick(T("Buddywerking · Rapportering", "Buddy programmes · Reporting"),
                                                          self.lang))
        canvas.setFont(FONT, 9.5)
        canvas.drawString(20 * mm, height - 29 * mm, pick(T("Geanonimiseerd rapport — geen persoonsgegevens",
                                                            "Anonymised report — no personal data"), self.lang))
        self._footer(canvas)
        canvas.restoreState()

    def _body_page(self, canvas, _doc) -> None:  # type: ignore[no-untyped-def]
        width, height = A4
        canvas.saveState()
        canvas.setFillColor(FLAG)
        canvas.rect(0, height - 4 * mm, width, 4 * mm, stroke=0, fill=1)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        doc = self.report
        canvas.drawString(20 * mm, height - 13 * mm,
                          f"{pick(doc.title, self.lang)} · {pick(doc.scope_label, self.lang)} · "
                          f"{pick(period_label(doc), self.lang)}")
        canvas.setStrokeColor(LINE)
        canvas.line(20 * mm, height - 15 * mm, width - 20 * mm, height - 15 * mm)
        self._footer(canvas)
        canvas.restoreState()

    def _footer(self, canvas) -> None:  # type: ignore[no-untyped-def]
        width, _ = A4
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(20 * mm, 11 * mm, pick(LEGEND, self.lang))
        ident = self.source.report_id or pick(T("live berekend", "computed live"), self.lang)
        page = pick(T(f"pagina {canvas.getPageNumber()}", f"page {canvas.getPageNumber()}"), self.lang)
        canvas.drawRightString(width - 20 * mm, 11 * mm, f"{ident} · {page}")


# --------------------------------------------------------------------------- charts


def _color(value: str) -> colors.Color:
    return colors.HexColor(value)


def drawing(out: Layout, lang: Lang = "nl") -> Drawing:
    """A chart layout drawn with reportlab shapes (y flipped: reportlab grows upwards)."""
    fonts()
    h = out.height
    d = Drawing(out.width, h)
    group = Group()
    for shape in out.shapes:
        match shape:
            case Rect(x, y, w, hh, fill, _, _):
                group.add(RLRect(x, h - y - hh, w, hh, fillColor=_color(fill), strokeColor=None, strokeWidth=0))
            case Line(x1, y1, x2, y2, stroke, width, dash):
                group.add(RLLine(x1, h - y1, x2, h - y2, strokeColor=_color(stroke), strokeWidth=width,
                                 strokeDashArray=list(dash) if dash else None))
            case Path(points, stroke, width):
                flat = [c for x, y in points for c in (x, h - y)]
                group.add(PolyLine(flat, strokeColor=_color(stroke), strokeWidth=width, strokeLineJoin=1,
                                   strokeLineCap=1))
            case Dot(x, y, r, fill, _):
                group.add(Circle(x, h - y, r, fillColor=_color(fill), strokeColor=colors.white, strokeWidth=0.6))
            case Label(x, y, text, size, anchor, fill, bold):
                group.add(String(x, h - y, pick(text, lang), fontName=BOLD_FONT if bold else FONT, fontSize=size,
                                 fillColor=_color(fill), textAnchor=anchor))
            case HiddenMark(x, y, size, _, fill, anchor):
                group.add(String(x, h - y, MARKER, fontName=BOLD_FONT, fontSize=size, fillColor=_color(fill),
                                 textAnchor=anchor))
    d.add(group)
    return d


def legend_drawing(entries: list[tuple[str | None, Text]], width: float, lang: Lang) -> Drawing | None:
    if not entries:
        return None
    fonts()
    size, gap, row_h = 7.5, 12.0, 11.0
    placed, x, y = [], 0.0, 0.0
    for color, label in entries:
        text = pick(label, lang)
        item_w = (0 if color is None else 12) + pdfmetrics.stringWidth(text, FONT, size)
        if x and x + item_w > width:
            x, y = 0.0, y + row_h
        placed.append((x, y, color, text))
        x += item_w + gap
    height = y + row_h
    d = Drawing(width, height)
    for x, y, color, text in placed:
        base = height - y - 8.5
        if color is None:
            d.add(String(x, base, text, fontName=FONT, fontSize=size, fillColor=MUTED))
            continue
        d.add(RLRect(x, base - 1, 8, 8, fillColor=_color(color), strokeColor=None))
        d.add(String(x + 12, base, text, fontName=FONT, fontSize=size, fillColor=MUTED))
    return d


# --------------------------------------------------------------------------- tables


def _chunks(cols: list[str]) -> list[list[str]]:
    if len(cols) <= MAX_VALUE_COLUMNS:
        return [cols]
    return [cols[i:i + MAX_VALUE_COLUMNS] for i in range(0, len(cols), MAX_VALUE_COLUMNS)]


def table_flowables(g: Grid, lang: Lang, width: float) -> list[Flowable]:
    s = styles()
    out: list[Flowable] = []
    longest = max((pdfmetrics.stringWidth(pick(g.row_label(r), lang), BOLD_FONT, 8) for r in g.rows), default=0)
    label_w = min(max(longest + 14, 30 * mm), width * 0.38)
    for cols in _chunks(g.cols):
        value_w = min((width - label_w) / max(len(cols), 1), 30 * mm)
        words = [w for c in cols for w in pick(g.col_label(c), lang).split()]
        widest = max((pdfmetrics.stringWidth(w, BOLD_FONT, 7.5) for w in words), default=0)
        size = 7.5 if widest + 8 <= value_w else max(5.5, 7.5 * (value_w - 8) / widest)
        head_style = ParagraphStyle("hr", parent=s["head"], alignment=2, fontSize=size, leading=size + 2,
                                    splitLongWords=0)
        head = [Paragraph(escape(pick(dim_label(g.view.table.rows_axis.name), lang)), s["head"])]
        head += [Paragraph(escape(pick(g.col_label(c), lang)), head_style) for c in cols]
        data = [head]
        commands: list[tuple] = [
            ("FONT", (0, 0), (-1, -1), FONT, 8),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_GROUND),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
            ("LINEBELOW", (0, 1), (-1, -1), 0.3, LINE),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
        for i, r in enumerate(g.rows, start=1):
            style = s["cell_bold"] if r == TOTAL else s["cell"]
            line = [Paragraph(escape(pick(g.row_label(r), lang)), style)]
            for j, c in enumerate(cols, start=1):
                cell = g.cell(r, c)
                if cell is None:
                    line.append("")
                    continue
                line.append(cell.display(lang))
                if cell.hidden:
                    commands += [("BACKGROUND", (j, i), (j, i), GREY), ("TEXTCOLOR", (j, i), (j, i), MUTED),
                                 ("FONT", (j, i), (j, i), BOLD_FONT, 8)]
                elif r == TOTAL or (c == TOTAL and g.has_columns):
                    commands += [("FONT", (j, i), (j, i), BOLD_FONT, 8), ("BACKGROUND", (j, i), (j, i), TOTAL_GROUND)]
            if r == TOTAL:
                commands.append(("LINEABOVE", (0, i), (-1, i), 0.8, MUTED))
            data.append(line)
        table = Table(data, colWidths=[label_w] + [value_w] * len(cols), repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle(commands))
        out += [table, Spacer(1, 3)]
    return out


def table_view_flowables(view: TableView, lang: Lang, width: float) -> list[Flowable]:
    g = grid(view)
    flow: list[Flowable] = [Heading(pick(view.title, lang), 1)]
    out = chart_of(view, width=width, font=8)
    if out is not None:
        chart = [drawing(out, lang)]
        legend = legend_drawing(legend_entries(out), width, lang)
        if legend is not None:
            chart += [Spacer(1, 3), legend]
        flow += chart + [Spacer(1, 6)]
    flow += table_flowables(g, lang, width)
    facts = [f"{pick(T('Eenheid', 'Unit'), lang)}: {pick(view.unit, lang)}"]
    if g.hidden:
        facts.append(pick(T(f"{g.hidden} van {g.visible} cellen verborgen ({MARKER})",
                            f"{g.hidden} of {g.visible} cells hidden ({MARKER})"), lang))
    if g.any_rounded:
        facts.append(pick(T("afgeronde aantallen", "rounded counts"), lang))
    flow.append(p(" · ".join(facts), "small"))
    if view.table.too_much_hidden:
        flow.append(p(pick(T("Deze tabel verbergt veel; zie het voorstel in ‘Wat verborgen is en waarom’.",
                             "This table hides a lot; see the suggestion in ‘What was hidden and why’."), lang), "small"))
    return flow


def statistics_table(section: Section, lang: Lang, width: float) -> Table | None:
    if not section.statistics:
        return None
    s = styles()
    data = [[Paragraph(escape(pick(t, lang)), s["head"]) for t in (
        T("Kengetal", "Key figure"), T("Waarde", "Value"), T("Eenheid", "Unit"), T("Over", "Over"))]]
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), FONT, 8.5), ("BACKGROUND", (0, 0), (-1, 0), HEAD_GROUND),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT), ("LINEBELOW", (0, 1), (-1, -1), 0.3, LINE),
        ("ALIGN", (1, 1), (1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    for i, view in enumerate(section.statistics, start=1):
        shown = statistic(view)
        over = pick(HIDDEN, lang) if shown.hidden else (
            "" if shown.units is None else pick(T(f"{shown.units} eenheden", f"{shown.units} units"), lang))
        data.append([Paragraph(escape(pick(view.title, lang)), s["cell"]), shown.display(lang), pick(view.unit, lang),
                     Paragraph(escape(over), s["cell"])])
        if shown.hidden:
            commands += [("BACKGROUND", (1, i), (1, i), GREY), ("TEXTCOLOR", (1, i), (1, i), MUTED)]
        else:
            commands.append(("FONT", (1, i), (1, i), BOLD_FONT, 9))
    table = Table(data, colWidths=[width * 0.46, width * 0.14, width * 0.14, width * 0.26], hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


# --------------------------------------------------------------------------- pages


def title_page(doc: ReportDocument, source: Provenance, lang: Lang, width: float,
               folded: bool = False) -> list[Flowable]:
    s = styles()
    facts = [
        (T("Voor", "Audience"), pick(audience_label(doc), lang)),
        (T("Gebied", "Scope"), pick(doc.scope_label, lang)),
        (T("Periode", "Period"), pick(period_label(doc), lang)),
        (T("Indeling", "Breakdown"), pick(grain_label(doc.period.grain), lang)),
        (T("Basis", "Basis"), pick(basis_label(doc), lang)),
    ] + provenance_rows(doc, source)
    rows = [[Paragraph(escape(pick(k, lang)), s["head"]), Paragraph(escape(v), s["cell"])] for k, v in facts]
    table = Table(rows, colWidths=[width * 0.3, width * 0.7], hAlign="LEFT")
    table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.3, LINE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    hidden = sum(grid(v).hidden for section in doc.sections for v in section.tables)
    box_text = [
        Paragraph(f"<b>{escape(MARKER)}</b>&nbsp;&nbsp;{escape(pick(HIDDEN, lang))}", s["box"]),
        Paragraph(escape(pick(T(
            f"Om te voorkomen dat iemand herkend wordt, zijn kleine aantallen en de cijfers waarmee je ze zou kunnen "
            f"terugrekenen verborgen ({hidden} cellen in dit rapport). Getoonde aantallen kunnen afgerond zijn. "
            f"Zie ‘Wat verborgen is en waarom’.",
            f"To keep people from being recognised, small counts and the figures that would let them be recomputed "
            f"are hidden ({hidden} cells in this report). Shown counts may be rounded. See ‘What was hidden and why’."),
            lang)), s["box"]),
    ]
    if folded:
        box_text.append(Paragraph(escape(pick(T(
            "Tabellen en kengetallen zonder enig cijfer (leeg, alleen nullen of alles verborgen) zijn niet afgedrukt; "
            "ze staan in de lijst ‘Zonder cijfers’.",
            "Tables and key figures without any figure (empty, zeros only or everything hidden) are not printed; "
            "they are listed under ‘Without figures’."), lang)), s["box"]))
    box = Table([[box_text]], colWidths=[width], hAlign="LEFT")
    box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#eef4f8")),
                             ("LINEBEFORE", (0, 0), (0, -1), 3, ACCENT),
                             ("LEFTPADDING", (0, 0), (-1, -1), 10), ("TOPPADDING", (0, 0), (-1, -1), 8),
                             ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return [Spacer(1, 42 * mm), Paragraph(escape(pick(doc.title, lang)), s["title"]),
            Paragraph(escape(f"{pick(doc.scope_label, lang)} · {pick(period_label(doc), lang)}"), s["subtitle"]),
            table, Spacer(1, 10 * mm), box]


def contents(lang: Lang) -> list[Flowable]:
    toc = TableOfContents()
    toc.levelStyles = [styles()["toc1"], styles()["toc2"]]
    toc.dotsMinLevel = 0
    return [Paragraph(escape(pick(T("Inhoud", "Contents"), lang)), styles()["h1"]), toc]


def definitions(doc: ReportDocument, lang: Lang, width: float) -> list[Flowable]:
    if not doc.definitions:
        return []
    s = styles()
    data = [[Paragraph(escape(pick(t, lang)), s["head"]) for t in (
        T("Indicator", "Indicator"), T("Definitie", "Definition"), T("Eenheid", "Unit"),
        T("Bronnen (gebeurtenissen)", "Sources (events)"))]]
    for d in doc.definitions:
        data.append([Paragraph(f"<b>{escape(pick(d.title, lang))}</b><br/><font size=7 color='#5b6770'>"
                               f"{escape(d.indicator)}</font>", s["cell"]),
                     Paragraph(escape(pick(d.formula, lang)), s["cell"]),
                     Paragraph(escape(pick(d.unit, lang)), s["cell"]),
                     Paragraph(escape(", ".join(d.sources)), ParagraphStyle("src", parent=s["cell"], fontSize=7,
                                                                             textColor=MUTED))])
    table = Table(data, colWidths=[width * 0.24, width * 0.4, width * 0.12, width * 0.24], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), HEAD_GROUND), ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
                               ("LINEBELOW", (0, 1), (-1, -1), 0.3, LINE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return [Heading(pick(T("Definities", "Definitions"), lang), 0), table, Spacer(1, 6)]


def suppression(doc: ReportDocument, lang: Lang, width: float) -> list[Flowable]:
    s = styles()
    flow: list[Flowable] = [CondPageBreak(60 * mm), Heading(pick(T("Wat verborgen is en waarom",
                                                                   "What was hidden and why"), lang), 0),
                            Paragraph(f"<b>{escape(MARKER)}</b>&nbsp;&nbsp;{escape(pick(HIDDEN, lang))}", s["body"])]
    flow += [p(pick(t, lang)) for t in WHY_HIDDEN]
    if doc.notes:
        flow.append(KeepTogether([Heading(pick(T("Bij dit rapport", "In this report"), lang), 1)] + [
            Paragraph(f"•&nbsp;&nbsp;{escape(pick(n, lang))}", s["body"]) for n in doc.notes]))
    if doc.suggestions:
        flow.append(KeepTogether([Heading(pick(T("Voorstel", "Suggestion"), lang), 1)] + [
            Paragraph(f"•&nbsp;&nbsp;{escape(pick(x.message, lang))}", s["body"]) for x in doc.suggestions]))
    data = [[Paragraph(escape(pick(t, lang)), s["head"]) for t in (
        T("Tabel", "Table"), T("Verborgen cellen", "Hidden cells"), T("Cellen", "Cells"), T("Aandeel", "Share"))]]
    for section in doc.sections:
        for view in section.tables:
            g = grid(view)
            share = f"{round(100 * g.hidden / g.visible)} %" if g.visible else "0 %"
            data.append([Paragraph(escape(pick(view.title, lang)), s["cell"]), str(g.hidden), str(g.visible), share])
        for view in section.statistics:
            if statistic(view).hidden:
                data.append([Paragraph(escape(pick(view.title, lang)), s["cell"]), "1", "1", "100 %"])
    if len(data) > 1:
        table = Table(data, colWidths=[width * 0.55, width * 0.17, width * 0.13, width * 0.15], repeatRows=1,
                      hAlign="LEFT")
        table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), ("BACKGROUND", (0, 0), (-1, 0), HEAD_GROUND),
                                   ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT), ("LINEBELOW", (0, 1), (-1, -1), 0.3, LINE),
                                   ("ALIGN", (1, 1), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        flow.append(KeepTogether([Heading(pick(T("Verborgen per tabel", "Hidden per table"), lang), 1), table]))
    return flow


def without_figures(folded: Folded, lang: Lang, width: float) -> list[Flowable]:
    """The tables and key figures left out, by section, each with why (never a count)."""
    if not folded.omitted:
        return []
    s = styles()
    small = ParagraphStyle("wf", parent=s["cell"], fontSize=7.5, leading=9.5)
    data = [[Paragraph(escape(pick(t, lang)), s["head"]) for t in (
        T("Tabel of kengetal", "Table or key figure"), T("Waarom niet afgedrukt", "Why not printed"))]]
    commands: list[tuple] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_GROUND), ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
    for title, whole, entries in folded.omitted_by_section():
        head = pick(title, lang) + (f" — {pick(WHOLE_SECTION, lang)}" if whole else "")
        commands += [("SPAN", (0, len(data)), (1, len(data))), ("LINEABOVE", (0, len(data)), (-1, len(data)), 0.5, LINE),
                     ("TOPPADDING", (0, len(data)), (-1, len(data)), 5)]
        data.append([Paragraph(f"<b>{escape(head)}</b>", s["cell"]), ""])
        for entry in entries:
            if entry.kind == "section":
                continue
            label = pick(entry.title, lang) + (pick(T(" (kengetal)", " (key figure)"), lang)
                                               if entry.kind == "statistic" else "")
            data.append([Paragraph(escape(label), small), Paragraph(escape(pick(NO_FIGURE_REASONS[entry.reason], lang)),
                                                                    small)])
    table = Table(data, colWidths=[width * 0.7, width * 0.3], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return [CondPageBreak(50 * mm), Heading(pick(WITHOUT_FIGURES, lang), 0), p(pick(WITHOUT_FIGURES_INTRO, lang)),
            table, Spacer(1, 8)]


def story(doc: ReportDocument, source: Provenance, lang: Lang, width: float) -> Iterable[Flowable]:
    folded = fold(doc)
    yield from title_page(doc, source, lang, width, folded=bool(folded.omitted))
    doc = folded.doc
    yield NextPageTemplate("body")
    yield PageBreak()
    yield from contents(lang)
    yield Spacer(1, 10)
    yield from definitions(doc, lang, width)
    for section in doc.sections:
        # the section heading stays with what follows it: its key figures or its first table
        yield CondPageBreak(40 * mm)
        pending: list[Flowable] = [Heading(pick(section.title, lang), 0)]
        if section.intro is not None:
            pending.append(p(pick(section.intro, lang)))
        stats = statistics_table(section, lang, width)
        if stats is not None:
            yield KeepTogether(pending + [stats])
            yield Spacer(1, 8)
            pending = []
        for view in section.tables:
            yield CondPageBreak(60 * mm)
            yield KeepTogether(pending + table_view_flowables(view, lang, width))
            yield Spacer(1, 8)
            pending = []
        quotes = quotes_of(section)
        if quotes:
            quote_style = ParagraphStyle("quote", parent=styles()["body"], fontName=ITALIC_FONT, leftIndent=10)
            yield KeepTogether(pending + [Heading(pick(T("Signalen uit het werkveld", "Signals from the field"), lang), 1),
                                          p(pick(T("Bevestigde, geanonimiseerde samenvattingen; alleen voor thema's die "
                                                   "vaak genoeg voorkomen.", "Confirmed, anonymised summaries; only for "
                                                   "themes that occur often enough."), lang), "small")])
            for quote in quotes:
                yield KeepTogether([Paragraph(escape(f"“{quote.text}”"), quote_style),
                                    Paragraph(escape(pick(quote.theme_label, lang)),
                                              ParagraphStyle("qt", parent=styles()["small"], leftIndent=10))])
            pending = []
        if pending:
            yield from pending
    yield from without_figures(folded, lang, width)
    yield from suppression(doc, lang, width)


def render_pdf(doc: ReportDocument, *, source: Provenance | None = None, lang: Lang = "nl") -> bytes:
    """The report as a PDF document (bytes)."""
    source = source or Provenance()
    fonts()
    buffer = io.BytesIO()
    template = ReportTemplate(buffer, doc, source, lang)
    template.multiBuild(list(story(doc, source, lang, template.width)))
    return buffer.getvalue()
