"""``/docs`` and ``/redoc`` render in a real browser with every other host cut off.

A matching service runs under uvicorn on a free port; Debian's Chromium (driven by
Playwright) loads its Swagger UI and ReDoc pages while every request to another host is
aborted, as on a machine without internet. Swagger UI must list the operations and ReDoc
must draw its menu, with no request leaving the service and no page error. The one thing
the pages' Content-Security-Policy refuses is the logo ReDoc would fetch from its CDN.

Needs ``/usr/bin/chromium`` (apt package ``chromium``) and the ``playwright`` Python
package; never ``playwright install``. Skips with the reason when either is missing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from shared.embedded import free_port
from services.matching.bootstrap import build as build_matching
from tests.e2e.test_reporting_dashboard import ARGS, CHROMIUM, artefact_folders, playwright_or_skip

pytestmark = pytest.mark.e2e

NOWHERE = {"recruitment": "http://127.0.0.1:9", "matching": "http://127.0.0.1:9"}  # upstream feeds are not running


@pytest.fixture
def served(settings_factory: Any) -> Iterator[str]:
    import uvicorn

    app = build_matching(settings_factory(service_urls=NOWHERE))  # development: the pages are public
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="api-docs-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:  # waiting for start-up, not asserting on time
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the matching service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_swagger_ui_and_redoc_render_offline_in_chromium(served: str, tmp_path: Path) -> None:
    sync_playwright = playwright_or_skip()
    own = urlsplit(served).netloc
    blocked: list[str] = []
    problems: list[str] = []
    refused: list[str] = []  # what the pages' Content-Security-Policy stopped before it left the browser

    def console(message: Any) -> None:
        if message.type != "error":
            return
        found = re.match(r"Loading the \w+ '([^']+)' violates the following Content Security Policy", message.text)
        (refused if found else problems).append(found.group(1) if found else f"console: {message.text}")

    def offline(route: Any) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme in {"data", "blob"} or parts.netloc == own:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", offline)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("console", console)

            response = page.goto(f"{served}/docs", wait_until="load")
            assert response is not None and response.status == 200
            page.wait_for_selector(".opblock", timeout=30_000)
            assert page.locator(".opblock").count() > 10  # matching's operations, listed
            assert "Matching" in page.locator(".info .title").inner_text()
            for folder in artefact_folders(tmp_path):
                page.screenshot(path=str(folder / "api-docs-swagger.png"))

            response = page.goto(f"{served}/redoc", wait_until="load")
            assert response is not None and response.status == 200
            page.wait_for_selector("[role=menuitem], .menu-content li", timeout=30_000)
            assert page.locator("h1").first.inner_text().startswith("Matching")
            assert page.locator("[data-section-id^='operation/'], [id^='operation/']").count() > 10
            for folder in artefact_folders(tmp_path):
                page.screenshot(path=str(folder / "api-docs-redoc.png"))
        finally:
            browser.close()
    finally:
        pw.stop()
    assert blocked == [], "the pages asked another host for something"
    assert problems == []
    # ReDoc's menu footer always shows Redocly's logo from its CDN; the policy keeps it home (no image)
    assert set(refused) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}, refused
