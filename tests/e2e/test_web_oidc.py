"""Signing in to the web front with a real OpenID provider (``oidc-provider`` on Node).

The services run as processes accepting the provider's access tokens (``BUDDY_OIDC_*``:
its issuer, its JWKS, the audience ``buddy-api``); the web front signs in with the
provider's client ``buddy-web`` (public, PKCE required). Access tokens live 6 seconds, so
refresh happens for real. A second web front signs in with the provider's other client,
whose access tokens are for another audience; a third reads discovery from a closed port
(the provider is down).

Checks: a coordinator signs in through the provider's login form and reaches the figures;
a page after the access token expired still works (the token was refreshed with the
refresh token); sign-out ends the session here and at the provider; a wrong ``state``, a
replayed code, a token for another audience, ``error=access_denied`` and an unreachable
provider each give the error page in 4xx/503 with a "try again" link and no session; no
token reaches the web front's log; axe-core finds no serious or critical violation on the
sign-in page and the error page at 1280 and 390 px (screenshots in ``var/screenshots/``).
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import jwt
import pytest
from sqlalchemy import create_engine, select

from shared.embedded import free_port
from services.web.sessions import sessions, unseal
from tests.e2e.system import ServiceSystem, eventually
from tests.e2e.test_web_front import (ARGS, CHROMIUM, WIDTHS, WebFront, playwright_or_skip, start_web, visitor,
                                      wait_ready)
from tests.oidc.provider import AUDIENCE, STAFF, Client, OpenIdProvider, installed_provider

pytestmark = pytest.mark.e2e

ACCESS_TTL_S = 6
ORGANISATION = "Stad Testdorp"
COORDINATOR = "wim.maes"


@dataclass
class OidcWorld:
    system: ServiceSystem
    provider: OpenIdProvider
    web: WebFront  # signs in with the client `buddy-web`
    other: WebFront  # signs in with `buddy-other`, whose access tokens are for another audience
    down: WebFront  # reads the provider's discovery from a closed port
    browser: Any

    def db(self, web: WebFront) -> Path:
        return self.system.data_dir / web.log.stem / "web.db"


@pytest.fixture(scope="module")
def world(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcWorld]:
    sync_playwright = playwright_or_skip()
    folder = installed_provider()
    import redis

    from tests.conftest import delete_keys_with_prefix

    base = tmp_path_factory.mktemp("oidc")
    (base / "logs").mkdir()
    issuer_port = free_port()
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    oidc = {"BUDDY_OIDC_ISSUER": f"http://127.0.0.1:{issuer_port}", "BUDDY_OIDC_AUDIENCE": AUDIENCE,
            "BUDDY_OIDC_JWKS_URL": f"http://127.0.0.1:{issuer_port}/jwks", "BUDDY_SERVICE_TOKEN": uuid.uuid4().hex}
    system = ServiceSystem(redis_url=redis_url, key_prefix=prefix, data_dir=base / "data", overrides=oidc,
                           demo_staff=STAFF)
    webs: list[WebFront] = []
    provider: OpenIdProvider | None = None
    pw = None
    try:
        system.start_all()
        taken = {issuer_port, *system.ports.values()}
        ports: dict[str, int] = {}
        for name in ("web", "other", "down"):  # ports no service took meanwhile
            while (port := free_port()) in taken:
                pass
            ports[name] = port
            taken.add(port)
        assert issuer_port not in system.ports.values(), "the provider's port was taken: run again"
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        provider = OpenIdProvider(folder, base / "logs" / "provider.log",
                                  [Client("buddy-web", urls["web"]), Client("buddy-other", urls["other"], "other-api"),
                                   Client("buddy-down", urls["down"])], access_ttl_s=ACCESS_TTL_S, port=issuer_port)

        def web(name: str, client_id: str, **env: str) -> WebFront:
            front = start_web(system, name, port=ports[name], wait=False, BUDDY_WEB_OIDC_CLIENT_ID=client_id,
                              BUDDY_WEB_PUBLIC_URL=urls[name], BUDDY_WEB_ORGANISATION=ORGANISATION, **env)
            webs.append(front)
            return front

        closed = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
        front, other = web("web", "buddy-web"), web("other", "buddy-other")  # the three start side by side
        down = web("down", "buddy-down", BUDDY_WEB_OIDC_DISCOVERY_URL=closed, BUDDY_WEB_OIDC_TIMEOUT_S="2")
        for started in webs:
            wait_ready(started)
        register_a_project(system, front)
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield OidcWorld(system, provider, front, other, down, browser)
        browser.close()
    finally:
        if pw is not None:
            pw.stop()
        for front in webs:
            front.stop()
        system.stop_all()
        if provider is not None:
            provider.stop()
        client = redis.Redis.from_url(redis_url)
        try:
            delete_keys_with_prefix(client, prefix)
        finally:
            client.close()


# ---------------------------------------------------------------------- helpers
def access_token(web: WebFront, data_dir: Path, login: str) -> str:
    """An access token of the provider for ``login``, as the web front got it by signing in."""
    with httpx.Client(timeout=10) as client:
        assert client.get(callback_url(client, web, login)).status_code == 303
        cookie = client.cookies["buddy_session"]
    row = session_row(data_dir / web.log.stem / "web.db", None, cookie)
    assert row is not None
    return str(row["tokens"]["access"])


def register_a_project(system: ServiceSystem, web: WebFront) -> None:
    """A project in the coordinator's region, registered by the administrator, known to reporting."""
    token = access_token(web, system.data_dir, "an.peeters")
    resp = httpx.post(f"{system.url('recruitment')}/projects", headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}, json={
        "project_id": "oidc-antwerpen", "name": "Buddywerking Antwerpen (OIDC)", "organisation": "Test vzw",
        "municipality_nis": "11002", "region": "antwerpen-kempen", "target_groups": ["individual_adult"]})
    assert resp.status_code in (200, 201), resp.text
    coordinator = access_token(web, system.data_dir, COORDINATOR)

    def reporting_knows_it() -> bool:
        scopes = httpx.get(f"{system.url('reporting')}/scopes", headers={"Authorization": f"Bearer {coordinator}"})
        return scopes.status_code == 200 and len(scopes.json()["projects"]) == 1

    eventually(reporting_knows_it, timeout=30)


