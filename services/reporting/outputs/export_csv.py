"""CSV export: one file, a comment block with the metadata, then every figure in long format.

Layout (docs/reporting-outputs.md):

* UTF-8 with a byte-order mark, so Excel reads the accents right; CRLF line ends.
* Lines starting with ``#`` first: format version, title, scope, period, basis,
  provenance (report id, watermark, content hash), the meaning of the marker, why cells
  are hidden, the report's notes and suggestions, and the definitions. pandas reads the
  file with ``comment="#"``, R with ``comment.char="#"``; with the csv module, skip the
  lines that start with ``#``.
* ``# without_figures <kind> <name>: <reason> (<label>)`` lines name the tables
  (``kind=table``, ``name`` as in the ``table`` column), key figures (``statistic``, the
  indicator) and whole sections (``section``) that show no figure at all — ``reason`` one
  of ``empty``, ``zeros``, ``hidden``, ``zeros_and_hidden`` — which the PDF and the workbook
  leave out (``view.fold``). The CSV itself leaves nothing out: its rows are every published
  cell, so files of several reports line up cell by cell.
* Then one header row and one row per published figure (``COLUMNS``): table cells
  (``kind=cell``) and statistics (``kind=statistic``; a statistic of one period or group
  names it in ``row``, e.g. ``month=2026-03``). Policy-signal summaries are ``# quote`` lines.
* ``table`` names the table uniquely in the file: its own name, or ``indicator/name`` when
  report kinds reuse a name (``by_unit``) for several indicators.
* A hidden figure has an **empty** ``value`` and ``status=hidden``; ``status_label`` says
  what that means. Never a number, and the same status for every hidden cell.
* ``dialect="excel-nl"``: semicolons and decimal commas, for Excel with Dutch regional
  settings (the XLSX export is the better choice there).
* No cell starts like a formula: a text cell starting with = + - @ or a control character
  gets a leading single quote (OWASP's advice against CSV injection), in the rows and in
  every field of a ``#`` line a spreadsheet splits at the delimiter. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from typing import Literal

from shared.contracts.common import formula_like
from services.reporting.document import ReportDocument
from services.reporting.outputs.view import (
    LEGEND, STATUS_LABELS, WHY_HIDDEN, Lang, Provenance, audience_label, basis_label, dims_label, dims_of,
    NO_FIGURE_REASONS, grain_label, grid, fold, pick, quotes_of, statistic, table_ids)

FORMAT_VERSION = "1"
COLUMNS = ["kind", "section", "table", "indicator", "row", "row_label", "column", "column_label", "value", "status",
           "status_label", "rounded", "unit", "units", "title"]
Dialect = Literal["standard", "excel-nl"]


def _line(text: str) -> str:
    return " ".join(str(text).split())


def neutralised(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: a quote before a formula start."""
    if formula_like(text.lstrip(' "')) and not _is_number(text):  # a spreadsheet skips spaces and quotes
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _comment(line: str, delimiter: str) -> str:
    """A ``#`` line whose every field (as a spreadsheet splits it) is neutralised."""
    return delimiter.join(neutralised(part) if part.strip() else part for part in line.split(delimiter))


def _number(value: float | int | None, dialect: Dialect) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    text = repr(float(value))
    return text.replace(".", ",") if dialect == "excel-nl" else text


