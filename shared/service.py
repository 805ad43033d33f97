"""What every service process has: database, store, vault, bus, auth and an HTTP app.

A service module supplies its routers and, if it consumes other services' events, the
upstreams and a handler; ``ServiceRuntime`` and ``create_app`` do the rest the same way
for all four.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import structlog
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.access import AccessRegister
from shared.auth import (
    UNAUTHENTICATED,
    Authenticator,
    authenticate_credentials,
    bearer_scheme,
    principal_dependency,
    require_role,
)
from shared.bus import EventConsumer, Feed, Handler, HttpFeed, OutboxRelay
from shared.bus.connect import bus_client, make_broker
from shared.bus.signing import BusKeys
from shared.clock import Clock, SystemClock
from shared.domain import DomainError, InvalidInput
from shared.events.envelope import Role
from shared.eventstore import ConcurrencyConflict, EventStore, StoreBusy, make_engine, migrate
from shared.eventstore.db import reader, rolled_back_for_another
from shared.idempotency import IdempotencyKeys
from shared.idempotency import declare as declare_idempotency
from shared.idempotency import install as install_idempotency
from shared.logging import configure_logging, get_logger
from shared.parameters import Position
from shared.privacy import SubjectProjects, holds_personal_data, own_stream_projects, personal_data_router
from shared.settings import Settings
from shared.vault import Vault

log = get_logger(__name__)


class ServiceRuntime:
    """The parts of one service process, wired from settings."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        upstreams: Sequence[str] = (),
        handler: Handler | None = None,
        writes_events: bool = True,
        clock: Clock | None = None,
        feed: Feed | None = None,
        batch: Callable[[Connection], Any] | None = None,
    ) -> None:
        self.name, self.settings = name, settings
        self.batch = batch  # the consumer's batch writer, when the service has a faster one
        self.clock = clock or SystemClock()
        self.engine = make_engine(settings.database_url_of(name), lock_timeout_s=settings.store_lock_timeout_s)
        event.listen(self.engine, "commit", _committing)
        self.store = EventStore(self.engine, name, self.clock)
        # Only services that own people hold a vault; reporting holds no personal data at all.
        self.vault = (
            Vault(self.engine, settings.key_bytes("master_key"), settings.key_bytes("blind_index_key"))
            if writes_events else None
        )
        # What a caller may do comes from the staff register this service learns (shared.access).
        self.access = AccessRegister(self.engine, bootstrap_admins=settings.bootstrap_admin_subjects())
        self.authenticator = Authenticator(settings, access=self.access)
        if not settings.redis_url:
            raise ValueError("BUDDY_REDIS_URL is not set: start the system with `make run` or point it at a Redis")
        self.broker = make_broker(settings.redis_url)
        self.bus_keys = BusKeys.from_settings(settings)  # signs what the relay publishes, checks what is consumed
        self.relay = (
            OutboxRelay(self.store, self.broker, settings.stream_of(name), interval_s=settings.relay_interval_s,
                        keys=self.bus_keys)
            if writes_events else None
        )
        self.upstreams, self.handler = tuple(upstreams), handler
        self.consumer: EventConsumer | None = None
        self._given_feed = feed  # default: the producers' HTTP feeds, opened at start
        self.feed: Feed | None = feed
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = False

    def migrate(self) -> None:
        migrate(self.engine, self.name)

    async def start(self) -> None:
        await anyio.to_thread.run_sync(self.migrate)
        redis = await bus_client(self.broker)  # connects the broker; follows Sentinel failovers
        if self.relay is not None:
            self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.name}-relay"))
        if self.upstreams and self.handler is not None:
            if self._given_feed is None:
                self.feed = HttpFeed(
                    {u: self.settings.url_of(u) for u in self.upstreams}, self.settings.service_token.get_secret_value()
                )
            self.consumer = EventConsumer(
                name=self.name,
                engine=self.engine,
                redis=redis,
                streams={u: self.settings.stream_of(u) for u in self.upstreams},
                handler=self.handler,
                feed=self.feed,
                dead_letter_stream=f"{self.settings.stream_prefix}:deadletter:{self.name}",
                dead_letter_after=self.settings.dead_letter_after,
                reclaim_idle_ms=self.settings.reclaim_idle_ms,
                catch_up_interval_s=self.settings.catch_up_interval_s,
                consumer_id=self.settings.consumer_name,
                keys=self.bus_keys,
                **({"batch": self.batch} if self.batch is not None else {}),
            )
            await self.consumer.start()
        for task in self.background_tasks():
            task.add_done_callback(self._task_ended)
        self.ready = True
        self._say_how_callers_are_let_in()
        log.info("service.started", service=self.name)

    def _say_how_callers_are_let_in(self) -> None:
        """At start-up: whether the public dev tokens are accepted and, if not, why (Settings.dev_token_refusals)."""
        refusals = self.settings.dev_token_refusals()
        if not refusals:
            log.warning("auth.dev_tokens_accepted", service=self.name,
                        why="public dev tokens, the default service token, /metrics and /docs are open: "
                             "development only")
            return
        # Asked for and refused is a configuration to fix; not asked for is the normal production state.
        (log.warning if self.settings.dev_tokens else log.info)(
            "auth.dev_tokens_refused", service=self.name, reasons=refusals)
        if self.settings.accepted_service_token() is None:
            log.warning("auth.service_token_missing", service=self.name,
                        why="BUDDY_SERVICE_TOKEN is not set: the event feeds and /metrics refuse the public "
                             "default, so consumers cannot catch up from the feeds")

    def background_tasks(self) -> list[asyncio.Task[None]]:
        """The relay and the consumer's loops: each must run for as long as the service does."""
        consumer_tasks = self.consumer.tasks if self.consumer is not None else []
        return [*self._tasks, *consumer_tasks]

    def stopped_tasks(self, *, detail: bool = True) -> list[str]:
        """Background tasks that ended although the service still runs, each with why.

        Without ``detail`` a crash is named by its exception type only: its message can hold
        host names or SQL, and is in the log (``service.background_task_stopped``).
        """
        if not self.ready:  # starting or stopping: tasks end on purpose
            return []
        return [f"{task.get_name()}: {_why_ended(task, detail=detail)}"
                for task in self.background_tasks() if task.done()]

    def _task_ended(self, task: asyncio.Task[None]) -> None:
        if self.ready:  # not a stop: say so at once, not at shutdown
            log.error("service.background_task_stopped", service=self.name, task=task.get_name(),
                      reason=_why_ended(task))

    async def stop(self) -> None:
        self.ready = False
        if self.consumer is not None:
            await self.consumer.stop()
        await _cancel(self._tasks)
        close = getattr(self.feed, "aclose", None)
        if self._given_feed is None and close is not None:
            await close()
        await self.broker.stop()
        self.engine.dispose()

    def recorded(self) -> None:
        """Tell the relay that new events were committed (safe from worker threads)."""
        if self.relay is not None:
            self.relay.notify()