def session_row(world_or_db: OidcWorld | Path, web: WebFront | None, cookie: str) -> dict[str, Any] | None:
    """The web front's session of this cookie, its tokens unsealed with the cookie (as only it can)."""
    db = world_or_db if isinstance(world_or_db, Path) else world_or_db.db(web)  # type: ignore[arg-type]
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            row = conn.execute(select(sessions).where(
                sessions.c.id_hash == hashlib.sha256(cookie.encode()).hexdigest())).mappings().first()
    finally:
        engine.dispose()
    if row is None:
        return None
    return {**dict(row), "tokens": unseal(cookie, row["tokens"])}


def at_provider(client: httpx.Client, url: str, login: str, stop_at: str) -> str:
    """Follow the provider's redirects, filling in its login form; the first URL under ``stop_at``."""
    for _ in range(10):
        if url.startswith(stop_at):
            return url
        resp = client.get(url)
        if resp.status_code in (302, 303):
            url = str(resp.url.join(resp.headers["location"]))
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*method="post"', resp.text)
        assert resp.status_code == 200 and form, (resp.status_code, resp.text[:500])
        resp = client.post(str(resp.url.join(form.group(1))), data={"prompt": "login", "login": login,
                                                                     "password": "demo"})
        assert resp.status_code in (302, 303), (resp.status_code, resp.text[:500])
        url = str(resp.url.join(resp.headers["location"]))
    raise AssertionError(f"no redirect to {stop_at}")


def callback_url(client: httpx.Client, web: WebFront, login: str = COORDINATOR) -> str:
    """Start signing in at the web front and log in at the provider; the callback URL, not yet opened."""
    start = client.get(f"{web.url}/signin/start")
    assert start.status_code == 303, start.text[:300]
    return at_provider(client, start.headers["location"], login, f"{web.url}/signin/callback")


