"""Charts of protected tables, laid out once and drawn twice (SVG for the dashboard,
reportlab graphics for the PDF).

The layout works on ``CellView``s, so a hidden cell has no value to draw: no bar, no
point, and a line breaks around it. In its place comes the hidden-mark (the same "—" as
in the tables) at a fixed spot that says nothing about the size: at the start of the bar
axis for bars, in a strip above the plot for lines.

How a table becomes a chart (the report kinds choose the hint):

* ``line``: rows are the x axis in order (periods); each column is a series, or the
  value column of a one-way table. Totals are left out unless they are the only series.
* ``bar``: rows are categories (regions, months, ...) drawn as horizontal bars; several
  columns give grouped bars. Totals are left out.
* ``stacked_bar``: rows are categories; the columns are stacked. A hidden part is left
  out of its stack and marked after it.
* ``funnel``: rows are the steps in order; the value column (or the total column) is
  drawn as centred bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from services.reporting.disclosure import TOTAL
from services.reporting.document import TableView, Text
from services.reporting.outputs.view import HIDDEN, MARKER, Grid, fmt_int, grid

PALETTE = ["#1f5f8b", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7a6f9b", "#8c8c3a"]
INK = "#1d2733"
MUTED = "#5b6770"
GRID_LINE = "#dfe4e8"
AXIS = "#8a96a0"
HIDDEN_INK = "#6b7780"
GAP = "#eef1f4"

Kind = Literal["bar", "stacked_bar", "line", "funnel"]


@dataclass(frozen=True)
class Series:
    key: str
    label: Text
    values: list[int | None]  # None: hidden (or absent), never drawn


@dataclass(frozen=True)
class ChartData:
    kind: Kind
    title: Text
    unit: Text
    categories: list[tuple[str, Text]]
    series: list[Series]

    @property
    def maximum(self) -> int:
        if self.kind == "stacked_bar":
            sums = [sum(s.values[i] or 0 for s in self.series) for i in range(len(self.categories))]
            return max(sums, default=0)
        return max((v for s in self.series for v in s.values if v is not None), default=0)

    @property
    def hidden(self) -> int:
        return sum(v is None for s in self.series for v in s.values)


def chart_data(view: TableView) -> ChartData | None:
    """What the chart of a table shows, or None when the table asks for no chart."""
    if view.chart == "none":
        return None
    g = grid(view)
    kind: Kind = view.chart
    categories = [(r, g.row_label(r)) for r in g.inner_rows]
    if not categories:
        return None
    cols = g.inner_cols
    if kind == "funnel" or not cols:
        value_col = TOTAL if (TOTAL in g.cols or not cols) else cols[0]
        cols = [value_col]
    if kind == "stacked_bar" and len(cols) == 1:
        kind = "bar"
    series = []
    for col in cols:
        values = []
        for row, _ in categories:
            cell = g.cell(row, col)
            values.append(None if cell is None else cell.value)
        label = view.unit if col == TOTAL and not g.has_columns else g.col_label(col)
        series.append(Series(col, label, values))
    return ChartData(kind, view.title, view.unit, categories, series)


# --------------------------------------------------------------------------- primitives (y grows downwards)


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    tip: Text | None = None
    role: Literal["bar", "gap"] = "bar"  # gap: the shaded place of a hidden value, the same size for every one


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 1.0
    dash: tuple[float, float] | None = None


@dataclass(frozen=True)
class Path:
    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float = 2.0


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    fill: str
    tip: Text | None = None


@dataclass(frozen=True)
class Label:
    x: float
    y: float  # baseline
    text: Text
    size: float
    anchor: Literal["start", "middle", "end"] = "start"
    fill: str = INK
    bold: bool = False


@dataclass(frozen=True)
class HiddenMark:
    """The marker of a hidden value: drawn as "—", explained by its tip."""

    x: float
    y: float  # baseline
    size: float
    tip: Text
    fill: str = HIDDEN_INK
    anchor: Literal["start", "middle", "end"] = "start"


Shape = Rect | Line | Path | Dot | Label | HiddenMark


@dataclass
class Layout:
    kind: Kind
    width: float
    height: float
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, Text]] = field(default_factory=list)  # colour, label
    hidden: int = 0

    def add(self, *shapes: Shape) -> None:
        self.shapes.extend(shapes)


def text_width(text: str, size: float) -> float:
    """A generous estimate of the width of a text in a sans-serif font."""
    return 0.58 * size * len(text)


def longest(texts: list[Text], size: float) -> float:
    return max((text_width(t.nl, size) for t in texts), default=0.0) if texts else 0.0


def clip(text: Text, size: float, room: float) -> Text:
    def cut(s: str) -> str:
        if text_width(s, size) <= room:
            return s
        keep = max(int(room / (0.64 * size)) - 1, 1)  # a little wider than text_width: the cut text must fit
        return s[:keep] + "…"

    return Text(nl=cut(text.nl), en=cut(text.en))


def nice_ticks(maximum: float, count: int = 5) -> list[int]:
    """0 and round steps up to at least the maximum."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(int(math.ceil(step)), 1)
    top = int(math.ceil(maximum / step)) * step
    return list(range(0, top + step, step))


