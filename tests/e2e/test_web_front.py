"""The web front in a real browser, against the four services running as processes.

Debian's Chromium driven by Playwright (never ``playwright install``; skipped with the
reason when ``/usr/bin/chromium`` or the package is missing). The services get the demo
data set (``shared.demo``) with a disclosure threshold of 1, so reports have figures; the
web front runs as ``buddy serve web`` on a free port, a second one with a 2-second idle
timeout for the session-expiry test.

Checks: every demo person signs in with a click; an admin invites a professional on the
staff page and assigns a project, and that professional then sees the project; the
government reader sees Flanders and nothing of a project; an auditor reads a staff
member's history; a coordinator publishes a report, finds
it in the archive and downloads its PDF, XLSX and CSV through the web front; signing out
revokes the session (the old cookie no longer works); a form without its CSRF token is
refused with a 403 page; an idle session goes back to sign-in; a professional of one
project reaches nothing of another project through any page or URL; axe-core finds no
serious or critical violation on any page at 1280 and 390 px; no page breaks its
Content-Security-Policy. A screenshot of every page at both widths goes to
``var/screenshots/`` (``BUDDY_TEST_SCREENSHOTS`` to put them elsewhere).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.demo import load_demo
from shared.embedded import die_with_parent, free_port
from tests.e2e.system import REPO_ROOT, ServiceSystem, eventually

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SCREENSHOTS = Path(os.environ.get("BUDDY_TEST_SCREENSHOTS") or REPO_ROOT / "var" / "screenshots")
PEOPLE = ["dev-admin", "dev-professional", "dev-professional-other", "dev-coordinator", "dev-government",
          "dev-auditor", "dev-buddy"]
NAMES = {"dev-admin": "An Peeters", "dev-professional": "Jonas Claes", "dev-professional-other": "Sara Janssens",
         "dev-coordinator": "Wim Maes", "dev-government": "Els Wouters", "dev-auditor": "Lotte Jacobs",
         "dev-buddy": "Mehmet Yilmaz"}


def playwright_or_skip() -> Any:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is missing: pip install playwright==1.65.2")
    try:
        from axe_playwright_python.sync_playwright import Axe  # noqa: F401
    except ImportError:
        pytest.skip("axe-playwright-python is missing: pip install axe-playwright-python==0.1.8")
    return sync_playwright


# ---------------------------------------------------------------------- the system
@dataclass
class WebFront:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_web(system: ServiceSystem, name: str, port: int | None = None, *, wait: bool = True,
              **env: str) -> WebFront:
    """``buddy serve web`` on ``port`` (default a free one), pointed at the system's services.

    Started from the calling thread (the process ends with that thread); ``wait=False``
    returns at once, to start several side by side and ``wait_ready`` them after."""
    port = port or free_port()
    log = system.log_dir / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "serve", "web"], cwd=REPO_ROOT,
            env={**system.env, "BUDDY_PORT": str(port), "BUDDY_DATA_DIR": str(system.data_dir / name), **env},
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent(signal.SIGTERM))
    web = WebFront(f"http://127.0.0.1:{port}", proc, log)
    if wait:
        wait_ready(web)
    return web


def wait_ready(web: WebFront) -> None:
    def ready() -> bool:
        assert web.proc.poll() is None, f"the web front exited: {web.log.read_text(errors='replace')[-2000:]}"
        return httpx.get(f"{web.url}/readyz", timeout=2).status_code == 200

    eventually(ready, timeout=120)  # a Python start on a busy machine


@dataclass
class World:
    system: ServiceSystem
    web: WebFront
    sleepy: WebFront  # a web front whose sessions end after 2 idle seconds
    browser: Any
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sync_playwright = playwright_or_skip()
    import uuid

    import redis

    from tests.conftest import delete_keys_with_prefix

    prefix = f"t-{uuid.uuid4().hex[:8]}"
    # the demo load records the demo people's staff register through the API, as an admin would
    system = ServiceSystem(redis_url=redis_url, key_prefix=prefix, data_dir=tmp_path_factory.mktemp("web") / "data",
                           overrides={"BUDDY_DISCLOSURE_THRESHOLD": "1", "BUDDY_ROUNDING_BASE": "1"},
                           demo_staff=False)
    webs: list[WebFront] = []
    pw = None
    try:
        system.start_all()
        load_demo(system.urls, year=False)  # the demo people only: the threshold of 1 shows their figures

        def reporting_knows_the_projects() -> bool:
            scopes = httpx.get(f"{system.url('reporting')}/scopes", headers={"Authorization": "Bearer dev-admin"})
            return len(scopes.json()["projects"]) == 3

        eventually(reporting_knows_the_projects, timeout=60)
        webs.append(start_web(system, "web"))
        webs.append(start_web(system, "web-sleepy", BUDDY_WEB_SESSION_IDLE_S="2"))
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield World(system, webs[0], webs[1], browser)
        browser.close()
    finally:
        if pw is not None:
            pw.stop()
        for web in webs:
            web.stop()
        system.stop_all()
        client = redis.Redis.from_url(redis_url)
        try:
            delete_keys_with_prefix(client, prefix)
        finally:
            client.close()


# ---------------------------------------------------------------------- browser helpers
class Visitor:
    """One browser context (own cookies) at one width, watching for CSP and script errors."""

    def __init__(self, world: World, width: str = "desktop", base: str | None = None) -> None:
        self.base = base or world.web.url
        self.width = width
        self.context = world.browser.new_context(viewport=WIDTHS[width], locale="nl-BE", accept_downloads=True)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" and "status of 40" not in m.text else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def goto(self, path: str) -> Any:
        return self.page.goto(f"{self.base}{path}", wait_until="load")

    def sign_in(self, person: str) -> None:
        self.goto("/signin")
        self.page.click(f"button[data-person='{person}']")
        self.page.wait_for_url(f"{self.base}/")

    def cookie(self) -> str:
        return next(c["value"] for c in self.context.cookies() if c["name"] == "buddy_session")

    def check(self, name: str) -> None:
        """Screenshot, axe-core (no serious or critical violation), no CSP or script error."""
        from axe_playwright_python.sync_playwright import Axe

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.width}.png"), full_page=True)
        results = Axe().run(self.page)
        bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
               for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
        assert not bad, f"{name} at {self.width}: {bad}"
        assert not self.problems, f"{name} at {self.width}: {self.problems}"

    def close(self) -> None:
        self.context.close()


@contextlib.contextmanager
def visitor(world: World, width: str = "desktop", base: str | None = None) -> Iterator[Visitor]:
    v = Visitor(world, width, base)
    try:
        yield v
    finally:
        v.close()


def published_report(world: World, person: str, scope: str, title: str) -> str:
    """Publish through the pages as ``person``; the report's id."""
    with visitor(world) as v:
        v.sign_in(person)
        v.goto(f"/reports?scope={scope}")
        v.page.fill("#title", title)
        v.page.click("form.publish button[type=submit]")
        v.page.wait_for_url(re.compile(r".*/archive/r-[0-9a-f]+\?published=1$"))
        return v.page.url.rsplit("/", 1)[1].split("?")[0]


