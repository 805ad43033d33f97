"""The pages: sign-in, home per role, reports (dashboard, publish, archive, downloads).

Every page asks the services for what it shows, with the signed-in person's token; a
refusal there is a refusal here, shown as a page in the reader's language. Forms post
with the session's CSRF token; htmx requests carry it in a header. Sign-in, sign-out and
the language switch are the only state the web front itself keeps.

With the organisation's identity provider (``OidcSignIn``) the sign-in page shows one
button; ``/signin/start`` sends the browser to the provider and ``/signin/callback``
takes it back (every refusal a page with a "try again" link, in 4xx, never a 500);
``signed_in`` renews the access token with the refresh token before it expires, and
signs the person out when the provider refuses that; sign-out also ends the session at
the provider (RP-initiated logout).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.background import BackgroundTask

from services.web import i18n
from services.web.i18n import N_
from services.web.backend import ServiceError, Services
from services.web.commands import command_key, new_command_key
from services.web.config import WebSettings
from services.web.reportview import ReportView, ScopeChoices, ViewCache, month_choices, period_of
from services.web.oidc import OidcSignIn, SignInRefused
from services.web.security import CSRF_FIELD, CSRF_HEADER, csrf_ok
from services.web.sessions import Session, SessionStore, Tokens
from services.web.signin import Person, SignInProvider
from shared.logging import get_logger

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "buddy_lang"
GRAINS = ("month", "quarter", "year")
FORMATS = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
READS_REPORTS = {"admin", "auditor", "coordinator", "government", "professional"}
READS_STAFF = {"admin", "auditor"}
log = get_logger(__name__)
REFRESH_CLAIM_S = 15.0  # how long one request may take to refresh a session's tokens before another may try
ROLE_NAMES = {"admin": N_("Administrator"), "auditor": N_("Auditor"), "coordinator": N_("Regional coordinator"),
              "government": N_("Government"), "professional": N_("Professional"), "buddy": N_("Buddy")}


SCOPES_FOR_S = 60.0  # how long a session's list of regions and projects is kept


async def gather(*calls: Awaitable[Any]) -> list[Any]:
    """The answers of several service calls made at once; the first refusal is raised."""
    return list(await asyncio.gather(*calls))


async def _nothing() -> Any:
    return None


class PageError(Exception):
    """Answer with the error page: a status and a message id (with values) in the reader's language."""

    def __init__(self, status: int, message: str, detail: str = "", **values: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.detail, self.values = status, message, detail, values


@dataclass
class Ctx:
    """One request as the pages see it: the session, the language, the translator."""

    request: Request
    session: Session | None
    lang: i18n.Lang
    new_session: bool = False

    @property
    def _(self) -> Any:
        return i18n.translator(self.lang)


def _in_lang(text: str, lang: i18n.Lang) -> str:
    """The services answer "Nederlands / English": the reader's half."""
    if " / " in text:
        nl, _sep, en = text.partition(" / ")
        return nl if lang == "nl" else en
    return text


def _local_path(value: str | None) -> str:
    """A path on this site to go back to (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


# A service names the parameter it refused; the form names its field otherwise.
FORM_FIELD = {"period_start": "from", "period_end": "to", "grain": "grain", "region": "scope", "project_id": "scope",
              "audience": "scope", "title": "title"}
# The sentence for a field when the service's own is not in both languages (a type error, say).
FIELD_MESSAGE = {"from": N_("Choose a month."), "to": N_("Choose a month."), "grain": N_("Choose month, quarter or year."),
                 "scope": N_("Choose one of the listed regions or projects."),
                 "title": N_("Give the report a title: one line of text, at most 200 characters.")}


def _month_of(value: Any) -> str | None:
    text = value if isinstance(value, str) else ""
    return text if period_of(text, text, "month") is not None else None


def field_errors(exc: ServiceError, ctx: "Ctx") -> dict[str, str]:
    """A service's 422 as messages per form field, in the reader's language.

    The services name the parameter (``query.period_start``, ``title``) and say what is
    wrong in Dutch and English; a message in English only (a type error) is replaced by the
    field's own sentence from the catalogs. What names no field of the form goes under
    ``form``, shown above the fields."""
    out: dict[str, str] = {}
    for item in exc.fields:
        name = str(item.get("field", "")).rsplit(".", 1)[-1]
        field = FORM_FIELD.get(name, "form")
        message = str(item.get("message", ""))
        if " / " in message:
            text = _in_lang(message, ctx.lang)
        else:
            text = ctx._(FIELD_MESSAGE.get(field, N_("Some of what was asked is not valid.")))
        out.setdefault(field, text)
    if not out:
        out["form"] = _in_lang(exc.detail, ctx.lang) if " / " in exc.detail else ctx._(
            "Some of what was asked is not valid.")
    return out


class Web:
    def __init__(self, settings: WebSettings, store: SessionStore, services: Services, provider: SignInProvider,
                 *, production: bool) -> None:
        self.settings, self.store, self.services, self.provider = settings, store, services, provider
        self.production = production
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(ROLE_NAMES=ROLE_NAMES, GRAINS=GRAINS, FORMATS=tuple(FORMATS), READS_STAFF=READS_STAFF)
        self.views = ViewCache()
        self._scopes: dict[str, tuple[float, Any]] = {}

    async def scopes(self, session: Session) -> Any:
        """The reporting service's ``/scopes`` for this session, asked again after ``SCOPES_FOR_S``.

        Every reports page needs the names of what its reader may see; asking for them on
        every page costs a call each time for a list that changes when an administrator
        assigns someone. The list only names choices: whatever is asked with it, the
        service decides again who may see it, so a list a minute old shows nothing more."""
        now = time.monotonic()
        kept = self._scopes.get(session.id)
        if kept is not None and kept[0] > now:
            return kept[1]
        data = await self.services.get("reporting", "/scopes", session.token)
        if len(self._scopes) > 10_000:  # sessions that went away: drop the expired
            self._scopes = {k: v for k, v in self._scopes.items() if v[0] > now}
        self._scopes[session.id] = (now + SCOPES_FOR_S, data)
        return data

    # ------------------------------------------------------------------ request context
    def context(self, request: Request) -> Ctx:
        session = self.store.get(request.cookies.get(self.settings.cookie_name))
        return Ctx(request, session, i18n.lang_of(request.cookies.get(LANG_COOKIE)))

    def ensure_session(self, ctx: Ctx) -> Session:
        """An anonymous session for a visitor without one: forms need a CSRF token before sign-in too."""
        if ctx.session is None:
            ctx.session, ctx.new_session = self.store.new(), True
        return ctx.session

    async def signed_in(self, request: Request) -> Ctx:
        """The request of a signed-in person, their access token renewed when it is about to expire."""
        ctx = self.context(request)
        if ctx.session is None or not ctx.session.signed_in:
            raise SignInNeeded(ctx)
        session = ctx.session
        if isinstance(self.provider, OidcSignIn) and session.refresh_at is not None and time.time() >= session.refresh_at:
            ctx.session = await self._refreshed(ctx, session)
        return ctx

    async def _refreshed(self, ctx: Ctx, session: Session) -> Session:
        provider = self.provider
        assert isinstance(provider, OidcSignIn)
        still_valid = session.token_expires_at is None or time.time() < session.token_expires_at
        if not self.store.claim_refresh(session, for_s=REFRESH_CLAIM_S):
            # another request of this session is refreshing: go on with the current token while it
            # lasts, else wait for the new one (a refresh token is used once, never twice at a time)
            deadline = time.monotonic() + REFRESH_CLAIM_S
            while not still_valid and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                fresh = self.store.get(session.id)
                if fresh is None or not fresh.signed_in:
                    raise SignInNeeded(ctx, "expired")
                if fresh.token != session.token:
                    return fresh
            return session
        if not session.refresh_token:
            self.store.release_refresh(session)
            return session
        try:
            tokens, role = await provider.refresh(session.refresh_token, session.id_token)
        except SignInRefused as exc:
            if exc.status >= 500 and still_valid:
                self.store.release_refresh(session)
                log.warning("oidc.refresh_postponed", reason=exc.reason)
                return session
            if exc.status >= 500:
                self.store.release_refresh(session)
                raise PageError(503, exc.message) from exc
            log.info("oidc.refresh_refused", reason=exc.reason)
            self.store.revoke(session.id)
            raise SignInNeeded(ctx, "expired") from exc
        log.info("oidc.refreshed", role=role)
        return self.store.refreshed(session, tokens, role=role)

    async def checked_form(self, ctx: Ctx) -> dict[str, str]:
        """The posted form, after its CSRF token was checked (403 page otherwise)."""
        form = await ctx.request.form()
        given = ctx.request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if ctx.session is None or not csrf_ok(ctx.session.csrf, given if isinstance(given, str) else None):
            raise PageError(403, "This form has expired or did not come from this site. Go back, reload the page "
                                 "and try again.")
        return {k: v for k, v in form.items() if isinstance(v, str)}

    # ------------------------------------------------------------------ rendering
    def person_of(self, session: Session | None) -> Person | None:
        """Who is signed in, as the header shows them: the session's name and role."""
        if session is None or not session.signed_in or session.person is None:
            return None
        known = self.provider.person(session.person)
        if known is not None:
            return known
        return Person(id=session.person, name=session.name or "", role=session.role or "", description="", token="")

    def render(self, ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        session = self.ensure_session(ctx)
        _ = ctx._
        page = self.env.get_template(template).render(
            _=_, lang=ctx.lang, other_lang="en" if ctx.lang == "nl" else "nl", csrf=session.csrf,
            person=self.person_of(session), session=session, path=ctx.request.url.path,
            here=str(ctx.request.url.path) + (f"?{ctx.request.url.query}" if ctx.request.url.query else ""),
            day=lambda v, form="long": i18n.day(v, ctx.lang, form), moment=lambda v: i18n.moment(v, ctx.lang),
            number=lambda v: i18n.number(v, ctx.lang), today=i18n.today(), **values)
        return self.finish(ctx, HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"}))

    def finish(self, ctx: Ctx, response: Response) -> Response:
        if ctx.new_session and ctx.session is not None:
            self.set_cookie(response, ctx.session)
        return response

    def set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(self.settings.cookie_name, session.id, max_age=self.settings.session_max_s,
                            httponly=True, samesite="lax", secure=self.production, path="/")

    def error_page(self, ctx: Ctx, error: PageError, *, retry: bool = False) -> HTMLResponse:
        _ = ctx._
        other = i18n.translator("en" if ctx.lang == "nl" else "nl")
        return self.render(ctx, "error.html", status=error.status, message=_(error.message, **error.values),
                           message_other=other(error.message, **error.values) if retry else "",
                           detail=error.detail, retry=retry)

    def service_error(self, ctx: Ctx, exc: ServiceError) -> Response:
        if exc.status == 401:  # the token is no longer accepted: sign in again
            if ctx.session is not None:
                self.store.revoke(ctx.session.id)
                self._scopes.pop(ctx.session.id, None)
            return RedirectResponse("/signin", status_code=303)
        message = {
            403: N_("You do not have access to this."),
            404: N_("This was not found, or you do not have access to it."),
            422: N_("Some of what was asked is not valid."),
            409: N_("This conflicts with a change made at the same time. Reload the page and try again."),
        }.get(exc.status, N_("A service is not available at the moment. Please try again in a moment."))
        status = exc.status if exc.status in (403, 404, 409, 422) else 503
        fields = [f"{f.get('field')}: {_in_lang(str(f.get('message', '')), ctx.lang)}" for f in exc.fields]
        detail = "; ".join([_in_lang(exc.detail, ctx.lang), *fields]).strip("; ")
        return self.error_page(ctx, PageError(status, message, detail))


class SignInNeeded(Exception):
    def __init__(self, ctx: Ctx, notice: str | None = None) -> None:
        super().__init__("sign-in needed")
        self.ctx, self.notice = ctx, notice


def pages_router(web: Web) -> APIRouter:
    api = APIRouter(include_in_schema=False)
    services = web.services

    # ------------------------------------------------------------------ sign-in and out
    @api.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        ctx = await web.signed_in(request)
        return web.render(ctx, "home.html", reads_reports=ctx.session.role in READS_REPORTS)  # type: ignore[union-attr]

    @api.get("/signin", response_class=HTMLResponse)
    async def signin_page(request: Request) -> Response:
        ctx = web.context(request)
        oidc = isinstance(web.provider, OidcSignIn)
        return web.render(ctx, "signin.html", people=web.provider.people(), oidc=oidc,
                          organisation=web.provider.organisation if isinstance(web.provider, OidcSignIn) else None,
                          ended=request.query_params.get("ended"), expired=request.query_params.get("expired"))

    @api.post("/signin")
    async def signin(request: Request) -> Response:
        ctx = web.context(request)
        form = await web.checked_form(ctx)
        person = web.provider.person(form.get("person", ""))
        if person is None:
            raise PageError(422, "Choose one of the people on the sign-in page.")
        session = web.store.sign_in(ctx.session, person=person.id, role=person.role, name=person.name,
                                    tokens=Tokens(access=person.token))
        response = RedirectResponse("/", status_code=303)
        web.set_cookie(response, session)
        return response

    def refused(ctx: Ctx, exc: SignInRefused) -> Response:
        log.info("oidc.signin_refused", reason=exc.reason, status=exc.status)
        return web.error_page(ctx, PageError(exc.status, exc.message), retry=True)

    @api.get("/signin/start")
    async def signin_start(request: Request) -> Response:
        """To the organisation's sign-in page, with a fresh state, nonce and PKCE challenge."""
        ctx = web.context(request)
        provider = web.provider
        if not isinstance(provider, OidcSignIn):
            raise PageError(404, "This page does not exist.")
        session = web.ensure_session(ctx)
        try:
            url, pending = await provider.start(str(request.base_url), lang=ctx.lang)
        except SignInRefused as exc:
            return refused(ctx, exc)
        web.store.start_sign_in(session, pending)
        return web.finish(ctx, RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"}))

    @api.get("/signin/callback")
    async def signin_callback(request: Request) -> Response:
        """Back from the organisation's sign-in: checked, then a new session (or the error page)."""
        ctx = web.context(request)
        provider = web.provider
        if not isinstance(provider, OidcSignIn):
            raise PageError(404, "This page does not exist.")
        params = {k: v for k, v in request.query_params.items() if k in ("code", "state", "error", "iss")}
        pending = web.store.take_pending(ctx.session) if ctx.session is not None else None
        try:
            signed = await provider.finish(pending, params)
        except SignInRefused as exc:
            return refused(ctx, exc)
        session = web.store.sign_in(ctx.session, person=signed.subject, role=signed.role, name=signed.name,
                                    tokens=signed.tokens)
        log.info("oidc.signed_in", role=signed.role)
        response = RedirectResponse("/", status_code=303)
        web.set_cookie(response, session)
        return response

    @api.post("/signout")
    async def signout(request: Request) -> Response:
        ctx = web.context(request)
        await web.checked_form(ctx)
        target = "/signin?ended=1"
        session = ctx.session
        if session is not None:
            web.store.revoke(session.id)  # first: whatever the provider does, this session is over
            web._scopes.pop(session.id, None)
            if isinstance(web.provider, OidcSignIn) and session.signed_in:
                await web.provider.revoke(session.refresh_token)
                target = await web.provider.logout_url(str(request.base_url), session.id_token) or target
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(web.settings.cookie_name, path="/", httponly=True, samesite="lax",
                               secure=web.production)
        return response

    @api.get("/signout/done")
    async def signed_out() -> Response:
        """Where the organisation's sign-in service sends the browser after its own sign-out."""
        return RedirectResponse("/signin?ended=1", status_code=303)

    @api.post("/lang")
    async def switch_language(request: Request) -> Response:
        ctx = web.context(request)
        form = await web.checked_form(ctx)
        lang = i18n.lang_of(form.get("lang"))
        response = RedirectResponse(_local_path(form.get("next")), status_code=303)
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax",
                            secure=web.production, path="/")
        return response

    # ------------------------------------------------------------------ reports
    async def scope_choices(ctx: Ctx) -> ScopeChoices:
        return ScopeChoices.of(await web.scopes(ctx.session), ctx._, ctx.lang)  # type: ignore[arg-type]

    async def figures(ctx: Ctx, asked: Any, *, title: str | None = None, errors: dict[str, str] | None = None,
                      status: int = 200) -> Response:
        """The figures page for what was ``asked`` (scope, months, grain), each problem next to its field.

        ``errors`` come from a form posted from this page (the publish form's title): the
        figures are shown again with the message beside the field, the rest kept as typed."""
        choices = await scope_choices(ctx)
        if not choices.options:
            return web.render(ctx, "reports.html", choices=choices, view=None, errors={}, values={}, months=[])
        today = i18n.today()
        months = month_choices(today, ctx.lang)
        values: dict[str, Any] = {
            "scope": asked.get("scope") or choices.options[0].value,
            # this calendar year so far: reports cover whole calendar months, quarters or years
            "from": asked.get("from") or months[today.month - 1].value,
            "to": asked.get("to") or months[0].value,
            "grain": asked.get("grain") or "month",
        }
        errors = dict(errors or {})
        scope = choices.find(values["scope"])
        if scope is None:
            errors["scope"] = ctx._("Choose one of the listed regions or projects.")
        if values["grain"] not in GRAINS:
            errors["grain"] = ctx._("Choose month, quarter or year.")
        first, last = _month_of(values["from"]), _month_of(values["to"])
        if first is None:
            errors["from"] = ctx._("Choose a month.")
        if last is None:
            errors["to"] = ctx._("Choose a month.")
        elif first is not None and first > last:
            errors["to"] = ctx._("The last month lies before the first.")
        period = None
        if first is not None and last is not None and first <= last:
            period = period_of(values["from"], values["to"], values["grain"] if values["grain"] in GRAINS else "month")
            if period is None:
                errors["from"] = ctx._("Choose months of one calendar year: the report covers the month, quarter or "
                                       "year that holds them.")
        view: ReportView | None = None
        if not (errors.keys() - {"title"}) and scope is not None and period is not None:
            params = {**scope.parameters, "period_start": period[0].isoformat(),
                      "period_end": period[1].isoformat(), "grain": values["grain"]}
            try:
                live, digest = await services.get_digested("reporting", "/reports/overview",
                                                           ctx.session.token, **params)  # type: ignore[union-attr]
            except ServiceError as exc:
                if exc.status != 422:
                    raise
                errors.update(field_errors(exc, ctx))
            else:
                view = await web.views.view(live["content"], ctx.lang, digest)
                values["publish"] = params
                values["command_key"] = new_command_key()
                values["title"] = title
        partial = bool(ctx.request.headers.get("hx-request"))
        if errors and not partial:  # htmx swaps only a 2xx answer: the form with its messages must show
            status = 422 if status == 200 else status
        template = "_dashboard.html" if partial else "reports.html"
        return web.render(ctx, template, status=status, choices=choices, view=view, errors=errors, values=values,
                          months=months)

    @api.get("/reports", response_class=HTMLResponse)
    async def dashboard(request: Request) -> Response:
        ctx = await web.signed_in(request)
        return await figures(ctx, request.query_params)

    @api.post("/reports/publish")
    async def publish(request: Request) -> Response:
        ctx = await web.signed_in(request)
        form = await web.checked_form(ctx)
        title = " ".join(form.get("title", "").split())
        body: dict[str, Any] = {"kind": "overview"}
        for name in ("audience", "region", "project_id", "period_start", "period_end", "grain"):
            if form.get(name):
                body[name] = form[name]
        problem = None
        if not title:
            problem = ctx._("Give the report a title.")
        elif len(title) > 200:
            problem = ctx._("A title has at most 200 characters; this one has {count}.", count=len(title))
        if problem is None:
            body["title"] = title
            try:
                report = await services.post("reporting", "/reports", ctx.session.token, body,  # type: ignore[union-attr]
                                             idempotency_key=command_key(form))
            except ServiceError as exc:
                if exc.status != 422:
                    raise
                errors = field_errors(exc, ctx)
                problem = errors.pop("title", None) or next(iter(errors.values()), None)
            else:
                return RedirectResponse(f"/archive/{report['report_id']}?published=1", status_code=303)
        # the figures again, the title as typed and the message beside it
        return await figures(ctx, form, title=form.get("title", ""), errors={"title": problem or ""}, status=422)

    @api.get("/archive", response_class=HTMLResponse)
    async def archive(request: Request) -> Response:
        ctx = await web.signed_in(request)
        reads = ctx.session.role in READS_REPORTS  # type: ignore[union-attr]
        # both at once: neither waits for the other
        scopes, listing = await gather(web.scopes(ctx.session) if reads else _nothing(),  # type: ignore[arg-type]
                                       services.get("reporting", "/reports", ctx.session.token, limit=200))  # type: ignore[union-attr]
        choices = ScopeChoices.of(scopes, ctx._, ctx.lang) if reads else ScopeChoices([], {})
        rows = [archive_row(item, ctx, choices) for item in listing["items"]]
        return web.render(ctx, "archive.html", rows=rows, total=listing["total"])

    def archive_row(item: dict[str, Any], ctx: Ctx, choices: ScopeChoices) -> dict[str, Any]:
        params = item.get("parameters", {})
        publisher = web.provider.person(item.get("created_by", ""))
        if publisher is not None:
            by = publisher.name
        elif ctx.session is not None and item.get("created_by") == ctx.session.person and ctx.session.name:
            by = ctx.session.name
        else:  # the web front knows the names of the demo people and of who is signed in, no one else's
            by = ctx._("A colleague")
        return {
            "id": item["report_id"],
            "title": item.get("title") or choices.describe(params, ctx._),
            "by": by,
            "when": item.get("created_at", ""),
            "period": (params.get("period_start"), params.get("period_end")),
            "audience": choices.audience_label(params, ctx._),
            "scope": choices.describe(params, ctx._),
        }

    @api.get("/archive/{report_id}", response_class=HTMLResponse)
    async def published(request: Request, report_id: str) -> Response:
        ctx = await web.signed_in(request)
        (report, digest), scopes = await gather(
            services.get_digested("reporting", f"/reports/{report_id}", ctx.session.token),  # type: ignore[union-attr]
            web.scopes(ctx.session))  # type: ignore[arg-type]
        choices = ScopeChoices.of(scopes, ctx._, ctx.lang)
        view = await web.views.view(report["content"], ctx.lang, digest) if report.get("kind") == "overview" else None
        row = archive_row(report, ctx, choices)
        return web.render(ctx, "report.html", report=report, row=row, view=view,
                          just_published=bool(request.query_params.get("published")))

    @api.get("/archive/{report_id}/download/{fmt}")
    async def download(request: Request, report_id: str, fmt: str) -> Response:
        ctx = await web.signed_in(request)
        if fmt not in FORMATS:
            raise PageError(404, "This page does not exist.")
        resp = await services.open_stream("reporting", f"/reports/{report_id}/export.{fmt}",
                                          ctx.session.token, lang=ctx.lang)  # type: ignore[union-attr]

        async def body() -> AsyncIterator[bytes]:
            async for chunk in resp.aiter_bytes():
                yield chunk

        headers = {"Cache-Control": "private, no-store"}
        if "content-disposition" in resp.headers:
            headers["Content-Disposition"] = resp.headers["content-disposition"]
        return StreamingResponse(body(), media_type=FORMATS[fmt], headers=headers,
                                 background=BackgroundTask(resp.aclose))

    return api
