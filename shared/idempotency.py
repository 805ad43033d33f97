"""Idempotent commands: an ``Idempotency-Key`` makes a command safe to send again.

A command whose answer was lost (a reset connection, a 503 after the commit began, a
client that timed out) can be sent again with the same key and body: it is carried out
at most once, and the caller gets the first answer again, marked ``Idempotent-Replayed:
true``. What holds:

- The key is recorded in the same transaction as the command's events (the event store
  calls ``record_claim`` before it commits), so a command is recorded with its key or not
  at all: no window where the events exist and the key does not.
- Keys belong to the caller (the actor id of the token): one user never sees another's
  answer, and two users may use the same key.
- The same key with another method, path, query or body is refused with 422.
- Two requests with the same key at once: the second finds the first's key under the
  store's head lock (or, outside the event store, by the primary key) and is refused with
  409 ``idempotency_key_in_use``, its transaction rolled back; sent again, it is answered
  the first one's result.
- The answer is kept right after the commit, before it is sent. Only answers of requests
  that recorded something are kept (a refusal that recorded nothing can simply be sent
  again), and never a 5xx (a 503 after the commit began does not know whether it held). Answers holding personal data are not kept (routes marked
  ``ANSWER_NOT_KEPT``): a repeat is told the command was recorded (409
  ``idempotency_answer_not_kept``). If the process stops between the commit and keeping
  the answer, a repeat is told the same.
- Keys are kept ``BUDDY_IDEMPOTENCY_KEEP_HOURS`` (default 24) and purged after that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from typing import Annotated, Any

import anyio
from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine, delete, select, update

from shared.auth import Authenticator, authenticate_credentials, bearer_scheme
from shared.clock import Clock
from shared.domain import DomainError
from shared.eventstore.claims import Claim, KeyInUse, claim_for_request
from shared.eventstore.db import reader
from shared.eventstore.store import format_time, parse_time
from shared.eventstore.tables import idempotency_keys
from shared.logging import get_logger

log = get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,100}$"
#: A key recorded this recently without an answer is taken to be still in flight (409 in use, retry).
IN_FLIGHT_S = 30
COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: ``openapi_extra`` of a command whose answer holds personal data: it is never kept.
ANSWER_NOT_KEPT = {"x-idempotent-answer-kept": False}

DESCRIPTION = (
    "Optioneel: een unieke sleutel per opdracht (bv. een UUID). Wie dezelfde opdracht opnieuw stuurt met "
    "dezelfde sleutel, krijgt het eerste antwoord terug (`Idempotent-Replayed: true`) en niets wordt twee keer "
    "geregistreerd; dezelfde sleutel met een ander verzoek geeft 422. Sleutels gelden per gebruiker en worden "
    "`BUDDY_IDEMPOTENCY_KEEP_HOURS` (standaard 24) uur bewaard. / "
    "Optional: a unique key per command (e.g. a UUID). Sending the command again with the same key answers "
    "the first result (`Idempotent-Replayed: true`) and records nothing twice; the same key with a different "
    "request is refused with 422. Keys belong to the caller and are kept `BUDDY_IDEMPOTENCY_KEEP_HOURS` "
    "(default 24) hours. 1–100 characters: letters, digits and `_ . : -`."
)

REUSED = ("Deze Idempotency-Key werd al gebruikt voor een ander verzoek / "
          "This Idempotency-Key was already used for a different request")
IN_USE = ("Een verzoek met deze Idempotency-Key wordt nog verwerkt; probeer zo meteen opnieuw / "
          "A request with this Idempotency-Key is still being handled; send it again in a moment")
NOT_KEPT = ("Dit verzoek werd al uitgevoerd, maar zijn antwoord werd niet bewaard; kijk het resultaat na "
            "of stuur een nieuw verzoek met een nieuwe sleutel / This request was already carried out but its "
            "answer was not kept; look up the result, or send a new request with a new key")


class KeyReused(DomainError):
    """The key came with a different request: refused, never answered with another request's result."""

    status_code = 422

    def __init__(self) -> None:
        super().__init__(REUSED, code="idempotency_key_reused")


