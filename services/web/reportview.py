"""A report as the pages show it: names instead of codes, empty sections set aside.

The sections are drawn by the reporting outputs' own HTML renderer (charts as inline SVG
next to their tables, hidden cells marked): the same pure functions of the published
document that the reporting dashboard uses, so a figure looks the same everywhere and
disclosure control is never re-done here. What the web front adds: the scope and
audience in words, and a line for the sections that have no figure to show (a small
region's report would otherwise be pages of dashes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import anyio
from markupsafe import Markup

from services.reporting.outputs.dashboard import section_html
from services.reporting.outputs.svg import BOTH_LANGUAGES
from services.reporting.outputs.view import OutputDocument, document, grid, pick, statistic
from services.web import i18n
from services.web.i18n import N_


@dataclass(frozen=True)
class Option:
    value: str  # "flanders", "region:<code>" or "project:<id>"
    label: str
    group: str  # message id of the option group
    parameters: dict[str, str]


@dataclass
class ScopeChoices:
    """What this reader may ask reports about, from the reporting service's ``/scopes``."""

    options: list[Option]
    names: dict[str, str]  # region code or project id -> name

    @classmethod
    def of(cls, data: dict[str, Any], _: Callable[..., str], lang: str = "nl") -> "ScopeChoices":
        """The choices of ``/scopes``; region names from the fixed list, in the reader's language."""
        options, names = [], {}
        key = "name_en" if lang == "en" else "name"
        regions = {r["code"]: r.get(key) or r["name"] for r in data.get("regions", [])}
        names.update(regions)
        if data.get("flanders"):
            options.append(Option("flanders", _("All of Flanders"), N_("Flanders"), {"audience": "government"}))
        for code, name in regions.items():
            options.append(Option(f"region:{code}", name, N_("Regions"), {"audience": "coordinator", "region": code}))
        for p in data.get("projects", []):
            names[p["project_id"]] = p["title"]
            region = (regions.get(p["region"]) or p.get("region_name_en" if lang == "en" else "region_name")
                      or p.get("region_name") or p["region"])
            names.setdefault(p["region"], region)
            options.append(Option(f"project:{p['project_id']}", f"{p['title']} ({region})", N_("Projects"),
                                  {"audience": "project", "project_id": p["project_id"]}))
        return cls(options, names)

    def find(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def groups(self) -> list[tuple[str, list[Option]]]:
        out: dict[str, list[Option]] = {}
        for option in self.options:
            out.setdefault(option.group, []).append(option)
        return list(out.items())

    def describe(self, params: dict[str, Any], _: Callable[..., str]) -> str:
        if params.get("project_id"):
            return self.names.get(params["project_id"], params["project_id"])
        if params.get("region"):
            return self.names.get(params["region"], params["region"])
        return _("All of Flanders")

    @staticmethod
    def audience_label(params: dict[str, Any], _: Callable[..., str]) -> str:
        return {"government": _("Flemish government"), "coordinator": _("Regional coordinators"),
                "project": _("Project staff")}.get(params.get("audience", "project"), _("Project staff"))


@dataclass(frozen=True)
class Month:
    value: str  # YYYY-MM
    label: str


def month_choices(today: date, lang: i18n.Lang, count: int = 36) -> list[Month]:
    """This month and the ``count - 1`` before it, newest first, named in the reader's language."""
    out, year, month = [], today.year, today.month
    for _i in range(count):
        out.append(Month(f"{year:04d}-{month:02d}", i18n.month(date(year, month, 1), lang)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


def _month_start(value: str) -> date | None:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except (ValueError, TypeError):
        return None


def period_of(first: str, last: str, grain: str) -> tuple[date, date] | None:
    """The one calendar month, quarter or year (no finer than the grain) holding both months.

    Reports are released for whole calendar periods only (the reporting service refuses
    any other, see docs/disclosure.md): February to May is the year, April to June the
    second quarter. Months of two different years have no such period: None.
    """
    start, end = _month_start(first), _month_start(last)
    if start is None or end is None or start.year != end.year:
        return None
    start, end = min(start, end), max(start, end)
    quarter = (start.month - 1) // 3
    if grain == "month" and start == end:
        first_month, months = start.month, 1
    elif grain in ("month", "quarter") and quarter == (end.month - 1) // 3:
        first_month, months = 3 * quarter + 1, 3
    else:
        first_month, months = 1, 12
    following = date(start.year + (first_month + months > 12), (first_month + months - 1) % 12 + 1, 1)
    return date(start.year, first_month, 1), following - timedelta(days=1)


def has_figures(section: Any) -> bool:
    """Whether a section shows at least one figure (a released count above zero, or a statistic)."""
    for view in section.tables:
        if any(c.status == "shown" and (c.value or 0) > 0 for c in grid(view).cells.values()):
            return True
    return any(not statistic(s).hidden for s in section.statistics)


@dataclass
class ReportView:
    doc: OutputDocument
    title: str
    scope: str
    sections: list[tuple[str, str, Markup]]  # (key, title, rendered HTML) of the sections with figures
    empty: list[str]  # titles of the sections without any figure
    notes: list[str]


class ViewCache:
    """Reports as drawn, by the answer they came in and the reader's language: each drawn once.

    Drawing a report (a chart, wide and narrow, for each of its tables) costs far more than
    asking for it, and the same figures are asked again and again: a reload, the language
    switch, a published report opened by its readers, the coordinators of one region. The
    key is a digest of the service's answer, so changed figures are a new entry, never a
    stale page; nothing here says who may see what (the services answered that already).
    The least recently used entries go first."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._views: OrderedDict[tuple[str, str], ReportView] = OrderedDict()

    async def view(self, content: dict[str, Any], lang: i18n.Lang, digest: str) -> ReportView:
        """The drawing of ``content``; ``digest``: of the service's answer it came in (the same
        answer, the same digest; reading it off the bytes costs nothing next to the JSON)."""
        key = (digest, lang)
        found = self._views.get(key)
        if found is not None:
            self._views.move_to_end(key)
            return found
        # drawn in a worker thread: other readers' pages are not held up meanwhile
        made = await anyio.to_thread.run_sync(report_view, content, lang)
        self._views[key] = made
        while len(self._views) > self.size:
            self._views.popitem(last=False)
        return made


def report_view(content: dict[str, Any], lang: i18n.Lang) -> ReportView:
    """The report in the reader's language only (this site switches languages on the server)."""
    one_language = BOTH_LANGUAGES.set(False)
    try:
        return _report_view(content, lang)
    finally:
        BOTH_LANGUAGES.reset(one_language)


def _report_view(content: dict[str, Any], lang: i18n.Lang) -> ReportView:
    doc = document(content)
    shown, empty = [], []
    for index, section in enumerate(doc.sections):
        if has_figures(section):
            # section_html escapes every text it places: safe to mark as such
            shown.append((section.key, pick(section.title, lang),
                          Markup(section_html(section, lang, index))))  # noqa: S704
        else:
            empty.append(pick(section.title, lang))
    scope = pick(doc.scope_label, lang)  # "Regio Antwerpen-Kempen", "Project …", "Heel Vlaanderen"
    return ReportView(doc, pick(doc.title, lang), scope, shown, empty, [pick(n, lang) for n in doc.notes])