def count_text(value: int) -> Text:
    return Text(nl=fmt_int(value, "nl"), en=fmt_int(value, "en"))


def tip(*parts: Text) -> Text:
    return Text(nl=": ".join(p.nl for p in parts), en=": ".join(p.en for p in parts))


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def layout(data: ChartData, *, width: float = 640, font: float = 12) -> Layout:
    if data.kind == "line":
        return _line(data, width, font)
    if data.kind == "funnel":
        return _funnel(data, width, font)
    return _bars(data, width, font, stacked=data.kind == "stacked_bar")


def _legend(series: list[Series]) -> list[tuple[str, Text]]:
    if len(series) < 2:
        return []
    return [(colour(i), s.label) for i, s in enumerate(series)]


def _bars(data: ChartData, width: float, font: float, *, stacked: bool) -> Layout:
    small = font * 0.9
    n_series = 1 if stacked else len(data.series)
    bar = max(font * 1.1, 8.0) if n_series == 1 else max(font * 0.8, 6.0)
    band = bar * n_series + font * 0.9
    label_w = min(max(longest([c for _, c in data.categories], small) + 8, 60), width * 0.32)
    value_w = text_width("00.000", small) + 12
    left, top = label_w, 6.0
    plot_w = width - left - value_w
    # as many ticks as their labels have room for: a phone-width chart gets fewer, never overlapping ones
    room = text_width(count_text(max(data.maximum, 1) * 2).nl, small) + font
    ticks = nice_ticks(data.maximum, count=max(2, min(5, int(plot_w // room) - 1)))
    scale = plot_w / ticks[-1]
    plot_h = band * len(data.categories)
    height = top + plot_h + font * 2.4
    out = Layout(data.kind, width, height, legend=_legend(data.series), hidden=data.hidden)
    for t in ticks:
        x = left + t * scale
        out.add(Line(x, top, x, top + plot_h, GRID_LINE),
                Label(x, top + plot_h + font * 1.3, count_text(t), small, "middle", MUTED))
    out.add(Line(left, top, left, top + plot_h, AXIS))
    for i, (_, category) in enumerate(data.categories):
        y0 = top + i * band + font * 0.45
        out.add(Label(left - 6, y0 + (bar * n_series) / 2 + small * 0.35, clip(category, small, label_w - 8),
                      small, "end", INK))
        if stacked:
            x = left
            missing = []
            for j, s in enumerate(data.series):
                value = s.values[i]
                if value is None:
                    missing.append(s.label)
                    continue
                w = value * scale
                if w > 0:
                    out.add(Rect(x, y0, w, bar, colour(j), tip(category, s.label, count_text(value))))
                x += w
            if missing:
                hidden_tip = Text(nl=f"{category.nl}: {', '.join(m.nl for m in missing)}: {HIDDEN.nl}",
                                  en=f"{category.en}: {', '.join(m.en for m in missing)}: {HIDDEN.en}")
                out.add(HiddenMark(x + 4, y0 + bar * 0.78, small, hidden_tip))
            continue
        for j, s in enumerate(data.series):
            value = s.values[i]
            y = y0 + j * bar
            color = colour(j) if n_series > 1 else PALETTE[0]
            if value is None:
                out.add(HiddenMark(left + 4, y + bar * 0.8, small, tip(category, s.label, HIDDEN)))
                continue
            w = value * scale
            if w > 0:
                out.add(Rect(left, y + 0.5, w, bar - 1, color, tip(category, s.label, count_text(value))))
            if n_series == 1 or bar >= small:
                out.add(Label(left + w + 4, y + bar * 0.78, count_text(value), small * (1 if n_series == 1 else 0.9),
                              "start", MUTED))
    return out


def _funnel(data: ChartData, width: float, font: float) -> Layout:
    s = data.series[0]
    bar = font * 1.6
    gap = font * 0.5
    label_w = min(max(longest([c for _, c in data.categories], font) + 10, 80), width * 0.3)
    value_w = text_width("00.000", font) + 12
    plot_w = width - label_w - value_w
    centre = label_w + plot_w / 2
    top = 4.0
    maximum = max(data.maximum, 1)
    height = top + len(data.categories) * (bar + gap) + gap
    out = Layout("funnel", width, height, hidden=data.hidden)
    for i, (_, category) in enumerate(data.categories):
        y = top + i * (bar + gap)
        baseline = y + bar / 2 + font * 0.35
        out.add(Label(label_w - 8, baseline, clip(category, font, label_w - 10), font, "end", INK))
        value = s.values[i]
        if value is None:
            out.add(HiddenMark(width - value_w + 8, baseline, font, tip(category, HIDDEN)))
            out.add(Line(label_w, y + bar / 2, width - value_w, y + bar / 2, GRID_LINE, 1, (3, 3)))
            continue
        w = max(plot_w * value / maximum, 1.0 if value else 0.0)
        if w > 0:
            out.add(Rect(centre - w / 2, y, w, bar, PALETTE[0], tip(category, count_text(value))))
        out.add(Label(width - value_w + 8, baseline, count_text(value), font, "start", INK, bold=True))
    return out


def _line(data: ChartData, width: float, font: float) -> Layout:
    small = font * 0.85
    series = data.series
    if len(series) > 1:
        series = [s for s in series if s.key != TOTAL] or series
    ticks = nice_ticks(max((v for s in series for v in s.values if v is not None), default=0))
    tick_w = max(text_width(count_text(t).nl, small) for t in ticks) + 8
    strip = font * 1.5  # hidden marks go here, above the plot: their place says nothing about their size
    n = len(data.categories)
    left, top = tick_w + 4, strip + 6
    right = max(12.0, text_width(data.categories[-1][1].nl, small) / 2 + 2) if n > 1 else 12.0
    plot_w = width - left - right
    plot_h = max(width * 0.3, 120.0)
    step = plot_w / max(n - 1, 1)
    every = max(1, math.ceil(n * text_width("mmm 0000", small) / plot_w))
    height = top + plot_h + font * 2.2
    out = Layout("line", width, height, legend=_legend(series), hidden=sum(
        v is None for s in series for v in s.values))
    scale = plot_h / ticks[-1]

    def x_at(i: int) -> float:
        return left + (i * step if n > 1 else plot_w / 2)

    def y_at(v: int) -> float:
        return top + plot_h - v * scale

    band = min(max(step * 0.5, 8.0), 28.0)
    for i, (_, category) in enumerate(data.categories):
        missing = [s.label for s in series if s.values[i] is None]
        if missing:
            hidden_tip = Text(nl=f"{category.nl}: {', '.join(m.nl for m in missing)}: {HIDDEN.nl}",
                              en=f"{category.en}: {', '.join(m.en for m in missing)}: {HIDDEN.en}")
            out.add(Rect(x_at(i) - band / 2, top - strip - 2, band, plot_h + strip + 2, GAP, hidden_tip, "gap"))
    for t in ticks:
        y = y_at(t)
        out.add(Line(left, y, left + plot_w, y, GRID_LINE),
                Label(left - 6, y + small * 0.35, count_text(t), small, "end", MUTED))
    out.add(Line(left, top + plot_h, left + plot_w, top + plot_h, AXIS))
    labelled = set(range(0, n, every))
    if n - 1 - max(labelled) >= every:
        labelled.add(n - 1)
    for i, (_, category) in enumerate(data.categories):
        if i in labelled:
            out.add(Line(x_at(i), top + plot_h, x_at(i), top + plot_h + 4, AXIS),
                     Label(x_at(i), top + plot_h + font * 1.3, category, small, "middle", MUTED))
    for j, s in enumerate(series):
        color = colour(j)
        run: list[tuple[float, float]] = []
        runs = []
        for i, value in enumerate(s.values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append((x_at(i), y_at(value)))
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                out.add(Path(tuple(r), color, 2.0))
        for i, value in enumerate(s.values):
            category = data.categories[i][1]
            label = [category, s.label] if len(series) > 1 else [category]
            if value is None:
                missing = [t for t in series if t.values[i] is None]
                if len(missing) == 1:
                    out.add(HiddenMark(x_at(i), top - strip * 0.3, font, tip(*label, HIDDEN), color, "middle"))
                elif missing[0] is s:  # several series hidden in one period: one mark, naming them all
                    names = Text(nl=", ".join(t.label.nl for t in missing), en=", ".join(t.label.en for t in missing))
                    out.add(HiddenMark(x_at(i), top - strip * 0.3, font, tip(category, names, HIDDEN), HIDDEN_INK,
                                       "middle"))
            else:
                out.add(Dot(x_at(i), y_at(value), 3.0, color, tip(*label, count_text(value))))
    return out


def legend_entries(out: Layout) -> list[tuple[str | None, Text]]:
    """Series colours, then the meaning of the hidden-mark when the chart has one."""
    entries: list[tuple[str | None, Text]] = list(out.legend)
    if out.hidden:
        entries.append((None, Text(nl=f"{MARKER} {HIDDEN.nl}", en=f"{MARKER} {HIDDEN.en}")))
    return entries


# A phone (390 px wide, less the page's margins) shows charts laid out for this width at
# this font size, drawn at about their own size: labels never shrink below about 12 px.
NARROW_WIDTH, NARROW_FONT = 320.0, 14.0


def chart_of(view: TableView, *, width: float = 640, font: float = 12) -> Layout | None:
    data = chart_data(view)
    return None if data is None else layout(data, width=width, font=font)


def describe(view: TableView, g: Grid | None = None) -> Text:
    """A one-sentence description for screen readers; the table beside it has the figures."""
    g = g or grid(view)
    kinds = {"line": ("Lijndiagram", "Line chart"), "bar": ("Staafdiagram", "Bar chart"),
             "stacked_bar": ("Gestapeld staafdiagram", "Stacked bar chart"), "funnel": ("Trechter", "Funnel")}
    nl, en = kinds.get(view.chart, ("Grafiek", "Chart"))
    hidden = g.hidden
    extra_nl = f"; {hidden} verborgen waarden" if hidden else ""
    extra_en = f"; {hidden} hidden values" if hidden else ""
    return Text(nl=f"{nl}: {view.title.nl}. De cijfers staan in de tabel{extra_nl}.",
                en=f"{en}: {view.title.en}. The figures are in the table{extra_en}.")


__all__ = ["ChartData", "Dot", "HiddenMark", "Label", "Layout", "Line", "Path", "Rect", "Series", "chart_data",
           "chart_of", "describe", "layout", "legend_entries", "nice_ticks"]
