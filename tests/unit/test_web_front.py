"""The web front without a browser: catalogs, vendored files, sessions, headers, cookies,
CSRF, and the report helpers (periods, empty sections, names instead of codes)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.clock import FixedClock
from shared.eventstore import make_engine
from shared.settings import Settings
from services.web import i18n
from services.web.bootstrap import build
from services.web.config import WebSettings
from services.web.reportview import ScopeChoices, has_figures, month_choices, period_of
from services.web.sessions import SessionStore, Tokens, sessions
from services.web.signin import DemoSignIn

WEB = Path(__file__).resolve().parents[2] / "services" / "web"
KEYWORDS = {"_": None, "N_": None, "PageError": (2,)}


def message_ids() -> set[str]:
    """Every text the templates and the code of the web front give to be translated."""
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
    return {m[0] if isinstance(m, tuple) else m
            for _f, _l, m, _c, _x in extract_from_dir(str(WEB), method_map, keywords=KEYWORDS, options_map=options)}


def test_every_text_has_a_dutch_and_an_english_translation() -> None:
    wanted = message_ids()
    assert len(wanted) > 50
    catalogs = i18n.load_catalogs()
    for lang in ("nl", "en"):
        missing = sorted(wanted - set(catalogs[lang]))
        assert not missing, f"{lang}: untranslated {missing}"
    assert catalogs["nl"]["Sign in"] == "Aanmelden" and catalogs["en"]["Sign in"] == "Sign in"
    unused = sorted(set(catalogs["nl"]) - wanted)
    assert not unused, f"catalog entries no page uses any more: {unused}"


def test_placeholders_survive_translation() -> None:
    catalogs = i18n.load_catalogs()
    for msgid, text in catalogs["nl"].items():
        assert set(re.findall(r"{\w+}", msgid)) == set(re.findall(r"{\w+}", text)), msgid


def test_the_vendored_htmx_is_the_one_noted_with_its_licence() -> None:
    vendor = WEB / "static" / "vendor"
    note = (vendor / "README.md").read_text()
    digest = hashlib.sha256((vendor / "htmx-2.0.11.min.js").read_bytes()).hexdigest()
    assert digest in note and "2.0.11" in note and "Zero-Clause BSD" in (vendor / "htmx-LICENSE.txt").read_text()
    assert "htmx-2.0.11.min.js" in (WEB / "templates" / "base.html").read_text()


def test_no_template_has_inline_script_or_style() -> None:
    for path in (WEB / "templates").glob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path.name
        assert " style=" not in text and "<style" not in text and " on" + "click=" not in text, path.name


def test_dates_months_and_numbers_follow_the_language_and_today_is_brusselss() -> None:
    assert i18n.month(date(2026, 3, 1), "nl") == "maart 2026"
    assert i18n.month(date(2026, 3, 1), "en") == "March 2026"
    assert i18n.number(1234.5, "nl") == "1.234,5" and i18n.number(1234.5, "en") == "1,234.5"
    assert i18n.today(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2027, 1, 1)  # already new year in Brussels
    assert i18n.moment("2026-07-01T10:00:00Z", "nl").startswith("1 juli 2026") and "12:00" in i18n.moment(
        "2026-07-01T10:00:00Z", "nl")


def test_periods_are_whole_months_quarters_or_years() -> None:
    # one whole calendar period, the smallest holding both months (reports are released for no other)
    assert period_of("2026-02", "2026-05", "month") == (date(2026, 1, 1), date(2026, 12, 31))
    assert period_of("2026-04", "2026-06", "month") == (date(2026, 4, 1), date(2026, 6, 30))
    assert period_of("2026-05", "2026-05", "month") == (date(2026, 5, 1), date(2026, 5, 31))
    assert period_of("2026-05", "2026-05", "quarter") == (date(2026, 4, 1), date(2026, 6, 30))
    assert period_of("2026-05", "2026-05", "year") == (date(2026, 1, 1), date(2026, 12, 31))
    assert period_of("2025-12", "2026-01", "year") is None  # two calendar years: no one period holds them
    assert period_of("2026-13", "2026-01", "month") is None and period_of("", "2026-01", "month") is None
    months = month_choices(date(2026, 1, 20), "nl")
    assert [m.value for m in months[:3]] == ["2026-01", "2025-12", "2025-11"] and months[1].label == "december 2025"


def test_scope_choices_name_regions_and_projects() -> None:
    data = {"flanders": True, "regions": [{"code": "antwerpen-kempen", "name": "Antwerpen-Kempen"}],
            "projects": [{"project_id": "p1", "title": "Buddy Brugge", "region": "west-vlaanderen",
                          "region_name": "West-Vlaanderen"}]}
    choices = ScopeChoices.of(data, i18n.translator("nl"))
    assert [(o.value, o.label) for o in choices.options] == [
        ("flanders", "Heel Vlaanderen"), ("region:antwerpen-kempen", "Antwerpen-Kempen"),
        ("project:p1", "Buddy Brugge (West-Vlaanderen)")]
    assert choices.find("project:p1").parameters == {"audience": "project", "project_id": "p1"}  # type: ignore[union-attr]
    assert choices.find("project:p2") is None
    assert choices.describe({"region": "antwerpen-kempen"}, i18n.translator("nl")) == "Antwerpen-Kempen"


def test_a_section_without_a_released_figure_has_no_figures() -> None:
    from tests.unit.test_reporting_outputs_sample import sample_document

    doc = sample_document("government")
    assert any(has_figures(s) for s in doc.sections)
    emptied = doc.sections[0].model_copy(update={"tables": [], "statistics": []})
    assert not has_figures(emptied)


# ---------------------------------------------------------------------- sessions
def store(tmp_path: Path, clock: FixedClock, idle_s: int = 60, max_s: int = 600) -> SessionStore:
    s = SessionStore(make_engine(f"sqlite:///{tmp_path / 'web.db'}"), clock, idle_s=idle_s, max_s=max_s)
    s.create_table()
    return s


def test_a_session_ends_when_idle_too_long_or_too_old_and_when_revoked(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC))
    sessions_ = store(tmp_path, clock)
    s = sessions_.sign_in(None, person="dev-admin", role="admin", tokens=Tokens(access="dev-admin"))
    for _ in range(12):  # busy: every 50 s, so never idle, until the 600 s lifetime is over
        clock.advance(seconds=50)
        assert sessions_.get(s.id) is not None
    clock.advance(seconds=50)
    assert sessions_.get(s.id) is None
    idle = sessions_.sign_in(None, person="dev-admin", role="admin", tokens=Tokens(access="dev-admin"))
    clock.advance(seconds=61)
    assert sessions_.get(idle.id) is None
    revoked = sessions_.sign_in(None, person="dev-admin", role="admin", tokens=Tokens(access="dev-admin"))
    sessions_.revoke(revoked.id)
    assert sessions_.get(revoked.id) is None


def test_signing_in_replaces_the_session_and_the_table_never_holds_the_cookie(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC))
    sessions_ = store(tmp_path, clock)
    anonymous = sessions_.new()
    signed = sessions_.sign_in(anonymous, person="dev-auditor", role="auditor", tokens=Tokens(access="dev-auditor"))
    assert signed.id != anonymous.id and signed.csrf != anonymous.csrf
    assert sessions_.get(anonymous.id) is None
    with sessions_.engine.connect() as conn:
        keys = conn.execute(select(sessions.c.id_hash)).scalars().all()
    assert signed.id not in keys and hashlib.sha256(signed.id.encode()).hexdigest() in keys


# ---------------------------------------------------------------------- the app
def fake_services(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == "Bearer dev-coordinator"
    if request.url.path == "/reports":
        return httpx.Response(200, json={"items": [], "total": 0, "limit": 200, "offset": 0})
    if request.url.path == "/scopes":
        return httpx.Response(200, json={"flanders": False, "regions": [{"code": "antwerpen-kempen",
                                                                          "name": "Antwerpen-Kempen"}], "projects": []})
    if request.url.path == "/reports/overview":
        from tests.unit.test_reporting_outputs_sample import sample_document

        assert request.url.params["region"] == "antwerpen-kempen" and request.url.params["audience"] == "coordinator"
        return httpx.Response(200, json={"content": sample_document("coordinator").model_dump(mode="json")})
    return httpx.Response(404, json={"detail": "Niet gevonden / Not found"})


def client(tmp_path: Path, **settings: Any) -> TestClient:
    app = build(Settings(data_dir=tmp_path, **settings), web_settings=WebSettings(), provider=DemoSignIn(),
                transport=httpx.MockTransport(fake_services))
    return TestClient(app, base_url="http://testserver")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_pages_carry_the_security_headers_and_a_strict_policy(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        for path in ("/signin", "/nowhere", "/static/app.css"):
            resp = c.get(path)
            csp = resp.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
            assert resp.headers["x-frame-options"] == "DENY" and resp.headers["x-content-type-options"] == "nosniff"
            assert resp.headers["referrer-policy"] == "same-origin"
        assert c.get("/nowhere").headers["content-type"].startswith("text/html")


def test_the_session_cookie_is_httponly_lax_and_secure_only_in_production(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        cookie = c.get("/signin").headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    key = base64.b64encode(b"k" * 32).decode()
    production = {"env": "production", "redis_url": "redis://127.0.0.1:1/0", "database_url": f"sqlite:///{tmp_path}/{{service}}.db",
                  "master_key": key, "blind_index_key": key, "bus_key": key, "oidc_issuer": "https://idp", "oidc_audience": "buddy",
                  "oidc_jwks_url": "https://idp/jwks", "service_token": "s" * 32}
    with client(tmp_path, **production) as c:
        resp = c.get("/signin")
        assert "Secure" in resp.headers["set-cookie"]
        assert "max-age=31536000" in resp.headers["strict-transport-security"]


def test_sign_in_needs_the_csrf_token_and_sign_out_revokes(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        token = csrf_of(c.get("/signin").text)
        refused = c.post("/signin", data={"person": "dev-coordinator"}, follow_redirects=False)
        assert refused.status_code == 403 and "Dit formulier is verlopen" in refused.text
        unknown = c.post("/signin", data={"person": "nobody", "csrf_token": token}, follow_redirects=False)
        assert unknown.status_code == 422
        ok = c.post("/signin", data={"person": "dev-coordinator", "csrf_token": token}, follow_redirects=False)
        assert ok.status_code == 303
        home = c.get("/")
        assert home.status_code == 200 and "Wim Maes" in home.text
        assert c.get("/archive").status_code == 200
        old = c.cookies.get("buddy_session")
        out = c.post("/signout", headers={"X-CSRF-Token": csrf_of(home.text)}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/signin?ended=1"
        c.cookies.set("buddy_session", old)  # type: ignore[arg-type]
        assert c.get("/", follow_redirects=False).headers["location"] == "/signin"


def test_the_language_is_remembered_and_only_local_paths_are_returned_to(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        token = csrf_of(c.get("/signin").text)
        resp = c.post("/lang", data={"lang": "en", "next": "//evil.example/x", "csrf_token": token},
                      follow_redirects=False)
        assert resp.headers["location"] == "/"
        page = c.get("/signin")
        assert '<html lang="en">' in page.text and "<h1>Sign in</h1>" in page.text


def test_every_web_setting_is_in_the_readme() -> None:
    readme = (WEB.parents[1] / "README.md").read_text()
    missing = [f"BUDDY_WEB_{n.upper()}" for n in WebSettings.model_fields if f"`BUDDY_WEB_{n.upper()}`" not in readme]
    assert not missing, missing


def signed_in(c: TestClient, person: str = "dev-coordinator") -> None:
    token = csrf_of(c.get("/signin").text)
    assert c.post("/signin", data={"person": person, "csrf_token": token}, follow_redirects=False).status_code == 303


def test_htmx_gets_the_form_and_figures_alone_with_errors_next_to_their_field(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        signed_in(c)
        full = c.get("/reports", params={"scope": "region:antwerpen-kempen", "from": "2026-01", "to": "2026-03"})
        assert full.status_code == 200 and "<html" in full.text and 'id="figures"' in full.text
        assert '<option value="region:antwerpen-kempen" selected>Antwerpen-Kempen</option>' in full.text
        part = c.get("/reports", params={"scope": "region:antwerpen-kempen", "from": "2026-01", "to": "2026-03"},
                     headers={"HX-Request": "true"})
        assert part.text.startswith('<div id="dashboard">') and "<html" not in part.text
        assert 'class="report-section"' in part.text
        # months of two calendar years: no one calendar period holds them (reports cover no other)
        wrong = c.get("/reports", params={"scope": "region:antwerpen-kempen", "from": "2025-11", "to": "2026-03"},
                      headers={"HX-Request": "true"})
        assert 'aria-invalid="true" aria-describedby="from-error"' in wrong.text
        assert ('<p class="field-error" id="from-error">Kies maanden van één kalenderjaar: het rapport gaat over de '
                'maand, het kwartaal of het jaar waarin ze vallen.</p>') in wrong.text
        assert 'class="report-section"' not in wrong.text
        other = c.get("/reports", params={"scope": "project:elsewhere"})
        assert "Kies een van de regio" in other.text and 'class="report-section"' not in other.text