def with_params(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def assert_refused(resp: httpx.Response, status: int, text: str, client: httpx.Client, web: WebFront) -> None:
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("text/html")
    assert text in resp.text, resp.text[:2000]
    assert 'href="/signin/start"' in resp.text and "Opnieuw proberen" in resp.text  # the "try again" link
    home = client.get(f"{web.url}/")  # and no session came of it
    assert home.status_code == 303 and home.headers["location"] == "/signin"


def browser_sign_in(v: Any, login: str = COORDINATOR) -> None:
    """Through the sign-in page's button and the provider's login form, back to the home page."""
    v.goto("/signin")
    v.page.click("a.signin-oidc")
    v.page.wait_for_selector("input[name=login]")
    v.page.fill("input[name=login]", login)
    v.page.fill("input[name=password]", "demo")
    v.page.click("button[type=submit]")
    v.page.wait_for_url(f"{v.base}/")
    v.problems.clear()  # the provider's own pages (their web font is blocked: no internet here) are not ours


@pytest.fixture
def oidc_visitor(world: OidcWorld) -> Iterator[Any]:
    with visitor(world, "desktop", base=world.web.url) as v:  # type: ignore[arg-type]
        v.context.route(re.compile(r"^https?://(?!127\.0\.0\.1).*"), lambda route: route.abort())  # offline
        yield v


# ---------------------------------------------------------------------- tests
def test_the_sign_in_page_shows_one_button_for_the_organisation_and_passes_axe(world: OidcWorld) -> None:
    for width in WIDTHS:
        with visitor(world, width, base=world.web.url) as v:  # type: ignore[arg-type]
            v.goto("/signin")
            button = v.page.locator("a.signin-oidc")
            assert button.count() == 1 and button.inner_text() == f"Aanmelden bij {ORGANISATION}"
            assert v.page.locator("button[data-person]").count() == 0
            v.check("oidc-signin")
            v.page.click("button:has-text('English')")
            v.page.wait_for_url(f"{v.base}/signin")
            assert v.page.locator("a.signin-oidc").inner_text() == f"Sign in with {ORGANISATION}"


def test_a_coordinator_signs_in_at_the_provider_and_reaches_the_figures(world: OidcWorld, oidc_visitor: Any) -> None:
    v = oidc_visitor
    browser_sign_in(v)
    assert "Wim Maes" in v.page.inner_text("h1")
    assert "Regiocoördinator" in v.page.inner_text("header")
    cookie = v.cookie()
    row = session_row(world, world.web, cookie)
    assert row is not None and row["person"] == COORDINATOR and row["role"] == "coordinator"
    assert cookie not in str(row) and row["tokens"]["access"] not in str(dict(row, tokens=None))
    claims = jwt.decode(row["tokens"]["access"], options={"verify_signature": False})
    assert claims["aud"] == AUDIENCE and claims["iss"] == world.provider.issuer and claims["sub"] == COORDINATOR
    response = v.goto("/reports")
    assert response.status == 200  # the services accepted the provider's access token
    assert "Antwerpen-Kempen" in v.page.locator("#scope option").all_inner_texts()
    v.check("oidc-figures-coordinator")


def test_a_page_after_the_access_token_expired_still_works_it_was_refreshed(
        world: OidcWorld, oidc_visitor: Any) -> None:
    v = oidc_visitor
    browser_sign_in(v)
    before = session_row(world, world.web, v.cookie())
    assert before is not None and before["tokens"]["refresh"]
    old = before["tokens"]["access"]
    expires = jwt.decode(old, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()) + 1)  # the access token has expired
    assert v.goto("/reports").status == 200
    assert "Antwerpen-Kempen" in v.page.locator("#scope option").all_inner_texts()
    after = session_row(world, world.web, v.cookie())
    assert after is not None and after["tokens"]["access"] != old
    assert jwt.decode(after["tokens"]["access"], options={"verify_signature": False})["exp"] > expires
    assert after["tokens"]["refresh"] != before["tokens"]["refresh"]  # the provider rotates refresh tokens
    refreshes = [e for e in world.provider.events()
                 if e["event"] == "grant.success" and e.get("grant_type") == "refresh_token"]
    assert refreshes and all(e["client"] == "buddy-web" for e in refreshes)


def test_a_refused_refresh_signs_the_person_out(world: OidcWorld, oidc_visitor: Any) -> None:
    v = oidc_visitor
    browser_sign_in(v)
    old = v.cookie()
    row = session_row(world, world.web, old)
    assert row is not None
    revoked = httpx.post(f"{world.provider.issuer}/token/revocation",
                         data={"token": row["tokens"]["refresh"], "client_id": "buddy-web"})
    assert revoked.status_code == 200
    time.sleep(max(0.0, (row["refresh_at"] or 0) - time.time()) + 0.5)
    v.goto("/reports")
    assert v.page.url == f"{v.base}/signin?expired=1"
    assert "Uw sessie is afgelopen" in v.page.inner_text("main")
    assert session_row(world, world.web, old) is None  # revoked here too