# ---------------------------------------------------------------------- tests
def test_the_sign_in_page_lists_every_demo_person_and_passes_axe(world: World) -> None:
    for width in WIDTHS:
        with visitor(world, width) as v:
            v.goto("/signin")
            for person, name in NAMES.items():
                assert name in v.page.inner_text(f"button[data-person='{person}']")
            assert v.page.locator("html").get_attribute("lang") == "nl"
            v.check("signin")


@pytest.mark.parametrize("person", PEOPLE)
def test_every_demo_person_signs_in_with_a_click_and_sees_their_home(world: World, person: str) -> None:
    for width in WIDTHS:
        with visitor(world, width) as v:
            v.sign_in(person)
            assert NAMES[person] in v.page.inner_text("h1")
            reads_reports = person != "dev-buddy"
            assert (v.page.locator("a[href='/reports']").count() > 0) is reads_reports
            v.check(f"home-{person}")
            if reads_reports:
                v.goto("/reports")
                assert v.page.locator("#scope option").count() > 0
                v.check(f"figures-{person}")
                v.goto("/archive")
                v.check(f"archive-{person}")


def test_a_coordinator_publishes_a_report_finds_it_in_the_archive_and_downloads_it(
        world: World, tmp_path: Path) -> None:
    with visitor(world) as v:
        v.sign_in("dev-coordinator")
        v.goto("/reports")
        options = v.page.locator("#scope option").all_inner_texts()
        assert "Antwerpen-Kempen" in options and all("antwerpen-kempen" not in o for o in options)
        assert not any("Brugge" in o or "Gent" in o for o in options)
        # the form updates the figures in place (htmx), and the address follows
        v.page.select_option("#scope", "region:antwerpen-kempen")
        v.page.check("input[name=grain][value=quarter]")
        with v.page.expect_response(lambda r: "/reports?" in r.url and r.request.headers.get("hx-request") == "true"):
            v.page.click("form.filters button[type=submit]")
        v.page.wait_for_url(re.compile(r".*grain=quarter.*"))
        assert "Antwerpen-Kempen" in v.page.inner_text("#figures h2")
        v.check("figures-coordinator-quarters")
        v.page.fill("#title", "Kwartaalcijfers Antwerpen-Kempen")
        v.page.click("form.publish button[type=submit]")
        v.page.wait_for_url(re.compile(r".*/archive/r-[0-9a-f]+\?published=1$"))
        assert "Het rapport is gepubliceerd." in v.page.inner_text("main")
        assert v.page.inner_text("h1") == "Kwartaalcijfers Antwerpen-Kempen"
        v.check("report-published")
        published_at = v.page.url

        v.goto("/archive")
        item = v.page.locator("li.archive-item", has_text="Kwartaalcijfers Antwerpen-Kempen")
        assert item.count() == 1
        text = item.inner_text()
        assert "Wim Maes" in text and "Regiocoördinatoren: Antwerpen-Kempen" in text
        v.check("archive-after-publishing")

        magic = {"pdf": b"%PDF", "xlsx": b"PK", "csv": None}
        for fmt, start in magic.items():
            with v.page.expect_download() as info:
                item.locator(f"a[href$='/download/{fmt}']").click()
            path = tmp_path / f"report.{fmt}"
            info.value.save_as(path)
            data = path.read_bytes()
            assert len(data) > 100, fmt
            if start is not None:
                assert data.startswith(start), fmt
            else:
                assert "antwerpen" in data.decode("utf-8-sig").lower(), data[:300]

        v.goto("/archive")
        v.page.click("button:has-text('English')")
        v.page.wait_for_url(f"{v.base}/archive")
        assert v.page.inner_text("h1") == "Published reports"
        assert "Regional coordinators: Antwerp-Campine" in v.page.inner_text("main")  # the region list's English name
        v.check("archive-en")
    with visitor(world, "phone") as v:  # the published report, on a phone
        v.sign_in("dev-coordinator")
        v.page.goto(published_at, wait_until="load")
        assert v.page.inner_text("h1") == "Kwartaalcijfers Antwerpen-Kempen"
        assert_charts_fit_the_screen(v)
        v.check("report-published")


