"""Wires the web front: sessions, the sign-in provider, the services' client, the pages.

No event store, no bus, no vault: the web front keeps only sessions and shows what the
services answer. ``transport`` replaces the HTTP transport to the services (tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.clock import Clock, SystemClock
from shared.eventstore import make_engine
from shared.logging import configure_logging, get_logger
from shared.settings import Settings
from services.web.backend import ServiceError, Services
from services.web.config import WebSettings
from services.web.i18n import N_
from services.web.oidc import OidcSignIn
from services.web.pages import PageError, SignInNeeded, Web, pages_router
from services.web.staff import staff_router
from services.web.reportstyle import report_css
from services.web.security import HEADERS, SecurityHeaders
from services.web.sessions import SessionStore
from services.web.signin import SignInProvider, provider_for

NAME = "web"
STATIC = Path(__file__).parent / "static"
HTMX = "vendor/htmx-2.0.11.min.js"
ASSETS = {
    "app.css": "text/css; charset=utf-8",
    HTMX: "text/javascript; charset=utf-8",
}
log = get_logger(__name__)


def _assets() -> dict[str, bytes]:
    """The page assets, read once; the report styles come from the reporting outputs' package."""
    out = {name: (STATIC / name).read_bytes() for name in ASSETS}
    out["report.css"] = report_css()
    return out


def build(settings: Settings, *, web_settings: WebSettings | None = None, clock: Clock | None = None,
          provider: SignInProvider | None = None, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    configure_logging(settings.effective_log_format(), settings.log_level)
    web_settings = web_settings or WebSettings()
    clock = clock or SystemClock()
    store = SessionStore(make_engine(settings.database_url_of(NAME)), clock,
                         idle_s=web_settings.session_idle_s, max_s=web_settings.session_max_s)
    services = Services(settings, timeout_s=web_settings.api_timeout_s, transport=transport)
    provider = provider or provider_for(settings, web_settings)
    web = Web(web_settings, store, services, provider, production=settings.env == "production")
    assets = _assets()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        store.create_table()
        log.info("service.started", service=NAME)
        yield
        await services.aclose()
        store.engine.dispose()

    app = FastAPI(title="Buddywerking", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = web
    app.include_router(pages_router(web))
    app.include_router(staff_router(web))

    @app.get("/static/{name:path}", include_in_schema=False)
    def asset(name: str) -> Response:
        media = ASSETS.get(name) or ("text/css; charset=utf-8" if name == "report.css" else None)
        if media is None:
            raise StarletteHTTPException(404)
        return Response(assets[name], media_type=media, headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        # the run's instance id, as the services give it: `buddy run` counts only its own processes
        return {"status": "ok", "service": NAME, "instance": settings.instance_id}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        try:
            with store.engine.connect():
                pass
        except Exception:  # noqa: BLE001 - any failure means not ready
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, exc: SignInNeeded) -> Response:
        target = "/signin?expired=1" if exc.notice == "expired" else "/signin"
        if request.headers.get("hx-request"):  # htmx follows this header with a full page load
            return web.finish(exc.ctx, Response(status_code=204, headers={"HX-Redirect": target}))
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return web.error_page(web.context(request), exc)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        return web.service_error(web.context(request), exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: N_("This page does not exist."), 405: N_("This page does not exist.")}.get(
            exc.status_code, N_("Something went wrong. Please try again in a moment."))
        return web.error_page(web.context(request), PageError(exc.status_code, message))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return web.error_page(web.context(request), PageError(422, "Some of what was asked is not valid."))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("web.error", path=request.url.path)
        page = web.error_page(web.context(request), PageError(500, "Something went wrong. Please try again in a moment."))
        page.headers.update(HEADERS)  # answered outside the middleware that adds them elsewhere
        return page

    form_origins = provider.form_origins() if isinstance(provider, OidcSignIn) else None
    app.add_middleware(SecurityHeaders, production=settings.env == "production", form_origins=form_origins)
    return app


def serve_kwargs(settings: Settings) -> dict[str, Any]:
    """Where ``buddy serve web`` listens: BUDDY_WEB_PORT (8000), on BUDDY_HOST."""
    return {"host": settings.host, "port": WebSettings().port}