def test_signing_out_ends_the_session_here_and_at_the_provider(world: OidcWorld, oidc_visitor: Any) -> None:
    v = oidc_visitor
    browser_sign_in(v)
    old = v.cookie()
    refresh = session_row(world, world.web, old)["tokens"]["refresh"]  # type: ignore[index]
    v.page.click("header form[action='/signout'] button")
    v.page.wait_for_url(re.compile(rf"^{re.escape(world.provider.issuer)}/session/end.*"))
    v.page.click("button[name=logout]")
    v.page.wait_for_url(f"{v.base}/signin?ended=1")
    assert "U bent afgemeld." in v.page.inner_text("main")
    assert any(e["event"] == "end_session.success" and e["client"] == "buddy-web" for e in world.provider.events())
    with httpx.Client(base_url=world.web.url, cookies={"buddy_session": old}) as client:
        for path in ("/", "/reports", "/archive"):
            resp = client.get(path)
            assert resp.status_code == 303 and resp.headers["location"] == "/signin", path
    again = httpx.post(f"{world.provider.issuer}/token", data={"grant_type": "refresh_token", "refresh_token": refresh,
                                                                "client_id": "buddy-web"})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # revoked at the provider
    v.page.click("a.signin-oidc")  # the provider asks for the login again: its session ended too
    v.page.wait_for_selector("input[name=login]")


def test_a_callback_with_another_state_is_refused(world: OidcWorld) -> None:
    with httpx.Client(timeout=10) as client:
        url = callback_url(client, world.web)
        resp = client.get(with_params(url, state="not-the-state-of-this-sign-in"))
        assert_refused(resp, 400, "Deze aanmelding is verlopen of werd al gebruikt", client, world.web)
        resp = client.get(url)  # the right state, but the sign-in was answered already
        assert_refused(resp, 400, "Deze aanmelding is verlopen of werd al gebruikt", client, world.web)
    with httpx.Client(timeout=10) as stranger:  # another browser: no sign-in of its own in progress
        url = callback_url(stranger, world.web)
        with httpx.Client(timeout=10) as victim:
            assert_refused(victim.get(url), 400, "Deze aanmelding is verlopen", victim, world.web)


def test_a_replayed_authorization_code_is_refused(world: OidcWorld) -> None:
    with httpx.Client(timeout=10) as client:
        first = callback_url(client, world.web)
        assert client.get(first).status_code == 303  # signed in
        code = parse_qs(urlsplit(first).query)["code"][0]
    with httpx.Client(timeout=10) as client:
        fresh = callback_url(client, world.web)  # a new sign-in of its own, then the old code with its state
        state = parse_qs(urlsplit(fresh).query)["state"][0]
        resp = client.get(with_params(first, state=state, code=code))
        assert_refused(resp, 400, "Deze aanmelding is verlopen of werd al gebruikt", client, world.web)
    assert any(e["event"] == "grant.error" and e.get("error") == "invalid_grant" for e in world.provider.events())


def test_a_token_for_another_audience_is_refused(world: OidcWorld) -> None:
    with httpx.Client(timeout=10) as client:
        url = callback_url(client, world.other)
        resp = client.get(url)
        assert_refused(resp, 401, "niet voor deze toepassing bedoeld", client, world.other)
    assert "access_token_audience" in world.other.log.read_text()


def test_a_refusal_at_the_provider_is_a_page(world: OidcWorld) -> None:
    with httpx.Client(timeout=10) as client:
        start = client.get(f"{world.web.url}/signin/start")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        resp = client.get(f"{world.web.url}/signin/callback", params={"error": "access_denied", "state": state,
                                                                      "error_description": "<script>x</script>"})
        assert_refused(resp, 400, "heeft u niet aangemeld", client, world.web)
        assert "<script>x" not in resp.text


def test_an_unreachable_provider_is_a_page(world: OidcWorld) -> None:
    with httpx.Client(timeout=10) as client:
        resp = client.get(f"{world.down.url}/signin/start")
        assert_refused(resp, 503, "niet bereikbaar", client, world.down)


def test_the_error_page_passes_axe_and_no_token_reaches_the_log(world: OidcWorld) -> None:
    for width in WIDTHS:
        with visitor(world, width, base=world.web.url) as v:  # type: ignore[arg-type]
            response = v.goto("/signin/callback?state=wrong&code=wrong")
            assert response.status == 400
            assert v.page.locator("a[href='/signin/start']").inner_text() == "Opnieuw proberen"
            assert "This sign-in link has expired" in v.page.inner_text("main")  # the other language too
            v.problems.clear()  # the 400 itself is logged by the browser
            v.check("oidc-signin-error")
    for front in (world.web, world.other, world.down):
        text = front.log.read_text(errors="replace")
        assert "eyJ" not in text, f"{front.log.name} holds a token"
        assert "oidc.signin_refused" in text or front is world.web
