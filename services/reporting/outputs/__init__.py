"""Outputs of the reporting service: what a ``ReportDocument`` looks like as CSV, XLSX,
PDF and an HTML dashboard, and the routes that serve them (``outputs.api.router``).

Every renderer reads the document through ``outputs.view``, where a hidden cell has no
number; see docs/reporting-outputs.md.
"""

from services.reporting.outputs.dashboard import Page, render_dashboard
from services.reporting.outputs.export_csv import render_csv
from services.reporting.outputs.export_pdf import render_pdf
from services.reporting.outputs.export_xlsx import render_xlsx
from services.reporting.outputs.view import Provenance

__all__ = ["Page", "Provenance", "render_csv", "render_dashboard", "render_pdf", "render_xlsx"]