def test_a_publish_form_sent_twice_records_one_report(world: World) -> None:
    """A double click or a resent form: the form's Idempotency-Key makes the second the first's answer."""
    with visitor(world) as v:
        v.sign_in("dev-coordinator")
        v.goto("/reports?scope=region:antwerpen-kempen")
        v.page.fill("#title", "Twee keer verstuurd")
        form = v.page.locator("form.publish")
        fields = {name: form.locator(f"input[name='{name}']").first.get_attribute("value") or ""
                  for name in form.locator("input[type=hidden]").evaluate_all("els => els.map(e => e.name)")}
        fields["title"] = "Twee keer verstuurd"
        assert fields["idempotency_key"]
        first = v.page.request.post(f"{v.base}/reports/publish", form=fields, max_redirects=0)
        again = v.page.request.post(f"{v.base}/reports/publish", form=fields, max_redirects=0)
        assert first.status == again.status == 303
        assert first.headers["location"] == again.headers["location"]  # the same report
        v.goto("/archive")
        assert v.page.locator("li.archive-item", has_text="Twee keer verstuurd").count() == 1


def test_signing_out_revokes_the_session_so_the_old_cookie_no_longer_works(world: World) -> None:
    for width in WIDTHS:
        with visitor(world, width) as v:
            v.sign_in("dev-auditor")
            old = v.cookie()
            with httpx.Client(base_url=world.web.url, cookies={"buddy_session": old}) as client:
                assert client.get("/archive").status_code == 200
            v.page.click("header form[action='/signout'] button")
            v.page.wait_for_url(re.compile(r".*/signin\?ended=1$"))
            assert "U bent afgemeld." in v.page.inner_text("main")
            v.check("signed-out")
    with httpx.Client(base_url=world.web.url, cookies={"buddy_session": old}) as client:
        for path in ("/", "/archive", "/reports"):
            resp = client.get(path)
            assert resp.status_code == 303 and resp.headers["location"] == "/signin", path