class AnswerNotKept(DomainError):
    """The command was recorded but its answer is not at hand (HTTP 409)."""

    def __init__(self) -> None:
        super().__init__(NOT_KEPT, code="idempotency_answer_not_kept")


class Replay(Exception):
    """The first answer to a repeated command, to be sent again."""

    def __init__(self, status: int, body: bytes, media_type: str | None) -> None:
        super().__init__(status)
        self.status, self.body, self.media_type = status, body, media_type


def request_hash(secret: bytes, method: str, path: str, query: str, body: bytes) -> str:
    """What a repeat must match: method, path, query and body (JSON compared by content).

    Keyed (HMAC): a body holds personal data, and a plain hash of a name and a birth date
    could be confirmed by guessing.
    """
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:  # not JSON: the bytes as sent
        canonical = body
    digest = hmac.new(secret, f"{method}\n{path}\n{query}\n".encode(), hashlib.sha256)
    digest.update(canonical)
    return digest.hexdigest()


class IdempotencyKeys:
    """Looks keys up, keeps answers and purges old keys for one service database."""

    def __init__(self, engine: Engine, authenticator: Authenticator, clock: Clock, keep_hours: float,
                 secret: bytes) -> None:
        self.engine, self.authenticator, self.clock, self.secret = engine, authenticator, clock, secret
        self.keep = timedelta(hours=keep_hours)
        self._purged_at = 0.0
        self._purge_lock = threading.Lock()

    def dependency(self) -> Any:
        """The header every command route declares: validated, looked up, and claimed for the store."""

        async def idempotency_key(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
            key: Annotated[str | None, Header(alias=HEADER, min_length=1, max_length=100, pattern=KEY_PATTERN,
                                              description=DESCRIPTION)] = None,
        ) -> None:
            if key is None:
                return
            token = credentials.credentials if credentials is not None else ""
            principal = self.authenticator.known(token) if token else None
            if principal is None:  # may fetch the provider's keys: in a worker thread
                principal = await anyio.to_thread.run_sync(authenticate_credentials, self.authenticator, credentials)
            digest = request_hash(self.secret, request.method, request.url.path, request.url.query, await request.body())
            row = await anyio.to_thread.run_sync(self._find, principal.actor.id, key)
            if row is not None:
                if row.request_hash != digest:  # before anything else: a different request never learns more
                    raise KeyReused()
                if row.status is None:  # being handled, or the process stopped before keeping the answer
                    raise KeyInUse(key) if self._in_flight(row.created_at) else AnswerNotKept()
                if row.body is None:
                    raise AnswerNotKept()
                raise Replay(row.status, row.body, row.media_type)
            route = request.scope.get("route")
            extra = getattr(route, "openapi_extra", None) or {}
            claim = Claim(principal.actor.id, key, digest, self._now(),
                          keep_answer=extra.get("x-idempotent-answer-kept", True))
            request.state.idempotency_claim = claim
            claim_for_request(claim)

        return idempotency_key

    def _now(self) -> str:
        return format_time(self.clock.now())

    def _in_flight(self, created_at: str) -> bool:
        """Recorded so recently that its answer may still be on its way to being kept."""
        return (self.clock.now() - parse_time(created_at)).total_seconds() < IN_FLIGHT_S

    def _find(self, actor_id: str, key: str) -> Any:
        with reader(self.engine).connect() as conn:
            return conn.execute(select(idempotency_keys).where(
                idempotency_keys.c.actor_id == actor_id, idempotency_keys.c.idem_key == key)).first()

    def keep_answer(self, claim: Claim, status: int, body: bytes, media_type: str | None) -> None:
        """Keep the answer of a recorded command (not its body when it holds personal data)."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Not worth a wait for the disk: lost in a crash, the answer is told "not kept",
                # as when the process stops before this point; the command itself is durable.
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            conn.execute(update(idempotency_keys).where(
                idempotency_keys.c.actor_id == claim.actor_id, idempotency_keys.c.idem_key == claim.key,
                idempotency_keys.c.token == claim.token,  # a transaction rolled back leaves no row of ours
            ).values(status=status, body=body if claim.keep_answer else None,
                     media_type=media_type if claim.keep_answer else None))
        self.purge_now_and_then()

    def purge_now_and_then(self) -> None:
        """At most once an hour per process: drop keys older than the retention."""
        with self._purge_lock:
            if time.monotonic() - self._purged_at < 3600 and self._purged_at:
                return
            self._purged_at = time.monotonic()
        self.purge()

    def purge(self) -> int:
        cutoff = format_time(self.clock.now() - self.keep)
        with self.engine.begin() as conn:
            return conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)).rowcount


class KeepAnswers:
    """ASGI middleware: after a command that recorded its key, keeps the answer before sending it."""

    def __init__(self, app: Any, keys: IdempotencyKeys) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in COMMAND_METHODS:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        def claim() -> Claim | None:
            found = scope.get("state", {}).get("idempotency_claim")
            return found if isinstance(found, Claim) and found.recorded else None

        async def keeping_send(message: dict[str, Any]) -> None:
            nonlocal start
            # A 5xx after a commit (its outcome unknown to the server, or a fault) is no answer to
            # repeat: the key stays unanswered, and a repeat hears the command was recorded.
            if message["type"] == "http.response.start" and message["status"] < 500 and claim() is not None:
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            media_type = dict(start.get("headers") or []).get(b"content-type", b"").decode() or None
            recorded = claim()
            assert recorded is not None
            try:
                await anyio.to_thread.run_sync(self.keys.keep_answer, recorded, start["status"], body, media_type)
            except Exception:  # the command is recorded: still answer it; a repeat hears it was done
                log.warning("idempotency.answer_not_kept", key=recorded.key, exc_info=True)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, keeping_send)


def install(app: FastAPI, keys: IdempotencyKeys) -> None:
    """Answer replays, and keep answers; the routes declare the header with ``declare``."""

    @app.exception_handler(Replay)
    async def replay(_: Request, exc: Replay) -> Response:
        return Response(exc.body, status_code=exc.status, media_type=exc.media_type, headers={REPLAYED: "true"})

    @app.exception_handler(KeyInUse)
    async def in_use(_: Request, exc: KeyInUse) -> JSONResponse:
        return JSONResponse(status_code=409, headers={"Retry-After": "1"},
                            content={"detail": IN_USE, "code": "idempotency_key_in_use"})

    app.add_middleware(KeepAnswers, keys=keys)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                if method.upper() not in COMMAND_METHODS:
                    continue
                for code, response in operation.get("responses", {}).items():
                    if code.startswith("2"):
                        response.setdefault("headers", {})[REPLAYED] = {
                            "description": "`true` wanneer dit het eerste antwoord op een herhaalde opdracht is "
                                           "(zelfde Idempotency-Key) / `true` when this is the first answer to a "
                                           "repeated command (same Idempotency-Key)",
                            "schema": {"type": "string", "enum": ["true"]}}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def declare(routes: list[Any], keys: IdempotencyKeys) -> None:
    """Give every command route of a router the ``Idempotency-Key`` header (before it is included)."""
    dependency = Depends(keys.dependency())
    for route in routes:
        if isinstance(route, APIRoute) and route.methods & COMMAND_METHODS:
            # once, with these keys, even if the router is included in a second app
            route.dependencies[:] = [d for d in route.dependencies
                                     if getattr(d.dependency, "__name__", None) != "idempotency_key"]
            route.dependencies.append(dependency)

