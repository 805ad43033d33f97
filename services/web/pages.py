"""The pages: sign-in, home per role, reports (dashboard, publish, archive, downloads).

Every page asks the services for what it shows, with the signed-in person's token; a
refusal there is a refusal here, shown as a page in the reader's language. Forms post
with the session's CSRF token; htmx requests carry it in a header. Sign-in, sign-out and
the language switch are the only state the web front itself keeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
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
from services.web.reportview import ReportView, ScopeChoices, month_choices, period_of, report_view
from services.web.security import CSRF_FIELD, CSRF_HEADER, csrf_ok
from services.web.sessions import Session, SessionStore
from services.web.signin import SignInProvider

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "buddy_lang"
GRAINS = ("month", "quarter", "year")
FORMATS = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
READS_REPORTS = {"admin", "auditor", "coordinator", "professional"}
ROLE_NAMES = {"admin": N_("Administrator"), "auditor": N_("Auditor"), "coordinator": N_("Regional coordinator"),
              "professional": N_("Professional"), "buddy": N_("Buddy")}


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


class Web:
    def __init__(self, settings: WebSettings, store: SessionStore, services: Services, provider: SignInProvider,
                 *, production: bool) -> None:
        self.settings, self.store, self.services, self.provider = settings, store, services, provider
        self.production = production
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(ROLE_NAMES=ROLE_NAMES, GRAINS=GRAINS, FORMATS=tuple(FORMATS))

    # ------------------------------------------------------------------ request context
    def context(self, request: Request) -> Ctx:
        session = self.store.get(request.cookies.get(self.settings.cookie_name))
        return Ctx(request, session, i18n.lang_of(request.cookies.get(LANG_COOKIE)))

    def ensure_session(self, ctx: Ctx) -> Session:
        """An anonymous session for a visitor without one: forms need a CSRF token before sign-in too."""
        if ctx.session is None:
            ctx.session, ctx.new_session = self.store.new(), True
        return ctx.session

    def signed_in(self, request: Request) -> Ctx:
        ctx = self.context(request)
        if ctx.session is None or not ctx.session.signed_in:
            raise SignInNeeded(ctx)
        return ctx

    async def checked_form(self, ctx: Ctx) -> dict[str, str]:
        """The posted form, after its CSRF token was checked (403 page otherwise)."""
        form = await ctx.request.form()
        given = ctx.request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if ctx.session is None or not csrf_ok(ctx.session.csrf, given if isinstance(given, str) else None):
            raise PageError(403, "This form has expired or did not come from this site. Go back, reload the page "
                                 "and try again.")
        return {k: v for k, v in form.items() if isinstance(v, str)}

    # ------------------------------------------------------------------ rendering
    def person_of(self, session: Session | None) -> Any:
        return self.provider.person(session.person) if session is not None and session.person else None

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

    def error_page(self, ctx: Ctx, error: PageError) -> HTMLResponse:
        _ = ctx._
        return self.render(ctx, "error.html", status=error.status, message=_(error.message, **error.values),
                           detail=error.detail)

    def service_error(self, ctx: Ctx, exc: ServiceError) -> Response:
        if exc.status == 401:  # the token is no longer accepted: sign in again
            if ctx.session is not None:
                self.store.revoke(ctx.session.id)
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
    def __init__(self, ctx: Ctx) -> None:
        super().__init__("sign-in needed")
        self.ctx = ctx


def pages_router(web: Web) -> APIRouter:
    api = APIRouter(include_in_schema=False)
    services = web.services

    # ------------------------------------------------------------------ sign-in and out
    @api.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        ctx = web.signed_in(request)
        return web.render(ctx, "home.html", reads_reports=ctx.session.role in READS_REPORTS)  # type: ignore[union-attr]

    @api.get("/signin", response_class=HTMLResponse)
    async def signin_page(request: Request) -> Response:
        ctx = web.context(request)
        return web.render(ctx, "signin.html", people=web.provider.people(), ended=request.query_params.get("ended"))

    @api.post("/signin")
    async def signin(request: Request) -> Response:
        ctx = web.context(request)
        form = await web.checked_form(ctx)
        person = web.provider.person(form.get("person", ""))
        if person is None:
            raise PageError(422, "Choose one of the people on the sign-in page.")
        session = web.store.sign_in(ctx.session, person=person.id, role=person.role, token=person.token)
        response = RedirectResponse("/", status_code=303)
        web.set_cookie(response, session)
        return response

    @api.post("/signout")
    async def signout(request: Request) -> Response:
        ctx = web.context(request)
        await web.checked_form(ctx)
        if ctx.session is not None:
            web.store.revoke(ctx.session.id)
        response = RedirectResponse("/signin?ended=1", status_code=303)
        response.delete_cookie(web.settings.cookie_name, path="/", httponly=True, samesite="lax",
                               secure=web.production)
        return response

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
        data = await services.get("reporting", "/scopes", ctx.session.token)  # type: ignore[union-attr]
        return ScopeChoices.of(data, ctx._)

    @api.get("/reports", response_class=HTMLResponse)
    async def dashboard(request: Request) -> Response:
        ctx = web.signed_in(request)
        choices = await scope_choices(ctx)
        if not choices.options:
            return web.render(ctx, "reports.html", choices=choices, view=None, errors={}, values={}, months=[])
        q = request.query_params
        today = i18n.today()
        months = month_choices(today, ctx.lang)
        values = {
            "scope": q.get("scope") or choices.options[0].value,
            # this calendar year so far: reports cover whole calendar months, quarters or years
            "from": q.get("from") or months[today.month - 1].value,
            "to": q.get("to") or months[0].value,
            "grain": q.get("grain") if q.get("grain") in GRAINS else "month",
        }
        errors: dict[str, str] = {}
        scope = choices.find(values["scope"])
        if scope is None:
            errors["scope"] = ctx._("Choose one of the listed regions or projects.")
        period = period_of(values["from"], values["to"], values["grain"])
        if period is None:
            errors["from"] = ctx._("Choose months of one calendar year: the report covers the month, quarter or "
                                   "year that holds them.")
        view: ReportView | None = None
        if not errors and scope is not None and period is not None:
            params = {**scope.parameters, "period_start": period[0].isoformat(),
                      "period_end": period[1].isoformat(), "grain": values["grain"]}
            try:
                live = await services.get("reporting", "/reports/overview", ctx.session.token,  # type: ignore[union-attr]
                                          **params)
            except ServiceError as exc:
                if exc.status != 422:
                    raise
                errors["to"] = _in_lang(exc.detail or ctx._("Some of what was asked is not valid."), ctx.lang)
            else:
                view = report_view(live["content"], ctx.lang)
                values["publish"] = params
                values["command_key"] = new_command_key()
        template = "_dashboard.html" if request.headers.get("hx-request") else "reports.html"
        return web.render(ctx, template, choices=choices, view=view, errors=errors, values=values, months=months)

    @api.post("/reports/publish")
    async def publish(request: Request) -> Response:
        ctx = web.signed_in(request)
        form = await web.checked_form(ctx)
        title = " ".join(form.get("title", "").split())
        body: dict[str, Any] = {"kind": "overview"}
        for name in ("audience", "region", "project_id", "period_start", "period_end", "grain"):
            if form.get(name):
                body[name] = form[name]
        if not title or len(title) > 200:
            raise PageError(422, "Give the report a title (at most 200 characters).")
        body["title"] = title
        report = await services.post("reporting", "/reports", ctx.session.token, body,  # type: ignore[union-attr]
                                     idempotency_key=command_key(form))
        return RedirectResponse(f"/archive/{report['report_id']}?published=1", status_code=303)

    @api.get("/archive", response_class=HTMLResponse)
    async def archive(request: Request) -> Response:
        ctx = web.signed_in(request)
        choices = await scope_choices(ctx) if ctx.session.role in READS_REPORTS else ScopeChoices([], {})  # type: ignore[union-attr]
        listing = await services.get("reporting", "/reports", ctx.session.token, limit=200)  # type: ignore[union-attr]
        rows = [archive_row(item, ctx, choices) for item in listing["items"]]
        return web.render(ctx, "archive.html", rows=rows, total=listing["total"])

    def archive_row(item: dict[str, Any], ctx: Ctx, choices: ScopeChoices) -> dict[str, Any]:
        params = item.get("parameters", {})
        publisher = web.provider.person(item.get("created_by", ""))
        return {
            "id": item["report_id"],
            "title": item.get("title") or choices.describe(params, ctx._),
            "by": publisher.name if publisher else item.get("created_by", ""),
            "when": item.get("created_at", ""),
            "period": (params.get("period_start"), params.get("period_end")),
            "audience": choices.audience_label(params, ctx._),
            "scope": choices.describe(params, ctx._),
        }

    @api.get("/archive/{report_id}", response_class=HTMLResponse)
    async def published(request: Request, report_id: str) -> Response:
        ctx = web.signed_in(request)
        report = await services.get("reporting", f"/reports/{report_id}", ctx.session.token)  # type: ignore[union-attr]
        choices = await scope_choices(ctx)
        view = report_view(report["content"], ctx.lang) if report.get("kind") == "overview" else None
        row = archive_row(report, ctx, choices)
        return web.render(ctx, "report.html", report=report, row=row, view=view,
                          just_published=bool(request.query_params.get("published")))

    @api.get("/archive/{report_id}/download/{fmt}")
    async def download(request: Request, report_id: str, fmt: str) -> Response:
        ctx = web.signed_in(request)
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