def test_a_form_without_its_csrf_token_is_refused_with_a_page(world: World) -> None:
    with httpx.Client(base_url=world.web.url) as client:
        page = client.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        refused = client.post("/signin", data={"person": "dev-admin"})
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert "Dit formulier is verlopen" in refused.text
        wrong = client.post("/signin", data={"person": "dev-admin", "csrf_token": token[::-1]})
        assert wrong.status_code == 403
        signed_in = client.post("/signin", data={"person": "dev-admin", "csrf_token": token})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        # a new session after sign-in: the anonymous session's token no longer counts
        home = client.get("/")
        new_token = re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
        assert new_token != token
        publish = {"audience": "government", "period_start": "2026-01-01", "period_end": "2026-01-31",
                   "grain": "month", "title": "Zonder token"}
        assert client.post("/reports/publish", data=publish).status_code == 403
        assert client.post("/reports/publish", data={**publish, "csrf_token": token}).status_code == 403
        assert client.post("/signout", data={}).status_code == 403
        assert client.get("/").status_code == 200  # still signed in: the refused sign-out did nothing
    for width in WIDTHS:
        with visitor(world, width) as v:  # the same refusal, as the browser shows it
            v.goto("/signin")
            v.page.evaluate("document.querySelector(\"form[action='/signin'] input[name=csrf_token]\").remove()")
            v.page.click("button[data-person='dev-admin']")
            v.page.wait_for_load_state("load")
            assert "Dit formulier is verlopen" in v.page.inner_text("main")
            assert "{" not in v.page.inner_text("body")  # a page, never a JSON body
            v.problems.clear()  # the 403 itself is logged by the browser
            v.check("error-csrf")


def test_a_session_idle_past_its_timeout_goes_back_to_sign_in(world: World) -> None:
    import time

    with visitor(world, base=world.sleepy.url) as v:
        v.sign_in("dev-coordinator")
        v.goto("/archive")
        assert v.page.url == f"{v.base}/archive"
        time.sleep(3)  # the idle timeout is 2 s
        v.goto("/archive")
        assert v.page.url == f"{v.base}/signin"
        assert v.page.locator("button[data-person]").count() == len(PEOPLE)


