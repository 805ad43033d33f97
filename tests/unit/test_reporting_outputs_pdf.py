"""The PDF export: it renders (poppler's pdftoppm turns page 1 into a non-blank image), it
is Dutch with a title page, contents, definitions, charts, tables and what was hidden and
why, the same report gives the same bytes, and a hidden value never reaches the text.

pdftoppm/pdftotext come from the apt package ``poppler-utils``; the tests that need them
skip with that reason when they are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from reportlab.graphics.shapes import Drawing

from services.reporting.outputs import Provenance, render_pdf
from services.reporting.outputs.charts import Rect, chart_of
from services.reporting.outputs.export_pdf import drawing
from tests.unit.test_reporting_outputs import POISON_TEXTS, poisoned
from tests.unit.test_reporting_outputs_sample import sample_document

SOURCE = Provenance(report_id="r-pdf", kind="overview", content_hash="f" * 64, computed_from={"recruitment": 12},
                    created_at="2026-01-05T10:00:00Z")


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is missing: apt-get install poppler-utils")
    return path


def artefact_folders(tmp_path: Path) -> list[Path]:
    folders = [tmp_path]
    wanted = os.environ.get("BUDDY_TEST_ARTIFACTS", "").strip()
    if wanted:
        shared = Path("test-artifacts") if wanted.lower() in {"1", "true", "yes"} else Path(wanted)
        shared.mkdir(parents=True, exist_ok=True)
        folders.append(shared)
    return folders


def text_of(pdf: bytes, tmp_path: Path, name: str = "report.pdf") -> str:
    target = tmp_path / name
    target.write_bytes(pdf)
    return subprocess.run([poppler("pdftotext"), "-layout", str(target), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout


def page_image(pdf: Path, page: int, out: Path) -> Path:
    subprocess.run([poppler("pdftoppm"), "-f", str(page), "-l", str(page), "-r", "80", "-png", "-singlefile",
                    str(pdf), str(out.with_suffix(""))], check=True, capture_output=True, timeout=60)
    return out


def non_white_share(image: Image.Image) -> float:
    grey = image.convert("L")
    histogram = grey.histogram()
    return 1 - sum(histogram[245:]) / sum(histogram)


def test_the_pdf_renders_and_page_one_is_not_blank(tmp_path: Path) -> None:
    pdf = render_pdf(sample_document(), source=SOURCE)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    target = tmp_path / "report.pdf"
    target.write_bytes(pdf)
    for folder in artefact_folders(tmp_path):
        (folder / "reporting-report.pdf").write_bytes(pdf)
        first = page_image(target, 1, folder / "reporting-report-page1.png")
        page_image(target, 4, folder / "reporting-report-page4.png")
    with Image.open(first) as image:
        assert image.size[0] > 500 and image.size[1] > 700  # A4 at 80 dpi
        assert non_white_share(image) > 0.08  # the banner, the title and the facts
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 20


def test_the_pdf_is_dutch_and_has_every_part(tmp_path: Path) -> None:
    doc = sample_document()
    raw = text_of(render_pdf(doc, source=SOURCE), tmp_path)
    text = " ".join(raw.split())
    for part in ("Overzicht buddywerking", "heel Vlaanderen", "1 januari 2025 – 31 december 2025", "Inhoud",
                 "Definities", "Evolutie", "Gestarte duo's per maand", "Van aanmelding tot duo",
                 "Regio's vergeleken", "Wat verborgen is en waarom", "secundaire onderdrukking",
                 "Kies een grovere indeling", "verborgen om personen te beschermen", "r-pdf", "f" * 64,
                 "Gemiddelde wachttijd vrijwilliger", "23,4", "2.910"):
        assert part in text, part
    assert "Definitions" not in text
    assert raw.count("\f") >= 5  # pages


def test_the_pdf_in_english(tmp_path: Path) -> None:
    text = text_of(render_pdf(sample_document(), lang="en"), tmp_path)
    assert "Buddy programmes overview" in text and "What was hidden and why" in text and "2,910" in text


def test_no_value_left_in_a_hidden_cell_reaches_the_pdf(tmp_path: Path) -> None:
    text = text_of(render_pdf(poisoned(), source=SOURCE), tmp_path)
    assert not any(t in text for t in POISON_TEXTS)


def test_the_same_report_gives_the_same_bytes() -> None:
    doc = sample_document()
    assert render_pdf(doc, source=SOURCE) == render_pdf(doc, source=SOURCE)


def test_charts_are_drawn_natively_with_the_same_bars() -> None:
    doc = sample_document()
    view = next(v for s in doc.sections for v in s.tables if v.chart == "funnel")
    out = chart_of(view, width=480, font=8)
    assert out is not None
    d = drawing(out)
    assert isinstance(d, Drawing) and (d.width, d.height) == (480, out.height)
    rects = [s for s in d.contents[0].contents if type(s).__name__ == "Rect"]
    assert len(rects) == sum(isinstance(s, Rect) for s in out.shapes) == 6


def test_odd_and_empty_reports_render(tmp_path: Path) -> None:
    from services.reporting.document import ReportDocument
    from tests.unit.test_reporting_outputs import odd_document

    text = " ".join(text_of(render_pdf(odd_document()), tmp_path).split())
    assert 'Rapport <script>alert("x")</script> & co' in text and "Huurprijzen <stijgen>" in text
    empty = ReportDocument.model_validate({**sample_document().model_dump(mode="json"), "sections": [],
                                           "definitions": [], "notes": [], "suggestions": []})
    assert render_pdf(empty).startswith(b"%PDF-")