def _why_ended(task: asyncio.Task[None], *, detail: bool = True) -> str:
    if task.cancelled():
        return "geannuleerd / cancelled"
    exc = task.exception()  # also marks it retrieved: no "never retrieved" warning at shutdown
    if exc is not None:
        if not detail:
            return f"gecrasht / crashed: {type(exc).__name__}"
        return f"gecrasht / crashed: {type(exc).__name__}: {exc}"[:300]
    return "beëindigd / returned"


INVALID_JSON = "Ongeldige JSON in het verzoek / The request body is not valid JSON"
TOO_LARGE = "Verzoek te groot / Request body too large"
TOO_SLOW = "Verzoek te traag ontvangen / Request body not received in time"


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel until the tasks are really done: a cancel can be swallowed by a wait that ends at once."""
    while pending := [t for t in tasks if not t.done()]:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1)
    tasks.clear()


def _readable(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = err.get("loc", ())
        if err.get("type") == "json_invalid":
            loc = ("body",)
        where = ".".join(str(p) for p in loc if p != "body") or "body"
        out.append({"field": where, "message": err.get("msg", "invalid"), "type": err.get("type")})
    return out


class FieldError(BaseModel):
    """One field at fault in invalid input."""

    field: str
    message: str
    type: str | None = None


class ErrorBody(BaseModel):
    """Every refusal: a sentence in Dutch and English, and for programs a code and the fields at fault."""

    detail: str
    code: str | None = None
    errors: list[FieldError] | None = None
    correlation_id: str | None = None


_ERRORS: dict[int, str] = {
    401: "Niet aangemeld of ongeldig token / Not authenticated or the token is invalid",
    403: "Geen toegang met deze rol, tot dit project of deze regio / Not allowed for this role, project or region",
    404: "Niet gevonden / Not found",
    409: "Strijdig met de huidige toestand of met een gelijktijdige wijziging / "
         "Conflicts with the current state or with a concurrent change",
    408: TOO_SLOW,
    413: TOO_LARGE,
    422: "Ongeldige invoer / Invalid input",
    503: "Databank of aanmelding tijdelijk niet bereikbaar, of het logboek bezet; probeer opnieuw (Retry-After) / "
         "Database or sign-in temporarily unavailable, or the event store busy; try again (Retry-After)",
}


def _walk(dependant: Dependant) -> tuple[bool, bool, bool]:
    """(authenticated, parameters, body) over a route's whole dependency tree."""
    auth = dependant.call is bearer_scheme
    params = bool(dependant.path_params or dependant.query_params or dependant.header_params or dependant.cookie_params)
    body = bool(dependant.body_params)
    for sub in dependant.dependencies:
        a, p, b = _walk(sub)
        auth, params, body = auth or a, params or p, body or b
    return auth, params, body