def test_a_professional_of_one_project_reaches_nothing_of_another(world: World) -> None:
    # Jonas works in Antwerpen and Gent; Sara only in Brugge.
    report_id = published_report(world, "dev-professional", "project:demo-antwerpen", "Antwerpen intern")
    with visitor(world) as v:
        v.sign_in("dev-professional-other")
        v.goto("/reports")
        options = v.page.locator("#scope option").all_inner_texts()
        assert options == ["Buddy Brugge (demo) (West-Vlaanderen)"]
        for path in ("/reports?scope=project:demo-antwerpen", "/reports?scope=region:antwerpen-kempen",
                     "/reports?scope=flanders"):
            v.goto(path)
            assert "Kies een van de regio's of projecten" in v.page.inner_text("main"), path
            assert "Antwerpen" not in v.page.inner_text("#figures"), path
        v.goto("/archive")
        assert "Antwerpen intern" not in v.page.inner_text("main")
        for path in (f"/archive/{report_id}", *(f"/archive/{report_id}/download/{f}" for f in ("pdf", "xlsx", "csv"))):
            response = v.goto(path)
            assert response.status in (403, 404), path
            assert "Antwerpen" not in v.page.inner_text("main"), path
        v.problems.clear()  # the refusals are logged by the browser
        v.check("error-no-access")
    with visitor(world) as v:  # and Jonas does reach it
        v.sign_in("dev-professional")
        assert v.goto(f"/archive/{report_id}").status == 200
        assert v.page.inner_text("h1") == "Antwerpen intern"


def test_an_unknown_page_is_a_page_in_the_readers_language(world: World) -> None:
    for width in WIDTHS:
        with visitor(world, width) as v:
            v.sign_in("dev-admin")
            response = v.goto("/nergens")
            assert response.status == 404
            assert "Deze pagina bestaat niet." in v.page.inner_text("main")
            v.problems.clear()
            v.check("error-not-found")


# ---------------------------------------------------------------------- phones, field errors, empty sections
CHART_TEXT_PX = 11.5  # the smallest text a chart may show on the screen, in CSS pixels

