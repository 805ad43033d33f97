"""The report styles of the reporting outputs, fitted into the web front's pages.

The sections come from the reporting outputs' renderer, so their look (charts, tables,
key figures, hidden-value marks) is that of the reporting dashboard's stylesheet. That
stylesheet also styles a whole page (body, header, forms), which would clash with ours:
at start-up only its rules for report content are kept, each scoped under ``.report``,
with its colour variables. One source of truth for how a figure looks, no copy to drift.
"""

from __future__ import annotations

import re
from importlib.resources import files

# Rules about report content: every selector of a kept rule starts with one of these.
CONTENT = re.compile(
    r"^(\.hidden-mark|\.report-section|\.section-intro|\.kpis?\b|\.kpi-|\.cards|\.card\b|\.tv-|\.hidden-count|\.warn"
    r"|\.stat-series|\.quotes?|\.chart-figure|\.chart-scroll|svg\.chart|\.legend|\.swatch|\.table-wrap|table\.data|\.per-table"
    r"|\.sr-only)")


def _rules(css: str) -> list[tuple[str, str]]:
    """Top-level (prelude, body) pairs; an at-rule's body holds its own rules."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out, depth, start, prelude = [], 0, 0, ""
    for i, ch in enumerate(css):
        if ch == "{":
            if depth == 0:
                prelude, start = css[start:i].strip(), i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append((prelude, css[start:i].strip()))
                start = i + 1
    return out


def _scoped(rules: list[tuple[str, str]]) -> list[str]:
    kept = []
    for prelude, body in rules:
        if prelude.startswith("@media"):
            if "print" in prelude:
                continue
            inner = _scoped(_rules(body))
            if inner:
                kept.append(f"{prelude} {{\n{chr(10).join(inner)}\n}}")
            continue
        selectors = [s.strip() for s in prelude.split(",")]
        if selectors and all(CONTENT.match(s) for s in selectors):
            kept.append(f"{', '.join('.report ' + s for s in selectors)} {{ {body} }}")
    return kept


def report_css() -> bytes:
    source = files("services.reporting.outputs").joinpath("static/dashboard.css").read_text("utf-8")
    rules = _rules(source)
    variables = next((body for prelude, body in rules if prelude == ":root"), "")
    # the colours under other names than ours, so the page keeps its own --ink, --line, ...
    text = "\n".join([f".report {{ {variables} }}", *_scoped(rules)])
    return ("/* From the reporting outputs' dashboard.css: the rules for report content, under .report */\n"
            + text + "\n").encode()