def _error_codes(route: RouteContext) -> list[int]:
    """The refusals a route can answer, from what it depends on: the shared handlers produce them."""
    auth, params, body = _walk(route.dependant)
    command = bool(route.methods - {"GET", "HEAD"})
    codes = [503]  # database (every route below reads it) or sign-in unavailable
    if auth:
        codes += [401, 403]
    if params or command:  # an id in the path, the query or the body names nothing known
        codes.append(404)
    if command:
        codes.append(409)
    if body:
        codes += [408, 413]
    if params or body or command:
        codes.append(422)
    return sorted(codes)


def document_errors(app: FastAPI, *, skip: Sequence[str] = ("/healthz", "/readyz")) -> None:
    """Declare in the OpenAPI the refusals the shared handlers give, once for every route.

    FastAPI only knows its own 422 (a list of errors); ours is ``ErrorBody`` like every
    other refusal, so the schema tells clients what they really get.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components["ErrorBody"] = body
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for route in iter_route_contexts(app.routes):
            if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
                continue
            if route.path_format in skip:
                continue
            for method in route.methods:
                operation = schema["paths"][route.path_format][method.lower()]
                responses = operation.setdefault("responses", {})
                for code in _error_codes(route):
                    documented = responses.get(str(code))
                    if documented is None or "HTTPValidationError" in str(documented):
                        responses[str(code)] = {"description": _ERRORS[code], "content": ref}
                if "503" in responses:
                    responses["503"].setdefault("headers", {"Retry-After": {
                        "description": "Seconden tot een nieuwe poging / Seconds until a retry",
                        "schema": {"type": "integer"}}})
        if "#/components/schemas/HTTPValidationError" not in json.dumps(schema["paths"]):
            components.pop("HTTPValidationError", None)  # and what only it used
            components.pop("ValidationError", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class _Attempt:
    """One try at a request: whether it began to commit, whether it may be tried again."""

    __slots__ = ("committing", "retry")

    def __init__(self) -> None:
        self.committing, self.retry = False, False


_attempt: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar("buddy_request_attempt", default=None)


def _committing(_conn: Any) -> None:
    # Runs in the request's worker thread, whose context is a copy holding the same attempt
    attempt = _attempt.get()
    if attempt is not None:
        attempt.committing = True


def _reconnectable(exc: OperationalError) -> bool:
    """The connection was lost or could not be opened, or the server rolled the transaction back
    to let another finish (a deadlock broken): trying again, from the start, may work."""
    return bool(exc.connection_invalidated) or exc.statement is None or rolled_back_for_another(exc)


class DatabaseRetry:
    """Runs a request again, a few times within seconds, when its database connection dropped.

    Only when nothing was committed yet: the failed transaction was rolled back, so trying
    again cannot record anything twice. A failure during or after a commit has an unknown
    outcome and is answered 503 at once, as is an outage that outlasts the retries.
    """

    # About 8 s in all: a PostgreSQL restart or a failover to a standby is ridden out;
    # a longer outage is answered 503 with Retry-After.
    def __init__(self, app: Any, delays: Sequence[float] = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)) -> None:
        self.app, self.delays = app, tuple(delays)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received: list[dict[str, Any]] = []  # the body as read so far, replayed to a retry

        async def recording() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                received.append(message)
            return message

        for tries, delay in enumerate((*self.delays, None), start=1):
            attempt, replay = _Attempt(), list(received)
            dropped = False

            async def attempt_receive() -> dict[str, Any]:
                return replay.pop(0) if replay else await recording()

            async def attempt_send(message: dict[str, Any]) -> None:
                nonlocal dropped
                if message["type"] == "http.response.start" and message["status"] == 503 and attempt.retry:
                    dropped = delay is not None
                if not dropped:
                    await send(message)

            token = _attempt.set(attempt)
            try:
                await self.app(scope, attempt_receive, attempt_send)
            finally:
                _attempt.reset(token)
            if not dropped:
                return
            log.info("http.database_retry", path=scope.get("path"), attempt=tries, after_s=delay)
            await asyncio.sleep(delay)  # type: ignore[arg-type]


class BodyLimit:
    """Refuses bodies over the limit with 413 and bodies that trickle in too slowly with 408.

    Both bound what one client can hold: memory by the size, a worker's time by the deadline
    (a slow-body client would otherwise keep a request open for as long as it likes).
    """

    def __init__(self, app: Any, max_bytes: int, timeout_s: float = 15.0) -> None:
        self.app, self.max_bytes, self.timeout_s = app, max_bytes, timeout_s

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await JSONResponse(status_code=413, content={"detail": TOO_LARGE})(scope, receive, send)
            return
        seen = 0
        complete = False
        deadline = time.monotonic() + self.timeout_s

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen, complete
            if complete:  # after the body only a disconnect can come: no deadline for that wait
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                raise StarletteHTTPException(408, TOO_SLOW) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise StarletteHTTPException(413, TOO_LARGE)  # answered by the app's HTTP error handler
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)


class Readiness(BaseModel):
    """Whether the service can take requests, and if not what is wrong."""

    status: Literal["ready", "unready"]
    problems: list[str]


class _Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("buddy_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("buddy_http_request_seconds", "HTTP request latency", ["route"], registry=self.registry)
        self.head = Gauge("buddy_store_head_position", "Last position in the event store", registry=self.registry)
        self.published = Gauge("buddy_relay_published_position", "Last position published to Redis", registry=self.registry)
        self.checkpoint = Gauge("buddy_consumer_checkpoint", "Last applied position per upstream", ["upstream"], registry=self.registry)
        self.applied = Gauge("buddy_consumer_applied", "Effects applied since start", registry=self.registry)
        self.forged = Gauge("buddy_consumer_forged_entries", "Stream entries set aside as forged since start "
                            "(no valid MAC, or unlike the producer's event)", registry=self.registry)
        self.diverged = Gauge("buddy_consumer_upstream_diverged",
                              "1 while an upstream no longer holds the events this consumer applied",
                              ["upstream"], registry=self.registry)


def _presents_one_of(credentials: HTTPAuthorizationCredentials | None, secrets: Sequence[str | None]) -> bool:
    """The bearer token is one of the (configured) secrets; compared in constant time."""
    if credentials is None:
        return False
    presented = credentials.credentials.encode()
    return any(secret and hmac.compare_digest(presented, secret.encode()) for secret in secrets)


def _refused() -> HTTPException:
    return HTTPException(401, detail=UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})


def create_app(runtime: ServiceRuntime, routers: Sequence[APIRouter], *, title: str, description: str,
               owners: SubjectProjects = own_stream_projects) -> FastAPI:
    """A FastAPI app with the endpoints every service has and errors people can read.

    ``owners``: which projects a person is in here, for the personal-data API (``shared.privacy``).

    What anonymous callers get (docs/operations.md, *Who may call what*): ``/healthz`` and
    ``/readyz`` always; ``/metrics`` and the API description only on the development system
    (where dev tokens are accepted). Elsewhere ``/metrics`` takes the metrics or service
    token and ``/openapi.json`` a signed-in caller, per ``BUDDY_API_DOCS``.
    """
    settings = runtime.settings
    configure_logging(settings.effective_log_format(), settings.log_level)
    metrics = _Metrics(runtime.name)
    development = settings.accepts_dev_tokens
    public_docs = settings.effective_api_docs() == "public"

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # /docs and /redoc are ours (serve_api_docs), never FastAPI's, whose pages load from a CDN
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, **({} if public_docs else {"openapi_url": None}))
    app.state.runtime = runtime
    keys = IdempotencyKeys(runtime.engine, runtime.authenticator, runtime.clock, settings.idempotency_keep_hours,
                           settings.key_bytes("blind_index_key"))
    install_idempotency(app, keys)  # innermost: each database retry looks the key up afresh
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout_s=settings.body_timeout_s)
    app.add_middleware(DatabaseRetry)  # outside the body limit, inside the correlation id and metrics

    @app.middleware("http")
    async def context(request: Request, call_next):  # type: ignore[no-untyped-def]
        correlation = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        try:
            correlation = str(uuid.UUID(correlation))
        except ValueError:
            correlation = str(uuid.uuid4())
        request.state.correlation_id = uuid.UUID(correlation)
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=correlation, service=runtime.name):
            response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)
        response.headers["x-correlation-id"] = correlation
        return response

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        content: dict[str, Any] = {"detail": exc.message, "code": exc.code, **exc.details}
        if isinstance(exc, InvalidInput) and exc.field:
            content["errors"] = [{"field": exc.field, "message": exc.message, "type": exc.code}]
        return JSONResponse(status_code=exc.status_code, content=content)

    @app.exception_handler(ConcurrencyConflict)
    async def conflict(_: Request, exc: ConcurrencyConflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={
            "detail": f"Iemand anders wijzigde dit intussen; laad opnieuw en probeer nog eens / {exc}",
            "code": "concurrent_change",
        })

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _readable(exc.errors())
        if any(e["type"] == "json_invalid" for e in errors):
            summary = INVALID_JSON
        else:
            summary = "Ongeldige invoer / Invalid input: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return JSONResponse(status_code=422, content={"detail": summary, "errors": errors, "code": "invalid_input"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer to a body that is not UTF-8: the same 422 as any other bad JSON
            return JSONResponse(status_code=422, content={
                "detail": INVALID_JSON, "code": "invalid_input",
                "errors": [{"field": "body", "message": "not UTF-8 encoded JSON", "type": "json_invalid"}]})
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers)

    @app.exception_handler(StoreBusy)
    async def store_busy(request: Request, exc: StoreBusy) -> JSONResponse:
        # Another write held the store's lock for the whole lock timeout and nothing was written:
        # the client tries again; not retried here, which would only queue behind the same lock
        log.warning("http.store_busy", path=request.url.path, waited_s=exc.timeout_s)
        return JSONResponse(status_code=503, headers={"Retry-After": "1"}, content={
            "detail": "Het logboek is bezig met een andere schrijfopdracht; er werd niets opgeslagen, probeer "
                      "opnieuw / The event store is busy with another write; nothing was recorded, please try again",
            "code": "store_busy"})

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        # The database is away (a restart, a cut connection): not the caller's fault, try again
        attempt = _attempt.get()
        if attempt is not None and not attempt.committing and _reconnectable(exc):
            attempt.retry = True  # DatabaseRetry runs it again on a new connection
        log.warning("http.database_unavailable", path=request.url.path, error=type(exc.orig).__name__,
                    retry=bool(attempt and attempt.retry))
        return JSONResponse(status_code=503, headers={"Retry-After": "2"}, content={
            "detail": "De databank is tijdelijk niet bereikbaar; probeer opnieuw / "
                      "The database is temporarily unavailable; please try again",
            "code": "database_unavailable"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unexpected_error", path=request.url.path)
        return JSONResponse(status_code=500, content={"detail": "Interne fout / Internal error",
                                                      "correlation_id": str(request.state.correlation_id)})

    ops = APIRouter(tags=["operations"])

    @ops.get("/healthz", summary="The process is alive (and which one: the instance id `buddy run` checks)")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name, "instance": settings.instance_id}

    @ops.get("/readyz", summary="Database and Redis answer, background workers run",
             response_model=Readiness, responses={503: {"model": Readiness, "description": "Niet klaar / Not ready"}})
    async def readyz() -> JSONResponse:
        problems = []
        try:
            await anyio.to_thread.run_sync(_ping_db, runtime)
        except Exception as exc:  # readiness reports, it does not fail
            problems.append(f"database: {type(exc).__name__}")
        try:
            await runtime.broker._connection.ping()
        except Exception as exc:
            problems.append(f"redis: {type(exc).__name__}")
        if not runtime.ready:
            problems.append("starting")
        # logged once, in full, when it stopped (ServiceRuntime._task_ended)
        for stopped in runtime.stopped_tasks(detail=development):
            problems.append(f"achtergrondtaak gestopt / background task stopped: {stopped}")
        if runtime.consumer is not None:  # a producer that lost events we applied, or a forged event applied
            for diverged in runtime.consumer.problems:
                problems.append(f"bron gestopt / upstream stopped: {diverged}")
        return JSONResponse(status_code=503 if problems else 200,
                            content={"status": "unready" if problems else "ready", "problems": problems})

    scrape_tokens = (settings.metrics_token.get_secret_value() if settings.metrics_token else None,
                     settings.accepted_service_token())

    def metrics_reader(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> None:
        if not _presents_one_of(credentials, scrape_tokens):
            raise _refused()

    @ops.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse,
             description="Open on the development system; elsewhere `Authorization: Bearer` with "
                         "`BUDDY_METRICS_TOKEN` or `BUDDY_SERVICE_TOKEN`.",
             dependencies=[] if development else [Depends(metrics_reader)])
    async def prometheus() -> PlainTextResponse:
        def read() -> None:
            metrics.head.set(runtime.store.head()[0])
            if runtime.relay is not None:
                metrics.published.set(runtime.relay.published_position())
            if runtime.consumer is not None:
                for upstream in runtime.upstreams:
                    metrics.checkpoint.labels(upstream).set(runtime.consumer.checkpoint(upstream))
                metrics.applied.set(runtime.consumer.applied)
                metrics.forged.set(runtime.consumer.forgeries)
                for upstream in runtime.upstreams:
                    metrics.diverged.labels(upstream).set(1 if upstream in runtime.consumer.diverged else 0)

        await anyio.to_thread.run_sync(read)
        return PlainTextResponse(generate_latest(metrics.registry).decode(), media_type="text/plain; version=0.0.4")

    app.include_router(ops)
    if public_docs:
        serve_api_docs(app)
    else:
        signed_in = principal_dependency(runtime.authenticator)

        # No /docs or /redoc: a browser cannot send the bearer token their page would need.
        @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(signed_in)])
        async def api_description() -> JSONResponse:
            return JSONResponse(app.openapi())

    if runtime.relay is not None:
        app.include_router(feed_router(runtime))
    if holds_personal_data(runtime):  # reads of personal data are reasoned and recorded
        routers = [personal_data_router(runtime, owners), *routers]
    for router in routers:
        declare_idempotency(router.routes, keys)  # every command takes an Idempotency-Key
        app.include_router(router)
    document_errors(app)
    return app


APIDOCS_FOLDER = Path(__file__).parent / "static" / "apidocs"
APIDOCS_ASSETS = {  # the only files /apidocs-assets/ serves, by name (shared/static/apidocs/README.md)
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
}


def _same_origin_only(page: HTMLResponse) -> HTMLResponse:
    """The page may load nothing from another host (ReDoc's menu would fetch its logo from a CDN)."""
    inline = re.findall(rb"<script>(.*?)</script>", page.body, re.DOTALL)
    scripts = "".join(f" 'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in inline)
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
    page.headers["Referrer-Policy"] = "no-referrer"
    return page


def serve_api_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) with their scripts from this service, so they work offline.

    The pages name only same-origin URLs (no CDN, no Google fonts, no online validator) and
    their Content-Security-Policy lets the browser load nothing else. The files are revalidated
    by their ETag after a day, so an upgrade reaches browsers by the next day.
    """

    def url(request: Request, path: str) -> str:
        return request.scope.get("root_path", "").rstrip("/") + path

    @app.get("/apidocs-assets/{name}", include_in_schema=False)
    async def apidocs_asset(name: str) -> FileResponse:
        media_type = APIDOCS_ASSETS.get(name)
        if media_type is None:
            raise HTTPException(404, detail="Not Found")
        return FileResponse(APIDOCS_FOLDER / name, media_type=media_type, headers={
            "Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})

    redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return _same_origin_only(get_swagger_ui_html(
            openapi_url=url(request, app.openapi_url or "/openapi.json"), title=f"{app.title} - Swagger UI",
            swagger_js_url=url(request, "/apidocs-assets/swagger-ui-bundle.js"),
            swagger_css_url=url(request, "/apidocs-assets/swagger-ui.css"),
            swagger_favicon_url=url(request, "/apidocs-assets/favicon-32x32.png"),
            oauth2_redirect_url=url(request, redirect),
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None}))

    @app.get(redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _same_origin_only(get_swagger_ui_oauth2_redirect_html())

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return _same_origin_only(get_redoc_html(
            openapi_url=url(request, app.openapi_url or "/openapi.json"), title=f"{app.title} - ReDoc",
            redoc_js_url=url(request, "/apidocs-assets/redoc.standalone.js"),
            redoc_favicon_url=url(request, "/apidocs-assets/favicon-32x32.png"), with_google_fonts=False))


def _ping_db(runtime: ServiceRuntime) -> None:
    with reader(runtime.engine).connect() as conn:
        conn.execute(text("SELECT 1"))


def feed_router(runtime: ServiceRuntime) -> APIRouter:
    """The service's log as a paginated feed: public parts only, for catch-up and audit."""
    router = APIRouter(tags=["event feed"])
    service_token = runtime.settings.accepted_service_token()  # never the public default outside development

    def feed_reader(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
    ) -> None:
        if _presents_one_of(credentials, (service_token,)):
            return
        principal = authenticate_credentials(runtime.authenticator, credentials)  # 401 when absent or wrong
        require_role(principal, Role.auditor, Role.admin)

    @router.get("/events", dependencies=[Depends(feed_reader)], summary="Events after a position, in log order")
    def events(
        after: Position = 0, limit: Annotated[int, Query(ge=1, le=5000)] = 500
    ) -> dict[str, Any]:
        rows = runtime.store.read_after(after, limit)
        return {"events": [r.envelope.model_dump(mode="json") for r in rows], "head": runtime.store.head()[0]}

    @router.get("/events/head", dependencies=[Depends(feed_reader)], summary="The last position and its hash")
    def head() -> dict[str, Any]:
        position, digest = runtime.store.head()
        return {"position": position, "hash": digest}

    return router


def correlation_of(request: Request) -> uuid.UUID:
    return request.state.correlation_id