CHART_CHECK = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    if (box.width === 0) continue;  // the other layout, not shown at this width
    const scale = box.width / svg.viewBox.baseVal.width;
    const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim());
    const boxes = texts.map(t => t.getBoundingClientRect());
    const small = texts.map(t => parseFloat(t.getAttribute('font-size')) * scale).filter(px => px < %s);
    let overlaps = 0;
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) overlaps++;
    }
    out.push({cls: svg.getAttribute('class'), title: svg.querySelector('title').textContent,
              small: small.length, smallest: Math.min(...small, 99), overlaps,
              table: !!svg.closest('article').querySelector('details.tv-table table.data')});
  }
  return {charts: out, scroll: document.documentElement.scrollWidth, width: window.innerWidth};
}""" % CHART_TEXT_PX


def assert_charts_fit_the_screen(v: Visitor) -> None:
    """Every chart shown is legible where it is shown: text at least CHART_TEXT_PX on screen,
    no two labels on top of each other, its figures also as a table, no sideways scrolling
    of the page; on a phone the layout made for a phone is the one shown."""
    found = v.page.evaluate(CHART_CHECK)
    charts = found["charts"]
    assert charts, "no chart on the page"
    for chart in charts:
        assert chart["small"] == 0, f"{chart['title']}: text of {chart['smallest']:.1f} px at {v.width}"
        assert chart["overlaps"] == 0, f"{chart['title']}: {chart['overlaps']} labels overlap at {v.width}"
        assert chart["table"], f"{chart['title']}: no table of its figures"
        assert ("chart-narrow" in chart["cls"]) is (v.width == "phone"), chart
    assert found["scroll"] <= found["width"], f"the page scrolls sideways at {v.width}: {found}"


def test_charts_are_legible_at_both_widths_and_their_figures_are_also_tables(world: World) -> None:
    for width in WIDTHS:
        with visitor(world, width) as v:
            v.sign_in("dev-coordinator")
            v.goto("/reports?scope=region:antwerpen-kempen")
            assert_charts_fit_the_screen(v)
            v.check("figures-coordinator-charts")


def test_a_refused_choice_is_shown_next_to_its_field_in_the_readers_language(world: World) -> None:
    for width in WIDTHS:
        with visitor(world, width) as v:
            v.sign_in("dev-coordinator")
            response = v.goto("/reports?scope=region:antwerpen-kempen&from=2026-13&to=2025-01&grain=week")
            assert response.status == 422
            for field, error in (("#from", "from-error"), ("#grain-month", "grain-error")):
                assert v.page.get_attribute(field, "aria-invalid") == "true", field
                assert error in (v.page.get_attribute(field, "aria-describedby") or "").split(), field
            assert v.page.inner_text("#from-error") == "Kies een maand."
            assert v.page.inner_text("#grain-error") == "Kies maand, kwartaal of jaar."
            summary = v.page.inner_text(".error-summary")
            assert "Kies een maand." in summary and v.page.locator(".error-summary a[href='#from']").count() == 1
            v.problems.clear()  # the 422 is logged by the browser
            v.check("figures-field-errors")

            # a period the wrong way round: the message is at the last month
            v.goto("/reports?scope=region:antwerpen-kempen&from=2026-03&to=2026-01")
            assert v.page.get_attribute("#to", "aria-invalid") == "true"
            assert v.page.inner_text("#to-error") == "De laatste maand ligt voor de eerste."

            # the publish form: an empty title is refused beside the field, the figures stay
            v.goto("/reports?scope=region:antwerpen-kempen&grain=quarter")
            v.page.fill("#title", "   ")
            v.page.click("form.publish button[type=submit]")
            v.page.wait_for_load_state("load")
            assert v.page.get_attribute("#title", "aria-invalid") == "true"
            assert "title-error" in (v.page.get_attribute("#title", "aria-describedby") or "").split()
            assert v.page.inner_text("#title-error") == "Geef het rapport een titel."
            assert "Antwerpen-Kempen" in v.page.inner_text("#figures h2")  # the figures shown again
            assert v.page.locator("input[name=grain][value=quarter]").first.is_checked()
            v.problems.clear()
            v.check("publish-title-error")

            # a title the reporting service refuses (a control character): its own sentence, in English too
            v.page.click("button:has-text('English')")
            v.page.wait_for_load_state("load")
            v.goto("/reports?scope=region:antwerpen-kempen")
            v.page.fill("#title", "Cijfers\u0007 van het jaar")
            v.page.click("form.publish button[type=submit]")
            v.page.wait_for_load_state("load")
            assert v.page.inner_text("#title-error") == "Control characters (such as NUL) are not allowed"
            assert v.page.input_value("#title") == "Cijfers\u0007 van het jaar"
            v.problems.clear()
            v.check("publish-title-error-en")


def test_sections_without_figures_are_left_out_with_a_line_naming_them(world: World) -> None:
    with visitor(world, "phone") as v:
        v.sign_in("dev-professional-other")  # Buddy Brugge: projects registered, nobody in it
        v.goto("/reports")
        line = v.page.inner_text(".empty-sections")
        assert line.startswith("Geen cijfers te tonen in:") and "Beleidssignalen" in line
        assert v.page.locator("section.report-section").count() == 0
        assert "Dit rapport heeft geen cijfers om te tonen." in v.page.inner_text("#figures")
        v.check("figures-small-project")
# ---------------------------------------------------------------------- staff and roles
def scope_options(v: Visitor) -> list[str]:
    v.goto("/reports")
    return v.page.locator("#scope option").all_inner_texts()


def test_the_government_reader_sees_flanders_and_nothing_of_a_project(world: World) -> None:
    for width in WIDTHS:
        with visitor(world, width) as v:
            v.sign_in("dev-government")
            assert "Overheid" in v.page.inner_text("header")
            v.goto("/reports")
            assert v.page.locator("#scope option").evaluate_all("os => os.map(o => o.value)") == ["flanders"]
            assert "Vlaanderen" in v.page.inner_text("#figures h2")
            v.check("figures-government")
            v.goto("/reports?scope=project:demo-gent")
            assert v.page.locator("#scope-error").count() == 1  # not one of theirs
            v.goto("/staff")
            assert v.page.locator("table.staff-table").count() == 0  # no staff register for them
    token = {"Authorization": "Bearer dev-government"}
    reporting, recruitment = world.system.url("reporting"), world.system.url("recruitment")
    flanders = httpx.get(f"{reporting}/reports/overview", headers=token,
                         params={"period_start": "2026-01-01", "period_end": "2026-03-31", "audience": "government"})
    assert flanders.status_code == 200, flanders.text
    for path, params in (("/reports/overview", {"period_start": "2026-01-01", "period_end": "2026-03-31",
                                                "audience": "project", "project_id": "demo-gent"}),
                         ("/reports/overview", {"period_start": "2026-01-01", "period_end": "2026-03-31",
                                                "audience": "coordinator", "region": "antwerpen-kempen"})):
        assert httpx.get(f"{reporting}{path}", headers=token, params=params).status_code == 403
    assert httpx.get(f"{recruitment}/projects/demo-gent/volunteers", headers=token).status_code == 403


def test_an_admin_invites_a_professional_who_then_sees_the_project(world: World) -> None:
    """Through the staff pages only: remove Sara, invite her again, assign her another project."""
    with visitor(world) as sara:
        sara.sign_in("dev-professional-other")
        before = scope_options(sara)
        assert any("Buddy Brugge" in o for o in before) and not any("Samen Sterk Gent" in o for o in before)

    for width in WIDTHS:
        with visitor(world, width) as v:
            v.sign_in("dev-admin")
            v.goto("/staff")
            rows = v.page.inner_text("table.staff-table")
            assert "Jonas Claes" in rows and "Buddywerking Antwerpen (demo)" in rows and "Antwerpen-Kempen" in rows
            assert "antwerpen-kempen" not in rows and "demo-antwerpen" not in rows  # names, never codes
            v.check("staff")

    with visitor(world) as admin:
        admin.sign_in("dev-admin")
        admin.goto("/staff")
        admin.page.click("table.staff-table a:text('Sara Janssens')")
        admin.check("staff-member")
        admin.page.click("button.danger")
        assert "verwijderd" in admin.page.inner_text("p.notice")

        # field errors next to their field, in the reader's language
        admin.goto("/staff")
        admin.page.fill("#email", "geen-adres")
        admin.page.click("form.publish button[type=submit]")
        assert admin.page.inner_text("#name-error") == "Geef de naam van de persoon."
        assert "naam@organisatie.be" in admin.page.inner_text("#email-error")
        # the page with the refused form is answered 422 on purpose: the browser logs that status
        admin.problems = [p for p in admin.problems if "status of 422" not in p]
        admin.check("staff-invite-errors")

        admin.page.fill("#name", "Sara Janssens")
        admin.page.fill("#email", "sara.janssens@example.org")
        admin.page.fill("#subject", "dev-professional-other")
        admin.page.click("form.publish button[type=submit]")
        admin.page.wait_for_url(re.compile(r".*/staff/s-[0-9a-f]+\?done=invited$"))
        staff_url = admin.page.url.split("?")[0]
        admin.page.select_option("#project_id", label="Samen Sterk Gent (demo)")
        admin.page.click("form[action$='/projects'] button[type=submit]")
        assert "vastgelegd" in admin.page.inner_text("p.notice")
        assert "Samen Sterk Gent (demo)" in admin.page.inner_text("ul.assignments")
        for width in WIDTHS:
            with visitor(world, width) as v:
                v.sign_in("dev-admin")
                v.page.goto(staff_url)
                v.check("staff-member-assigned")

    def sara_sees_gent() -> bool:
        with visitor(world) as again:
            again.sign_in("dev-professional-other")
            options = scope_options(again)
            return any("Samen Sterk Gent" in o for o in options) and not any("Buddy Brugge" in o for o in options)

    eventually(sara_sees_gent, timeout=30)

    with visitor(world) as auditor:  # the history, by name, for an auditor; no forms
        auditor.sign_in("dev-auditor")
        auditor.page.goto(staff_url)
        history = auditor.page.inner_text("ol.history")
        assert "Uitgenodigd" in history and "Toegewezen aan een project: Samen Sterk Gent (demo)" in history
        assert "door An Peeters" in history
        assert auditor.page.locator("form[action$='/removal']").count() == 0
        auditor.check("staff-history")
