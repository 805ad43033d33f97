"""The dashboard: one server-rendered HTML page of a ``ReportDocument``.

Charts are inline SVG drawn here (``charts`` + ``svg``); the page loads one stylesheet,
one small script (the NL/EN toggle) and a favicon, all served by the service itself from
``outputs/static``: nothing comes from another origin, so it works offline and under a
strict Content-Security-Policy. Every text is rendered in the chosen language and carries
both (``data-nl``/``data-en``), so the toggle switches in place; without script the toggle
is a plain link to ``?lang=en``.

Accessibility: ``lang`` on the page, a skip link, every chart is an ``img`` with a title
and description and sits next to its table (the text alternative, with ``th`` scopes),
hidden cells read "verborgen" to screen readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlencode

from services.reporting.disclosure import TOTAL
from services.reporting.document import ReportDocument, Section, TableView, Text
from services.reporting.outputs.charts import NARROW_FONT, NARROW_WIDTH, PALETTE, chart_of, describe, legend_entries
from services.reporting.outputs.svg import BOTH_LANGUAGES, render_svg
from services.reporting.outputs.view import (
    HIDDEN, MARKER, WHY_HIDDEN, Grid, Lang, Provenance, audience_label, basis_label, dim_label, dims_label, dims_of,
    grain_label, grid, pick, period_label, provenance_rows, quotes_of, statistic)

STATIC = "/dashboard/static"
ASSET_VERSION = "1"

PERIOD_GRAINS = ("month", "quarter", "year")
NUM = ' class="num"'


def T(nl: str, en: str) -> Text:  # noqa: N802 - reads like a label
    return Text(nl=nl, en=en)


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


@dataclass(frozen=True)
class Controls:
    """The filter form of the live dashboard: current values and what this caller may pick."""

    values: Mapping[str, str]
    audiences: Sequence[Choice] = ()
    regions: Sequence[str] | None = ()  # None: not a choice for this caller; empty: free text
    projects: Sequence[str] | None = ()


@dataclass(frozen=True)
class Page:
    doc: ReportDocument
    lang: Lang = "nl"
    source: Provenance = field(default_factory=Provenance)
    controls: Controls | None = None  # live dashboard: the filter form
    exports: Mapping[str, str] = field(default_factory=dict)  # format -> URL without lang (published report)
    query: Mapping[str, str] = field(default_factory=dict)  # the page's own query, for the toggle link


# --------------------------------------------------------------------------- html helpers


def a(value: str) -> str:
    return escape(value, quote=True)


def bi(text: Text, lang: Lang) -> str:
    """Attributes and content of an element whose text follows the language toggle."""
    if not BOTH_LANGUAGES.get():
        return f">{escape(pick(text, lang))}"
    return f' data-nl="{a(text.nl)}" data-en="{a(text.en)}">{escape(pick(text, lang))}'


def el(tag: str, text: Text, lang: Lang, attrs: str = "") -> str:
    return f"<{tag}{attrs}{bi(text, lang)}</{tag}>"


def span(text: Text, lang: Lang, cls: str = "") -> str:
    return el("span", text, lang, f' class="{cls}"' if cls else "")


def titled(text: Text, lang: Lang) -> str:
    """A ``title`` attribute that follows the toggle."""
    if not BOTH_LANGUAGES.get():
        return f' title="{a(pick(text, lang))}"'
    return f' title="{a(pick(text, lang))}" data-nl-title="{a(text.nl)}" data-en-title="{a(text.en)}"'


def hidden_mark(lang: Lang) -> str:
    return (f'<span class="hidden-mark"{titled(HIDDEN, lang)} aria-hidden="true">{MARKER}</span>'
            f'{span(HIDDEN, lang, "sr-only")}')


# --------------------------------------------------------------------------- parts


def table_html(g: Grid, lang: Lang, ident: str) -> str:
    view = g.view
    head = [f'<th scope="col"{bi(dim_label(view.table.rows_axis.name), lang)}</th>']
    head += [f'<th scope="col" class="num"{bi(g.col_label(c), lang)}</th>' for c in g.cols]
    body = []
    for r in g.rows:
        cells = [f'<th scope="row"{bi(g.row_label(r), lang)}</th>']
        for c in g.cols:
            cell = g.cell(r, c)
            total = " total" if c == TOTAL and g.has_columns else ""
            if cell is None:
                cells.append(f'<td class="num{total}"></td>')
            elif cell.hidden:
                cells.append(f'<td class="num hidden-cell{total}">{hidden_mark(lang)}</td>')
            else:
                cells.append(f'<td class="num{total}"{bi(cell.text(), lang)}</td>')
        row_cls = ' class="total"' if r == TOTAL else ""
        body.append(f"<tr{row_cls}>{''.join(cells)}</tr>")
    caption = T(f"{view.title.nl} ({view.unit.nl})", f"{view.title.en} ({view.unit.en})")
    return (f'<div class="table-wrap" role="region" tabindex="0" aria-labelledby="{ident}-cap">'
            f'<table class="data" id="{ident}-table"><caption id="{ident}-cap"{bi(caption, lang)}</caption>'
            f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def legend_html(entries: list[tuple[str | None, Text]], lang: Lang) -> str:
    if not entries:
        return ""
    items = []
    for color, label in entries:
        if color is None:
            items.append(f'<li class="legend-hidden"><span class="hidden-mark" aria-hidden="true">{MARKER}</span>'
                         f"{span(T(label.nl[2:], label.en[2:]), lang)}</li>")
        else:
            index = PALETTE.index(color) if color in PALETTE else 0
            items.append(f'<li><span class="swatch swatch-{index}" aria-hidden="true"></span>{span(label, lang)}</li>')
    return f'<ul class="legend">{"".join(items)}</ul>'


def table_view_html(view: TableView, lang: Lang, ident: str) -> str:
    g = grid(view)
    wide = len(g.cols) > 3 or (view.chart == "line" and len(g.inner_rows) > 13)
    # laid out for the width it is shown at (a card of the two-column grid, or a whole row),
    # so its text is drawn at about its own size: 14 px, axis labels at least 12 px
    out = chart_of(view, width=960 if wide else 480, font=14)
    figure = ""
    if out is not None:
        # two layouts of the same chart: one for wide screens, one laid out for a phone's width
        # (fewer ticks, clipped category labels, text at its own size); the style sheet shows one
        narrow = chart_of(view, width=NARROW_WIDTH, font=NARROW_FONT)
        description = describe(view, g)
        svg = render_svg(out, title=view.title, description=description, ident=ident, lang=lang, variant="wide")
        if narrow is not None:
            svg += render_svg(narrow, title=view.title, description=description, ident=f"{ident}-n", lang=lang,
                              variant="narrow")
        figure = (f'<figure class="chart-figure"><div class="chart-scroll">{svg}</div>'
                  f"<figcaption>{legend_html(legend_entries(out), lang)}</figcaption></figure>")
    hidden = ""
    if g.hidden:
        hidden = span(T(f"{g.hidden} van {g.visible} cellen verborgen", f"{g.hidden} of {g.visible} cells hidden"),
                      lang, "hidden-count")
    warn = ""
    if view.table.too_much_hidden:
        warn = el("p", T("Deze tabel verbergt veel: kies een grovere indeling (zie onder).",
                         "This table hides a lot: choose a coarser breakdown (see below)."), lang, ' class="warn"')
    table = table_html(g, lang, ident)
    if figure:  # the table is the chart's text alternative: one click away, in the page for screen readers
        table = (f'<details class="tv-table"><summary{bi(T("Toon de cijfers als tabel", "Show the figures as a table"), lang)}'
                 f"</summary>{table}</details>")
    classes = "card table-view" + (" wide" if wide else "") + ("" if figure else " table-only")
    return (f'<article class="{classes}" id="{ident}" data-indicator="{a(view.indicator)}">'
            f'<header class="tv-head">{el("h3", view.title, lang)}{hidden}</header>{warn}{figure}{table}</article>')


def statistics_html(section: Section, lang: Lang, ident: str) -> str:
    """Key figures as cards; figures per period (or other breakdown) as a small table each."""
    if not section.statistics:
        return ""
    cards, series = [], {}
    for view in section.statistics:
        if dims_of(view):
            series.setdefault(view.indicator, []).append(view)
            continue
        shown = statistic(view)
        if shown.hidden:
            value = f'<span class="kpi-value hidden">{hidden_mark(lang)}</span>'
            units = span(HIDDEN, lang, "kpi-units")
        else:
            value = (f'<span class="kpi-value"><span{bi(shown.text(), lang)}</span> '
                     f'{span(view.unit, lang, "kpi-unit")}</span>')
            units = "" if shown.units is None else span(
                T(f"over {shown.units} eenheden", f"over {shown.units} units"), lang, "kpi-units")
        cards.append(f'<div class="kpi" data-indicator="{a(view.indicator)}">{value}'
                     f'{span(view.title, lang, "kpi-title")}{units}</div>')
    tables = []
    for n, (indicator, views) in enumerate(series.items()):
        title = next((v.title for v in section.statistics if v.indicator == indicator and not dims_of(v)),
                     views[0].title)
        rows = []
        for v in views:
            shown = statistic(v)
            cell = (f'<td class="num hidden-cell">{hidden_mark(lang)}</td>' if shown.hidden
                    else f'<td class="num"{bi(shown.text(), lang)}</td>')
            rows.append(f'<tr><th scope="row"{bi(dims_label(dims_of(v)), lang)}</th>{cell}</tr>')
        cap = f"{ident}-st{n}"
        caption = T(f"{title.nl} ({views[0].unit.nl})", f"{title.en} ({views[0].unit.en})")
        tables.append(
            f'<details class="stat-series"><summary{bi(T(f"{title.nl}: per periode", f"{title.en}: by period"), lang)}'
            f'</summary><div class="table-wrap" role="region" tabindex="0" aria-labelledby="{cap}">'
            f'<table class="data"><caption id="{cap}"{bi(caption, lang)}</caption><tbody>{"".join(rows)}</tbody>'
            f"</table></div></details>")
    return f'<div class="kpis">{"".join(cards)}</div>{"".join(tables)}'


def quotes_html(section: Section, lang: Lang) -> str:
    quotes = quotes_of(section)
    if not quotes:
        return ""
    items = "".join(f'<figure class="quote"><blockquote lang="nl"><p>{escape(q.text)}</p></blockquote>'
                    f"<figcaption>{span(q.theme_label, lang)}</figcaption></figure>" for q in quotes)
    heading = el("h3", T("Signalen uit het werkveld", "Signals from the field"), lang)
    note = el("p", T("Bevestigde, geanonimiseerde samenvattingen; alleen voor thema's die vaak genoeg voorkomen.",
                     "Confirmed, anonymised summaries; only for themes that occur often enough."), lang,
              ' class="section-intro"')
    return f'<div class="quotes">{heading}{note}{items}</div>'


def section_html(section: Section, lang: Lang, index: int) -> str:
    intro = "" if section.intro is None else el("p", section.intro, lang, ' class="section-intro"')
    views = "".join(table_view_html(v, lang, f"c{index}-{j}") for j, v in enumerate(section.tables))
    key = a(section.key)
    heading = el("h2", section.title, lang, f' id="s-{key}-h"')
    return (f'<section class="report-section" id="s-{key}" aria-labelledby="s-{key}-h">{heading}{intro}'
            f'{statistics_html(section, lang, f"s{index}")}<div class="cards">{views}</div>'
            f"{quotes_html(section, lang)}</section>")


def query_link(query: Mapping[str, str], **changes: str) -> str:
    merged = {k: v for k, v in {**query, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged)


def suppression_html(page: Page) -> str:
    doc, lang = page.doc, page.lang
    why = "".join(el("p", t, lang) for t in WHY_HIDDEN)
    notes = "".join(el("li", T(n.nl, n.en), lang) for n in doc.notes)
    notes_html = f'<ul class="notes">{notes}</ul>' if notes else ""
    suggestions = []
    for s in doc.suggestions:
        text = el("span", T(s.message.nl, s.message.en), lang)
        if page.controls is not None and s.dimension in PERIOD_GRAINS and s.coarser in PERIOD_GRAINS:
            href = a(query_link(page.query, grain=s.coarser))
            text += f' <a class="button small" href="{href}"{bi(T("Toon zo", "Show it so"), lang)}</a>'
        suggestions.append(f"<li>{text}</li>")
    suggestions_html = ""
    if suggestions:
        suggestions_html = (el("h3", T("Voorstel", "Suggestion"), lang)
                            + f'<ul class="suggestions">{"".join(suggestions)}</ul>')
    rows = []
    for section in doc.sections:
        for view in section.tables:
            g = grid(view)
            share = f"{round(100 * g.hidden / g.visible)} %" if g.visible else "0 %"
            rows.append(f'<tr><th scope="row"{bi(view.title, lang)}</th><td class="num">{g.hidden}</td>'
                        f'<td class="num">{g.visible}</td><td class="num">{share}</td></tr>')
    summary = ""
    if rows:
        head = "".join(f'<th scope="col"{NUM if i else ""}{bi(t, lang)}</th>' for i, t in enumerate([
            T("Tabel", "Table"), T("Verborgen cellen", "Hidden cells"), T("Cellen", "Cells"),
            T("Aandeel", "Share")]))
        summary = (f'<details class="per-table"><summary{bi(T("Verborgen per tabel", "Hidden per table"), lang)}'
                   f'</summary><div class="table-wrap" role="region" tabindex="0" aria-labelledby="sup-cap">'
                   f'<table class="data"><caption id="sup-cap"{bi(T("Verborgen per tabel", "Hidden per table"), lang)}'
                   f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></details>")
    heading = el("h2", T("Wat verborgen is en waarom", "What was hidden and why"), lang, ' id="suppression-h"')
    return (f'<section class="report-section suppression" id="suppression" aria-labelledby="suppression-h">{heading}'
            f'<p class="legend-line"><span class="hidden-mark" aria-hidden="true">{MARKER}</span> '
            f"{span(HIDDEN, lang)}</p>{why}{notes_html}{suggestions_html}{summary}</section>")


def definitions_html(doc: ReportDocument, lang: Lang) -> str:
    if not doc.definitions:
        return ""
    rows = []
    for d in doc.definitions:
        rows.append(f'<tr><th scope="row"{bi(d.title, lang)}</th><td{bi(d.formula, lang)}</td>'
                    f'<td{bi(d.unit, lang)}</td><td><code>{escape(", ".join(d.sources))}</code></td></tr>')
    head = "".join(f'<th scope="col"{bi(t, lang)}</th>' for t in [
        T("Indicator", "Indicator"), T("Definitie", "Definition"), T("Eenheid", "Unit"), T("Bronnen", "Sources")])
    return (f'<section class="report-section" id="definitions" aria-labelledby="definitions-h">'
            f'<details><summary><h2 id="definitions-h"{bi(T("Definities", "Definitions"), lang)}</h2></summary>'
            f'<div class="table-wrap" role="region" tabindex="0" aria-labelledby="definitions-h"><table class="data defs">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></details></section>")


def form_html(page: Page) -> str:
    controls, lang = page.controls, page.lang
    assert controls is not None
    v = controls.values

    def label(name: str, text: Text) -> str:
        return f'<label for="f-{name}"{bi(text, lang)}</label>'

    def select(name: str, choices: Sequence[Choice]) -> str:
        options = "".join(
            f'<option value="{a(c.value)}"{" selected" if v.get(name) == c.value else ""}{bi(c.label, lang)}</option>'
            for c in choices)
        return f'<select id="f-{name}" name="{name}">{options}</select>'

    def free(name: str, options: Sequence[str] | None, *, optional: bool = True) -> str:
        if options:
            choices = ([Choice("", T("(geen)", "(none)"))] if optional else []) + [Choice(o, T(o, o)) for o in options]
            return select(name, choices)
        return f'<input id="f-{name}" name="{name}" type="text" value="{a(v.get(name, ""))}" autocomplete="off">'

    def day(name: str) -> str:
        return f'<input id="f-{name}" name="{name}" type="date" value="{a(v.get(name, ""))}">'

    fields = [(label("audience", T("Voor wie", "Audience")), select("audience", controls.audiences))]
    if controls.regions is not None:
        fields.append((label("region", T("Regio", "Region")), free("region", controls.regions)))
    if controls.projects is not None:
        fields.append((label("project_id", T("Project", "Project")), free("project_id", controls.projects)))
    fields += [
        (label("period_start", T("Van", "From")), day("period_start")),
        (label("period_end", T("Tot en met", "Up to and including")), day("period_end")),
        (label("grain", T("Per", "By")), select("grain", [
            Choice("month", T("maand", "month")), Choice("quarter", T("kwartaal", "quarter")),
            Choice("year", T("jaar", "year"))])),
        (label("basis", T("Volgens", "Based on")), select("basis", [
            Choice("occurred", T("wanneer het gebeurde", "when it happened")),
            Choice("recorded", T("wanneer het geregistreerd werd", "when it was recorded"))])),
    ]
    inner = "".join(f'<div class="field">{lab}{ctl}</div>' for lab, ctl in fields)
    return (f'<form class="filters" method="get" action="/dashboard" aria-label="{a(pick(T("Filters", "Filters"), lang))}">'
            f'{inner}<input type="hidden" name="lang" value="{lang}" data-lang-input>'
            f'<div class="field submit"><button type="submit"{bi(T("Toon", "Show"), lang)}</button></div></form>')


def exports_html(page: Page) -> str:
    if not page.exports:
        return ""
    links = []
    names = {"csv": T("CSV", "CSV"), "xlsx": T("Excel (XLSX)", "Excel (XLSX)"), "pdf": T("PDF", "PDF")}
    for fmt, url in page.exports.items():
        href = f"{url}?{urlencode({'lang': page.lang})}"
        links.append(f'<a class="button" href="{a(href)}" data-lang-link="{a(url)}" download'
                     f'{bi(names.get(fmt, T(fmt, fmt)), page.lang)}</a>')
    return (f'<nav class="exports" aria-label="Downloads">{span(T("Downloaden:", "Download:"), page.lang)}'
            f'{"".join(links)}</nav>')


def provenance_html(page: Page) -> str:
    rows = provenance_rows(page.doc, page.source)
    if page.source.report_id is None:
        rows.append((T("Berekend", "Computed"), pick(T("nu, uit de actuele projecties",
                                                       "now, from the current projections"), page.lang)))
    items = "".join(f'<div><dt{bi(k, page.lang)}</dt><dd><code>{escape(v)}</code></dd></div>' for k, v in rows)
    heading = el("h2", T("Over dit rapport", "About this report"), page.lang, ' id="about-h"')
    return (f'<section class="report-section about" id="about" aria-labelledby="about-h">{heading}'
            f'<dl class="facts">{items}</dl></section>')


def toc_html(doc: ReportDocument, lang: Lang) -> str:
    links = [f'<li><a href="#s-{a(s.key)}"{bi(s.title, lang)}</a></li>' for s in doc.sections]
    links.append(f'<li><a href="#suppression"{bi(T("Verborgen cijfers", "Hidden figures"), lang)}</a></li>')
    if doc.definitions:
        links.append(f'<li><a href="#definitions"{bi(T("Definities", "Definitions"), lang)}</a></li>')
    return (f'<nav class="toc" aria-label="{a(pick(T("Inhoud", "Contents"), lang))}"><ul>{"".join(links)}</ul></nav>')


LOGO = ('<svg class="logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="28" height="28" '
        'aria-hidden="true" focusable="false"><circle cx="12" cy="16" r="9" fill="#1f5f8b"/>'
        '<circle cx="20" cy="16" r="9" fill="#ffe615" fill-opacity="0.9"/></svg>')


def render_dashboard(page: Page) -> str:
    doc, lang = page.doc, page.lang
    other: Lang = "en" if lang == "nl" else "nl"
    toggle_href = a(query_link(page.query, lang=other))
    toggle_text = {"nl": "Nederlands", "en": "English"}
    meta = " · ".join(span(t, lang) for t in [
        doc.scope_label, audience_label(doc), period_label(doc), grain_label(doc.period.grain), basis_label(doc)])
    hidden_total = sum(grid(v).hidden for s in doc.sections for v in s.tables)
    count = T(f"In dit rapport: {hidden_total} verborgen cellen.", f"In this report: {hidden_total} hidden cells.")
    footer = T("Geanonimiseerde cijfers; geen persoonsgegevens.", "Anonymised figures; no personal data.")
    notice = (f'<aside class="protection" aria-label="{a(pick(T("Bescherming", "Protection"), lang))}">'
              f'<p><span class="hidden-mark" aria-hidden="true">{MARKER}</span> '
              f'{span(T("betekent: verborgen om personen te beschermen.", "means: hidden to protect people."), lang)} '
              f'{span(count, lang)} '
              f'<a href="#suppression"{bi(T("Waarom?", "Why?"), lang)}</a></p></aside>')
    sections = "".join(section_html(s, lang, i) for i, s in enumerate(doc.sections))
    form = form_html(page) if page.controls is not None else ""
    title = T(f"{doc.title.nl} — Rapportering buddywerking", f"{doc.title.en} — Buddy programme reporting")
    return (
        f'<!doctype html><html lang="{lang}" data-lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title{bi(title, lang)}</title>'
        f'<link rel="icon" href="{STATIC}/favicon.svg?v={ASSET_VERSION}" type="image/svg+xml">'
        f'<link rel="stylesheet" href="{STATIC}/dashboard.css?v={ASSET_VERSION}">'
        f'<script src="{STATIC}/dashboard.js?v={ASSET_VERSION}" defer></script></head>'
        f'<body><a class="skip" href="#main"{bi(T("Naar de inhoud", "Skip to content"), lang)}</a>'
        f'<header class="top"><div class="brand">{LOGO}'
        f'{span(T("Buddywerking · Rapportering", "Buddy programmes · Reporting"), lang)}</div>'
        f'<a class="lang-toggle" href="{toggle_href}" data-lang-toggle hreflang="{other}" lang="{other}" '
        f'data-label-nl="English" data-label-en="Nederlands">{toggle_text[other]}</a></header>'
        f'<main id="main"><div class="intro">{el("h1", doc.title, lang)}<p class="meta">{meta}</p>'
        f"{exports_html(page)}</div>{form}{notice}{toc_html(doc, lang)}{sections}{suppression_html(page)}"
        f"{definitions_html(doc, lang)}{provenance_html(page)}</main>"
        f'<footer class="bottom">{span(footer, lang)}'
        f"</footer></body></html>"
    )
