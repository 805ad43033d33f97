"""What every service process has: database, store, vault, bus, auth and an HTTP app.

A service module supplies its routers and, if it consumes other services' events, the
upstreams and a handler; ``ServiceRuntime`` and ``create_app`` do the rest the same way
for all four.
"""

from __future__ import annotations

import asyncio
import hmac
import time
import uuid
from collections.abc import Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
import structlog
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.auth import Authenticator, Principal, bearer_scheme, principal_dependency, require_role
from shared.bus import EventConsumer, Feed, Handler, HttpFeed, OutboxRelay
from shared.bus.connect import bus_client, make_broker
from shared.clock import Clock, SystemClock
from shared.domain import DomainError, InvalidInput
from shared.events.envelope import Actor, Envelope, Role
from shared.eventstore import ConcurrencyConflict, EventStore, make_engine, migrate
from shared.eventstore.db import reader
from shared.logging import configure_logging, get_logger
from shared.privacy import holds_personal_data, personal_data_router
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
    ) -> None:
        self.name, self.settings = name, settings
        self.clock = clock or SystemClock()
        self.engine = make_engine(settings.database_url_of(name))
        self.store = EventStore(self.engine, name, self.clock)
        # Only services that own people hold a vault; reporting holds no personal data at all.
        self.vault = (
            Vault(self.engine, settings.key_bytes("master_key"), settings.key_bytes("blind_index_key"))
            if writes_events else None
        )
        self.authenticator = Authenticator(settings)
        if not settings.redis_url:
            raise ValueError("BUDDY_REDIS_URL is not set: start the system with `make run` or point it at a Redis")
        self.broker = make_broker(settings.redis_url)
        self.relay = (
            OutboxRelay(self.store, self.broker, settings.stream_of(name), interval_s=settings.relay_interval_s)
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
            )
            await self.consumer.start()
        self.ready = True
        log.info("service.started", service=self.name)

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


INVALID_JSON = "Ongeldige JSON in het verzoek / The request body is not valid JSON"
TOO_LARGE = "Verzoek te groot / Request body too large"


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


class BodyLimit:
    """Refuses bodies over the limit with 413 while reading them, chunked or not."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await JSONResponse(status_code=413, content={"detail": TOO_LARGE})(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise StarletteHTTPException(413, TOO_LARGE)  # answered by the app's HTTP error handler
            return message

        await self.app(scope, limited_receive, send)


class _Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("buddy_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("buddy_http_request_seconds", "HTTP request latency", ["route"], registry=self.registry)
        self.head = Gauge("buddy_store_head_position", "Last position in the event store", registry=self.registry)
        self.published = Gauge("buddy_relay_published_position", "Last position published to Redis", registry=self.registry)
        self.checkpoint = Gauge("buddy_consumer_checkpoint", "Last applied position per upstream", ["upstream"], registry=self.registry)
        self.applied = Gauge("buddy_consumer_applied", "Effects applied since start", registry=self.registry)


def create_app(runtime: ServiceRuntime, routers: Sequence[APIRouter], *, title: str, description: str) -> FastAPI:
    """A FastAPI app with the endpoints every service has and errors people can read."""
    settings = runtime.settings
    configure_logging(settings.effective_log_format(), settings.log_level)
    metrics = _Metrics(runtime.name)

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

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
        content: dict[str, Any] = {"detail": exc.message, "code": exc.code}
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

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        # The database is away (a restart, a cut connection): not the caller's fault, try again
        log.warning("http.database_unavailable", path=request.url.path, error=type(exc.orig).__name__)
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

    @ops.get("/healthz", summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @ops.get("/readyz", summary="Database and Redis answer, background workers run")
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
        return JSONResponse(status_code=503 if problems else 200,
                            content={"status": "unready" if problems else "ready", "problems": problems})

    @ops.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def prometheus() -> PlainTextResponse:
        def read() -> None:
            metrics.head.set(runtime.store.head()[0])
            if runtime.relay is not None:
                metrics.published.set(runtime.relay.published_position())
            if runtime.consumer is not None:
                for upstream in runtime.upstreams:
                    metrics.checkpoint.labels(upstream).set(runtime.consumer.checkpoint(upstream))
                metrics.applied.set(runtime.consumer.applied)

        await anyio.to_thread.run_sync(read)
        return PlainTextResponse(generate_latest(metrics.registry).decode(), media_type="text/plain; version=0.0.4")

    app.include_router(ops)
    if runtime.relay is not None:
        app.include_router(feed_router(runtime))
    if holds_personal_data(runtime):  # reads of personal data are reasoned and recorded
        app.include_router(personal_data_router(runtime))
    for router in routers:
        app.include_router(router)
    return app


def _ping_db(runtime: ServiceRuntime) -> None:
    with reader(runtime.engine).connect() as conn:
        conn.execute(text("SELECT 1"))


def feed_router(runtime: ServiceRuntime) -> APIRouter:
    """The service's log as a paginated feed: public parts only, for catch-up and audit."""
    router = APIRouter(tags=["event feed"])
    principal_of = principal_dependency(runtime.authenticator)
    service_token = runtime.settings.service_token.get_secret_value()

    def feed_reader(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
    ) -> None:
        if credentials is not None and hmac.compare_digest(credentials.credentials.encode(), service_token.encode()):
            return
        principal = principal_of(credentials)  # 401 when absent or wrong
        require_role(principal, Role.auditor, Role.admin)

    @router.get("/events", dependencies=[Depends(feed_reader)], summary="Events after a position, in log order")
    def events(
        after: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=5000)] = 500
    ) -> dict[str, Any]:
        rows = runtime.store.read_after(after, limit)
        return {"events": [r.envelope.model_dump(mode="json") for r in rows], "head": runtime.store.head()[0]}

    @router.get("/events/head", dependencies=[Depends(feed_reader)], summary="The last position and its hash")
    def head() -> dict[str, Any]:
        position, digest = runtime.store.head()
        return {"position": position, "hash": digest}

    return router


def actor_of(principal: Principal) -> Actor:
    return principal.actor


def correlation_of(request: Request) -> uuid.UUID:
    return request.state.correlation_id