def comments(doc: ReportDocument, source: Provenance, lang: Lang) -> list[str]:
    meta: list[tuple[str, str]] = [
        ("format", f"buddy-report-csv {FORMAT_VERSION}"),
        ("title", pick(doc.title, lang)),
        ("kind", source.kind or doc.kind),
        ("audience", f"{doc.audience} ({pick(audience_label(doc), lang)})"),
        ("scope", pick(doc.scope_label, lang) + "".join(f"; {k}={v}" for k, v in sorted(doc.scope.items()))),
        ("period", f"{doc.period.start}/{doc.period.end} ({pick(grain_label(doc.period.grain), lang)})"),
        ("basis", f"{doc.basis} ({pick(basis_label(doc), lang)})"),
    ]
    if doc.as_known_on:
        meta.append(("as_known_on", doc.as_known_on))
    if source.report_id:
        meta.append(("report_id", source.report_id))
    if source.created_at:
        meta.append(("published_at", source.created_at))
    if source.computed_from is not None:
        meta.append(("computed_from", " ".join(f"{k}={v}" for k, v in sorted(source.computed_from.items()))))
    if source.content_hash:
        meta.append(("content_hash", f"sha256:{source.content_hash}"))
    meta.append(("language", lang))
    meta.append(("marker", f"{pick(LEGEND, lang)} (value empty, status=hidden)"))
    lines = ["# " + _line(pick({"nl": "Rapport buddywerking — CSV-export; regels met # zijn toelichting",
                                 "en": "Buddy programme report — CSV export; lines starting with # are metadata"}, lang))]
    lines += [f"# {key}: {_line(value)}" for key, value in meta]
    lines += [f"# why_hidden: {_line(pick(t, lang))}" for t in WHY_HIDDEN]
    lines += [f"# note: {_line(pick(n, lang))}" for n in doc.notes]
    lines += [f"# suggestion: {_line(pick(s.message, lang))}" for s in doc.suggestions]
    lines += [f"# without_figures {e.kind} {e.name}: {e.reason} ({pick(NO_FIGURE_REASONS[e.reason], lang)})"
              for e in fold(doc).omitted]
    for section in doc.sections:
        lines += [f"# quote {q.theme} ({_line(pick(q.theme_label, lang))}): {_line(q.text)}" for q in quotes_of(section)]
    for d in doc.definitions:
        lines.append(f"# definition {d.indicator}: {_line(pick(d.title, lang))} — {_line(pick(d.formula, lang))} "
                     f"[{_line(pick(d.unit, lang))}; {', '.join(d.sources)}]")
    return lines


def rows(doc: ReportDocument, lang: Lang, dialect: Dialect = "standard") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    ids = table_ids(doc)
    for section in doc.sections:
        for view in section.statistics:
            shown = statistic(view)
            dims = dims_of(view)
            out.append({
                "kind": "statistic", "section": section.key, "table": view.indicator, "indicator": view.indicator,
                "row": " ".join(f"{k}={v}" for k, v in dims.items()), "row_label": pick(dims_label(dims), lang),
                "column": "", "column_label": "",
                "value": _number(shown.value, dialect), "status": "hidden" if shown.hidden else "shown",
                "status_label": pick(STATUS_LABELS["hidden" if shown.hidden else "shown"], lang), "rounded": "",
                "unit": pick(view.unit, lang), "units": "" if shown.units is None else str(shown.units),
                "title": pick(view.title, lang)})
        for view in section.tables:
            g = grid(view)
            for r in g.rows:
                for c in g.cols:
                    cell = g.cell(r, c)
                    if cell is None:
                        continue
                    out.append({
                        "kind": "cell", "section": section.key, "table": ids[id(view)], "indicator": view.indicator,
                        "row": r, "row_label": pick(g.row_label(r), lang), "column": c,
                        "column_label": pick(g.col_label(c), lang), "value": _number(cell.value, dialect),
                        "status": cell.status, "status_label": pick(STATUS_LABELS[cell.status], lang),
                        "rounded": "true" if cell.rounded else "false", "unit": pick(view.unit, lang), "units": "",
                        "title": pick(view.title, lang)})
    return [{k: neutralised(_line(v)) for k, v in row.items()} for row in out]


def render_csv(doc: ReportDocument, *, source: Provenance | None = None, lang: Lang = "nl",
               dialect: Dialect = "standard") -> bytes:
    """The report as CSV bytes (UTF-8 with BOM)."""
    source = source or Provenance()
    buffer = io.StringIO(newline="")
    delimiter = ";" if dialect == "excel-nl" else ","
    for line in comments(doc, source, lang):
        buffer.write(_comment(line, delimiter) + "\r\n")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=delimiter,
                            lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows(doc, lang, dialect))
    return buffer.getvalue().encode("utf-8-sig")


def read_csv(data: bytes, *, dialect: Dialect = "standard") -> tuple[list[str], list[dict[str, str]]]:
    """Comment lines and rows of an exported file: how a consumer reads it back."""
    text = data.decode("utf-8-sig")
    lines = text.splitlines(keepends=True)
    head = [line.rstrip("\r\n") for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    reader = csv.DictReader(body, delimiter=";" if dialect == "excel-nl" else ",")
    return head, list(reader)
