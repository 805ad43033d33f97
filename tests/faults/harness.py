"""The fault-injection harness: the four services under a steady load, faults at seeded
random moments, then quiet, then the checks of ``tests/faults/checks.py``.

One ``Scenario`` is one run:

1. a private Redis (AOF on) and, for the PostgreSQL variant, a private PostgreSQL with a
   database per service; every service reaches Redis (and PostgreSQL) through its own
   ``TcpProxy``, so one service's connection can be cut;
2. the four services as real processes (``FaultSystem``, the e2e ``ServiceSystem`` with
   per-service settings and ``kill -9``);
3. ``Load``: worker threads drive volunteers through their journey (enquiry, intake,
   screening, coaching, availability), refer participants, match duos with the matching
   flow (proposal, both accept, kick-off), log contacts and end some duos, through the
   public APIs with the flows of ``tests/e2e/flows.py``; a reader polls the read APIs.
   Every response status is recorded; connection errors are counted apart;
4. the fault schedule (``make_schedule``, a seeded ``random.Random``) runs in the main
   thread (children are tied to the thread that started them);
5. load stops, held-back ("late") bus copies are delivered, ``quiesce`` waits (bounded) until
   every relay has published its head and every consumer's checkpoint equals its
   upstreams' heads, and the services are stopped;
6. ``checks.verify`` reads the databases; ``Scenario.figures`` are the numbers to quote.

Nothing here asserts timings; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable, TypeVar

import httpx
import redis

from shared.bus.wire import DATA_KEY, MalformedMessage, decode_entry
from shared.embedded import die_with_parent
from shared.settings import SERVICES
from tests.e2e import flows
from tests.e2e.flows import ADMIN, PRO
from tests.e2e.system import REPO_ROOT, Api, ServiceSystem
from tests.faults.checks import PRODUCERS, UPSTREAMS, Verdict, verify
from tests.faults.proxy import ProxyHub, TcpProxy
from tests.faults.servers import FaultPostgres, FaultRedis

T = TypeVar("T")
PROJECTS = (("demo-antwerpen", "11002", "antwerpen-kempen"), ("demo-gent", "44021", "oost-vlaanderen"))
KEY_PREFIX = "faults"
QUIET_TIMEOUT_S = 150.0
STEP_TIMEOUT_S = 60.0

#: every kind of fault, with what it does (the docs and the summary use these words)
KINDS = {
    "kill9": "kill -9 of a service process, then restart",
    "redis_restart_aof": "Redis shut down and restarted with its append-only file",
    "redis_crash_aof": "Redis killed (SIGKILL) and restarted from its append-only file (fsync every second)",
    "redis_data_lost": "Redis killed and restarted with its data files deleted (no streams, no groups)",
    "cut_redis": "one service's connections to Redis reset and refused for a while, then restored",
    "restart_without_redis": "a service killed (kill -9) and started again while its Redis is unreachable; "
                             "Redis comes back a few seconds later",
    "cut_db": "one service's connections to PostgreSQL reset and refused for a while, then restored",
    "pg_restart_fast": "PostgreSQL fast shutdown and restart",
    "pg_restart_immediate": "PostgreSQL immediate shutdown (crash, WAL recovery) and restart",
    "bus_duplicates": "copies of real stream entries added many times, some of them late",
    "bus_reorder": "a consumer killed; its unread stream tail deleted and added back shuffled, "
                   "duplicated and partly late; the consumer restarted",
    "bus_poison": "garbage entries (not events) added to every stream",
    "bus_forgery": "a consumer killed; entries with the positions of real events (applied, unread, the newest) and "
                   "other content added to its upstream streams, without the bus key; the consumer restarted",
}
DOWN_S = {  # how long a fault lasts: (min, max) seconds
    "kill9": (0.2, 2.5), "redis_restart_aof": (0.3, 2.5), "redis_crash_aof": (0.3, 2.5),
    "redis_data_lost": (0.3, 2.0), "cut_redis": (1.0, 5.0), "cut_db": (1.0, 5.0),
    "pg_restart_fast": (0.5, 3.0), "pg_restart_immediate": (0.5, 3.0), "bus_reorder": (3.0, 6.0),
    "restart_without_redis": (2.0, 6.0), "bus_forgery": (1.0, 4.0),
}


# --------------------------------------------------------------------------- services
class FaultSystem(ServiceSystem):
    """``ServiceSystem`` with settings per service (its own proxies) and ``kill -9``."""

    def __init__(self, *, service_env: dict[str, dict[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service_env = service_env

    def _spawn(self, name: str) -> None:
        env = dict(self.env)
        env["BUDDY_PORT"] = str(self.ports[name])
        env.update(self.service_env.get(name, {}))
        with self.log_file(name).open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "serve", name],
                cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )

    def kill9(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)

    def restart(self, name: str, attempts: int = 2) -> None:
        for attempt in range(attempts):
            try:
                self.start(name)
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                self.kill9(name)


# --------------------------------------------------------------------------- responses
_ID_SEGMENT = re.compile(r"^(?=.*\d)[\w-]{6,}$|^demo-[a-z]+$")


def route_of(path: str) -> str:
    return "/".join("{id}" if _ID_SEGMENT.match(s) else s for s in path.split("?")[0].split("/"))


class Recorder:
    """Every response status the load got, and every connection error, by service."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.transport: Counter[tuple[str, str]] = Counter()
        self.server_errors: list[dict[str, Any]] = []
        self.timeline: list[tuple[float, str, int | None]] = []
        self.replayed = 0  # retries answered with the first answer (Idempotent-Replayed)

    def response(self, service: str, method: str, path: str, resp: httpx.Response) -> None:
        now = time.monotonic() - self.t0
        with self.lock:
            self.statuses[(service, resp.status_code)] += 1
            self.replayed += resp.headers.get("idempotent-replayed") == "true"
            self.timeline.append((now, service, resp.status_code))
            if resp.status_code >= 500:
                self.server_errors.append({
                    "at_s": round(now, 2), "service": service, "method": method, "route": route_of(path),
                    "status": resp.status_code, "body": resp.text[:300],
                })

    def failed(self, service: str, exc: BaseException) -> None:
        now = time.monotonic() - self.t0
        with self.lock:
            self.transport[(service, type(exc).__name__)] += 1
            self.timeline.append((now, service, None))

    def figures(self) -> dict[str, Any]:
        with self.lock:
            by_class: Counter[str] = Counter()
            by_status: Counter[str] = Counter()
            for (_, status), n in self.statuses.items():
                by_class[f"{status // 100}xx"] += n
                by_status[str(status)] += n
            by_service: Counter[str] = Counter()
            for (service, _), n in self.transport.items():
                by_service[service] += n
            return {
                "responses": sum(self.statuses.values()),
                "by_class": dict(sorted(by_class.items())),
                "by_status": dict(sorted(by_status.items())),
                "5xx": by_class.get("5xx", 0),
                "connection_errors": sum(self.transport.values()),
                "connection_errors_by_service": dict(sorted(by_service.items())),
                "replayed": self.replayed,
            }


# The Idempotency-Key of the step a load thread is taking: every try of it sends the same one
_step = threading.local()


class RecordingApi(Api):
    """``Api`` that records the outcome of every request (the flows' helpers go through it).

    A command sent during a step carries the step's Idempotency-Key, as a client should.
    """

    def __init__(self, system: ServiceSystem, recorder: Recorder, timeout: float = 15) -> None:
        super().__init__(system, timeout=timeout)
        self.recorder = recorder

    def request(self, method: str, service: str, path: str, token: str | None = None, body: Any = None,
                **kwargs: Any) -> httpx.Response:
        key = getattr(_step, "key", None)
        if method != "GET" and key is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), "Idempotency-Key": key}
        try:
            resp = super().request(method, service, path, token, body, **kwargs)
        except httpx.TransportError as exc:
            self.recorder.failed(service, exc)
            raise
        self.recorder.response(service, method, path, resp)
        return resp


# --------------------------------------------------------------------------- load
class Stop(Exception):
    """The load is over: leave the journey where it is."""


class Abandon(Exception):
    """A journey cannot go on (its reason is counted)."""


_STATUS = re.compile(r" -> (\d{3}):")


def _status_of(exc: AssertionError) -> int | None:
    found = _STATUS.search(str(exc))
    return int(found.group(1)) if found else None


def _today() -> str:
    return datetime.now(UTC).date().isoformat()  # the services' "today" is the UTC date


class Load:
    """Worker threads driving journeys through the public APIs, and a reader."""

    def __init__(self, system: ServiceSystem, recorder: Recorder, *, seed: int, workers: int = 3,
                 max_journeys: int = 2000, step_timeout: float = STEP_TIMEOUT_S) -> None:
        self.system, self.recorder, self.seed = system, recorder, seed
        self.workers, self.max_journeys, self.step_timeout = workers, max_journeys, step_timeout
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.started = 0
        self.counts: Counter[str] = Counter()
        self.abandoned: Counter[str] = Counter()
        self.crashed: list[str] = []
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        for i in range(self.workers):
            self._threads.append(threading.Thread(target=self._worker, args=(i,), name=f"load-{i}", daemon=True))
        self._threads.append(threading.Thread(target=self._reader, name="load-reader", daemon=True))
        for thread in self._threads:
            thread.start()

    def finish(self, timeout: float = 90) -> list[str]:
        """Stop and join; the names of threads that did not end in time."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        return [t.name for t in self._threads if t.is_alive()]

    def _next(self) -> int | None:
        with self.lock:
            if self.started >= self.max_journeys:
                return None
            self.started += 1
            return self.started

    def _worker(self, index: int) -> None:
        rng = random.Random(f"{self.seed}-worker-{index}")
        with RecordingApi(self.system, self.recorder) as api:
            while not self.stop.is_set():
                n = self._next()
                if n is None:
                    return
                try:
                    self.journey(api, n, rng)
                    self._count("journeys_completed")
                except Stop:
                    self._count("journeys_interrupted")
                    return
                except Abandon as exc:
                    with self.lock:
                        self.abandoned[str(exc)[:160]] += 1
                except Exception as exc:  # a bug of the harness: keep it visible
                    with self.lock:
                        self.crashed.append(f"{type(exc).__name__}: {exc}"[:400])
                    return

    def _reader(self) -> None:
        """Reads while everything happens: a 5xx on a read counts as much as on a write."""
        with RecordingApi(self.system, self.recorder) as api:
            while not self.stop.wait(0.5):
                for project_id, _, _ in PROJECTS:
                    for service, path, token in (
                        ("reporting", f"/reports/projects/{project_id}/summary", ADMIN),
                        ("matching", f"/projects/{project_id}/candidates?limit=20", PRO),
                        ("followup", f"/projects/{project_id}/duos?limit=20", PRO),
                        ("recruitment", f"/projects/{project_id}/volunteers?limit=20", PRO),
                    ):
                        with contextlib.suppress(httpx.TransportError):
                            api.get(service, path, token)

    def _count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n

    # ---------------------------------------------------------------- steps
    def call(self, service: str, fn: Callable[[], T], *, creates: bool = False, retry_404: bool = False) -> T | None:
        """Run one step until it answers.

        A connection error (or a 5xx, which is recorded and fails the run anyway) leaves the
        outcome unknown: the step is retried once the service answers again, with the same
        Idempotency-Key, so a first attempt that had been applied is answered again, not
        applied twice. A 409 on that retry means the first attempt had been applied but its
        answer is not at hand (for steps that create something, the step cannot go on).
        """
        unknown = False
        deadline = time.monotonic() + self.step_timeout
        _step.key = str(uuid.uuid4())
        try:
            while True:
                if self.stop.is_set():
                    raise Stop
                try:
                    return fn()
                except httpx.TransportError:
                    unknown = True
                except AssertionError as exc:
                    status = _status_of(exc)
                    if status is not None and status >= 500:
                        unknown = True  # recorded as a 5xx already; a user would try again
                    elif status == 404 and retry_404:
                        pass
                    elif status == 409 and "idempotency_key_in_use" in str(exc):
                        pass  # the first attempt is still being handled: its answer comes on a retry
                    elif status == 409 and unknown and not creates:
                        return None
                    else:
                        raise Abandon(f"{service} answered {status}: {str(exc)[:120]}") from exc
                if time.monotonic() > deadline:
                    raise Abandon(f"{service}: no answer within {self.step_timeout:.0f} s")
                time.sleep(0.2)
        finally:
            _step.key = None

    def until(self, service: str, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.step_timeout
        while not self.stop.is_set():
            with contextlib.suppress(httpx.TransportError):
                if check():
                    return
            if time.monotonic() > deadline:
                raise Abandon(f"{service}: {what} not within {self.step_timeout:.0f} s")
            time.sleep(0.2)
        raise Stop

    def journey(self, api: RecordingApi, n: int, rng: random.Random) -> None:
        project_id, nis, _ = PROJECTS[n % len(PROJECTS)]
        day = _today()
        volunteer_id = self.call("recruitment", lambda: flows.enquire(api, project_id, nis=nis), creates=True)
        assert volunteer_id
        self._count("volunteers")
        # the journey to availability, as flows.prepare and flows.make_available do it
        for path, body in (
            ("intake", {"held_on": day}),
            ("screening", {"screened_on": day, "outcome": "approved"}),
            ("training", {"session_on": day, "kind": "individual_coaching", "hours": 2}),
            ("availability", {"target_groups": ["individual_adult"], "languages": ["nl"]}),
        ):
            self.call("recruitment", lambda p=path, b=body: api.ok(api.post(
                "recruitment", f"/volunteers/{volunteer_id}/{p}", PRO, b)))
        participant_body = {
            "target_group": "individual_adult", "referrer_type": "social_services", "life_domains": ["isolation"],
            "municipality_nis": nis, "consent_recorded": True,
            "personal": {"first_name": "Test", "last_name": f"Deelnemer{n}"},
        }
        participant_id = self.call("matching", lambda: api.ok(api.post(
            "matching", f"/projects/{project_id}/participants", PRO, participant_body), 201)["participant_id"],
            creates=True, retry_404=True)
        assert participant_id
        self._count("participants")

        def in_pool() -> bool:
            resp = api.get("matching", f"/projects/{project_id}/candidates", PRO,
                           params={"has_room": "true", "limit": 500})
            return resp.status_code == 200 and any(c["volunteer_id"] == volunteer_id for c in resp.json()["candidates"])

        self.until("matching", in_pool, f"volunteer {volunteer_id} in the candidate pool")
        duo_id = self._propose(api, project_id, volunteer_id, participant_id)
        self.call("matching", lambda: flows.accept(api, duo_id, "volunteer"))
        self.call("matching", lambda: flows.accept(api, duo_id, "participant"))
        self.call("matching", lambda: flows.kick_off(api, duo_id))
        self._count("duos_started")
        for _ in range(rng.randint(1, 3)):
            self.call("followup", lambda: api.ok(api.post(
                "followup", f"/duos/{duo_id}/contacts", PRO, flows.contact_body(days_ago=0)), 201),
                creates=True, retry_404=True)
            self._count("contacts")
        if rng.random() < 0.5:
            self.call("matching", lambda: flows.end_duo(api, duo_id))
            self._count("duos_ended")

    def _propose(self, api: RecordingApi, project_id: str, volunteer_id: str, participant_id: str) -> str:
        lost_answer = False

        def attempt() -> str:
            nonlocal lost_answer
            try:
                return flows.propose(api, project_id, volunteer_id, participant_id)
            except httpx.TransportError:
                lost_answer = True
                raise
            except AssertionError:
                if lost_answer:  # the first proposal may have been recorded: find it
                    found = api.ok(api.get("matching", f"/projects/{project_id}/duos", PRO, params={
                        "volunteer_id": volunteer_id, "participant_id": participant_id}))["duos"]
                    if found:
                        return str(found[0]["duo_id"])
                raise

        duo_id = self.call("matching", attempt, creates=True)
        assert duo_id
        return duo_id


# --------------------------------------------------------------------------- the bus
def _is_event(fields: dict[Any, Any]) -> bool:
    try:
        decode_entry(fields)
    except MalformedMessage:
        return False
    return True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class BusChaos:
    """Puts copies, reordered tails and garbage on the services' streams (straight to Redis)."""

    def __init__(self, redis_url: str, prefix: str, rng: random.Random) -> None:
        self.client = redis.Redis.from_url(redis_url, socket_timeout=10, socket_connect_timeout=5)
        self.streams = {p: f"{prefix}:events:{p}" for p in PRODUCERS}
        self.rng = rng
        self.late: list[tuple[float, str, dict[Any, Any]]] = []
        self.injected: Counter[str] = Counter()
        self.garbage: Counter[str] = Counter()  # per producer stream
        self.forged: set[bytes] = set()  # the messages of forged entries: never copied as real events

    def close(self) -> None:
        self.client.close()

    def _events(self, entries: list[tuple[Any, dict[Any, Any]]]) -> list[tuple[Any, dict[Any, Any]]]:
        return [(eid, f) for eid, f in entries if f and _is_event(f) and f.get(DATA_KEY) not in self.forged]

    def _add(self, stream: str, copies: list[dict[Any, Any]]) -> None:
        if copies:
            with self.client.pipeline(transaction=False) as pipe:
                for fields in copies:
                    pipe.xadd(stream, fields)
                pipe.execute()

    def _later(self, stream: str, copies: list[dict[Any, Any]], within: tuple[float, float] = (3.0, 15.0)) -> None:
        for fields in copies:
            self.late.append((time.monotonic() + self.rng.uniform(*within), stream, fields))
        self.injected["late"] += len(copies)

    def flush_late(self, everything: bool = False) -> int:
        now = time.monotonic()
        due = [item for item in self.late if everything or item[0] <= now]
        self.late = [item for item in self.late if item not in due]
        for _, stream, fields in due:
            self._add(stream, [fields])
        return len(due)

    def duplicates(self) -> int:
        """Real entries (recent and old) added again 2-5 times each, shuffled; a third of them later."""
        added = 0
        for stream in self.streams.values():
            pool = self._events(self.client.xrevrange(stream, count=100) + self.client.xrange(stream, count=50))
            if not pool:
                continue
            picks = self.rng.sample(pool, min(len(pool), 8))
            copies = [fields for _, fields in picks for _ in range(self.rng.randint(2, 5))]
            self.rng.shuffle(copies)
            now, later = copies[: len(copies) * 2 // 3], copies[len(copies) * 2 // 3:]
            self._add(stream, now)
            self._later(stream, later)
            self.injected["duplicates"] += len(now)
            added += len(copies)
        return added

    def reorder(self, consumer: str) -> int:
        """While ``consumer`` is down: its unread tail of every upstream stream deleted and added back
        shuffled, a third duplicated, a quarter of the copies held back to arrive late."""
        moved = 0
        for upstream in UPSTREAMS[consumer]:
            stream = self.streams[upstream]
            try:
                groups = self.client.xinfo_groups(stream)
            except redis.ResponseError:
                continue  # no stream (yet)
            group = next((g for g in groups if _text(g["name"]) == consumer), None)
            if group is None:
                continue
            tail = self._events(self.client.xrange(stream, min=f"({_text(group['last-delivered-id'])}", max="+"))
            if len(tail) < 2:
                continue
            self.client.xdel(stream, *[eid for eid, _ in tail])
            copies = [f for _, f in tail] + [f for _, f in self.rng.sample(tail, len(tail) // 3)]
            self.rng.shuffle(copies)
            keep = len(copies) * 3 // 4
            self._add(stream, copies[:keep])
            self._later(stream, copies[keep:], within=(6.0, 20.0))
            self.injected["reordered"] += len(tail)
            self.injected["duplicates"] += len(tail) // 3
            moved += len(tail)
        return moved

    def poison(self) -> int:
        """Entries that are no event: each must be dead-lettered once by every consumer of the stream."""
        added = 0
        for producer, stream in self.streams.items():
            sample = self._events(self.client.xrevrange(stream, count=1))
            entries = asyncio.run(_garbage(sample[0][1] if sample else None, self.rng))
            for fields in entries:
                assert not _is_event(fields), f"not garbage: {fields!r}"
            self._add(stream, entries)
            self.garbage[producer] += len(entries)
            self.injected["poison"] += len(entries)
            added += len(entries)
        return added

    def forge(self, consumer: str) -> int:
        """While ``consumer`` is down: for each upstream stream, entries naming the positions of real
        events (the newest one and others at or below it, applied or not yet read) with another event
        id and other content, as someone who can write to Redis but lacks the bus key adds them:
        unsigned, signed with another key, or with a real entry's MAC. Each must be dead-lettered
        once by every consumer of the stream and never applied."""
        added = 0
        for upstream in UPSTREAMS[consumer]:
            stream = self.streams[upstream]
            recent = self._events(self.client.xrevrange(stream, count=100))
            if not recent:
                continue
            picks = [recent[0]] + self.rng.sample(recent[1:], min(len(recent) - 1, 7))
            entries = asyncio.run(_forgeries(stream, [f for _, f in picks], self.rng))
            self.forged.update(f[DATA_KEY] for f in entries)
            self._add(stream, entries)
            self.garbage[upstream] += len(entries)
            self.injected["forged"] += len(entries)
            added += len(entries)
        return added

    def garbage_expected(self) -> dict[str, int]:
        return {consumer: sum(self.garbage[u] for u in upstreams) for consumer, upstreams in UPSTREAMS.items()}


async def _garbage(real: dict[Any, Any] | None, rng: random.Random) -> list[dict[Any, Any]]:
    from faststream.redis.parser import BinaryMessageFormatV1

    async def message(body: bytes) -> bytes:
        return await BinaryMessageFormatV1.encode(message=body, reply_to=None, headers={"content-type": "application/json"},
                                                  correlation_id="00000000-0000-0000-0000-000000000000")

    entries: list[dict[Any, Any]] = [
        {DATA_KEY: rng.randbytes(64)},
        {b"not-the-data-field": b"hello"},
        {DATA_KEY: await message(b"{this is not json")},
        {DATA_KEY: await message(json.dumps({"hello": "world"}).encode())},
    ]
    if real is not None:
        from faststream.redis.parser import BinaryMessageFormatV1 as Format

        body, _ = Format.parse(real[DATA_KEY])
        envelope = json.loads(body)
        entries.append({DATA_KEY: await message(json.dumps({**envelope, "position": "not-a-number"}).encode())})
        entries.append({DATA_KEY: await message(json.dumps({**envelope, "payload": "not an object"}).encode())})
    return entries


async def _forgeries(stream: str, real: list[dict[Any, Any]], rng: random.Random) -> list[dict[Any, Any]]:
    """Each real entry's envelope with a new event id (and, for a contact, another contact and length)."""
    import uuid

    from faststream.redis.parser import BinaryMessageFormatV1 as Format

    from shared.bus.signing import MAC_KEY, BusKeys

    stranger = BusKeys([rng.randbytes(32)])  # a key the services do not hold
    entries: list[dict[Any, Any]] = []
    for i, fields in enumerate(real):
        body, _ = Format.parse(fields[DATA_KEY])
        envelope = json.loads(body)
        payload = dict(envelope["payload"])
        if "contact_id" in payload:
            payload["contact_id"] = f"forged-{rng.getrandbits(32):08x}"
        if isinstance(payload.get("minutes"), int):
            payload["minutes"] += 1
        forged = {**envelope, "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "payload": payload}
        raw = await Format.encode(message=json.dumps(forged).encode(), reply_to=None,
                                  headers={"content-type": "application/json"}, correlation_id=forged["correlation_id"])
        mac = (None, stranger.sign(stream, raw), fields.get(MAC_KEY))[i % 3]  # unsigned, another key, a copied MAC
        entries.append({DATA_KEY: raw} if mac is None else {DATA_KEY: raw, MAC_KEY: mac})
    return entries


# --------------------------------------------------------------------------- schedule
@dataclass
class Fault:
    at: float  # seconds after the load started
    kind: str
    target: str | None = None
    down_s: float = 0.0
    began: float | None = None
    took: float | None = None
    note: str = ""

    def label(self) -> str:
        return self.kind + (f":{self.target}" if self.target else "")


def make_schedule(rng: random.Random, plan: list[tuple[str, str | None]], start: float, end: float,
                  min_gap: float = 2.0) -> list[Fault]:
    """The plan's faults at random moments in [start, end], in random order, at least ``min_gap`` apart."""
    plan = list(plan)
    rng.shuffle(plan)
    times = sorted(rng.uniform(start, end) for _ in plan)
    faults, last = [], -min_gap
    for (kind, target), at in zip(plan, times):
        at = max(at, last + min_gap)
        low, high = DOWN_S.get(kind, (0.0, 0.0))
        faults.append(Fault(round(at, 2), kind, target, round(rng.uniform(low, high), 2)))
        last = at
    return faults


# --------------------------------------------------------------------------- quiet
_METRIC = re.compile(r'^(buddy_store_head_position|buddy_relay_published_position|buddy_consumer_checkpoint)'
                     r'(?:\{upstream="([^"]+)"\})? (\S+)$', re.M)


def snapshot(system: ServiceSystem, client: httpx.Client) -> dict[str, dict[str, int]]:
    """Per service: head, published, checkpoint:<upstream> (from /metrics)."""
    out: dict[str, dict[str, int]] = {}
    for name in SERVICES:
        text = client.get(f"{system.url(name)}/metrics").text
        values: dict[str, int] = {}
        for metric, upstream, value in _METRIC.findall(text):
            key = {"buddy_store_head_position": "head", "buddy_relay_published_position": "published"}.get(
                metric, f"checkpoint:{upstream}")
            values[key] = int(float(value))
        out[name] = values
    return out


def lagging(snap: dict[str, dict[str, int]]) -> list[str]:
    behind = []
    for producer in PRODUCERS:
        if snap[producer].get("published") != snap[producer].get("head"):
            behind.append(f"{producer} relay published {snap[producer].get('published')} of {snap[producer].get('head')}")
    for consumer, upstreams in UPSTREAMS.items():
        for upstream in upstreams:
            have, head = snap[consumer].get(f"checkpoint:{upstream}"), snap[upstream].get("head")
            if have != head:
                behind.append(f"{consumer} at {upstream} {have} of {head}")
    return behind


def pending_entries(client: redis.Redis, prefix: str) -> list[str]:
    """Stream entries delivered to a consumer group and not acknowledged (none once all is applied)."""
    out = []
    for consumer, upstreams in UPSTREAMS.items():
        for upstream in upstreams:
            try:
                count = client.xpending(f"{prefix}:events:{upstream}", consumer)["pending"]
            except redis.ResponseError:
                continue  # no stream or no group (Redis lost them): nothing pending
            if count:
                out.append(f"{consumer} has {count} entries of {upstream} pending")
    return out


def quiesce(system: ServiceSystem, timeout: float = QUIET_TIMEOUT_S) -> tuple[bool, float, str]:
    """Wait (bounded) until every relay and every consumer is at every head, twice in a row,
    and no consumer group has entries pending."""
    started = time.monotonic()
    previous: dict[str, int] | None = None
    last = "no answer yet"
    with httpx.Client(timeout=10) as client, contextlib.closing(
            redis.Redis.from_url(system.redis_url, socket_timeout=10, socket_connect_timeout=5)) as bus:
        while time.monotonic() - started < timeout:
            try:
                snap = snapshot(system, client)
            except httpx.HTTPError as exc:
                last, previous = f"metrics unreadable: {exc!r}", None
            else:
                behind = lagging(snap) or pending_entries(bus, system.key_prefix)
                heads = {p: snap[p].get("head", -1) for p in PRODUCERS}
                if not behind and heads == previous:
                    return True, time.monotonic() - started, ""
                previous = None if behind else heads
                last = "; ".join(behind) or "settling"
            time.sleep(0.5)
    return False, time.monotonic() - started, last


# --------------------------------------------------------------------------- a run
@dataclass
class Scenario:
    """One run: services, load and the fault plan; ``run()`` returns the figures (and raises nothing)."""

    name: str
    root: Path
    redis: FaultRedis
    plan: list[tuple[str, str | None]]
    seed: int
    load_s: float = 30.0
    workers: int = 3
    postgres: FaultPostgres | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    verdict: Verdict | None = None
    problems: list[str] = field(default_factory=list)

    def run(self) -> dict[str, Any]:
        rng = random.Random(self.seed)
        started = time.monotonic()
        hub = ProxyHub()
        redis_proxies = {s: hub.add(f"redis<-{s}", self.redis.port) for s in SERVICES}
        db_proxies: dict[str, TcpProxy] = {}
        service_env = {s: {"BUDDY_REDIS_URL": f"redis://{redis_proxies[s].url_host_port}/0"} for s in SERVICES}
        db_urls = {s: f"sqlite:///{(self.root / 'data' / f'{s}.db').as_posix()}" for s in SERVICES}
        if self.postgres is not None:
            for s in SERVICES:
                db_urls[s] = self.postgres.create_database(f"faults_{s}")
                db_proxies[s] = hub.add(f"postgres<-{s}", self.postgres.port)
                # one URL form for all services: the {service} placeholder picks the database
                service_env[s]["BUDDY_DATABASE_URL"] = self.postgres.url_via(
                    db_proxies[s].port, "faults_SERVICE").replace("faults_SERVICE", "faults_{service}")
        system = FaultSystem(
            redis_url=self.redis.url, key_prefix=KEY_PREFIX, data_dir=self.root / "data", service_env=service_env,
            overrides={"BUDDY_RECLAIM_IDLE_MS": "5000", "BUDDY_DEAD_LETTER_AFTER": "5"},
        )
        recorder = Recorder()
        chaos = BusChaos(self.redis.url, KEY_PREFIX, random.Random(f"{self.seed}-bus"))
        schedule = make_schedule(rng, self.plan, start=min(4.0, self.load_s / 4), end=max(5.0, self.load_s - 6))
        load = Load(system, recorder, seed=self.seed, workers=self.workers)
        quiet: tuple[bool, float, str] = (False, 0.0, "not reached")
        try:
            system.start_all()
            with RecordingApi(system, recorder) as api:
                for project_id, nis, region in PROJECTS:
                    flows.register_project(api, project_id, nis=nis, region=region)
            load.start()
            t0 = recorder.t0 = time.monotonic()  # response times and fault times on one clock
            for fault in schedule:
                while time.monotonic() - t0 < fault.at:
                    chaos.flush_late()
                    time.sleep(0.1)
                self._inject(fault, t0, system, redis_proxies, db_proxies, chaos)
            while time.monotonic() - t0 < self.load_s:
                chaos.flush_late()
                time.sleep(0.1)
            stuck = load.finish()
            if stuck:
                self.problems.append(f"load threads did not stop: {stuck}")
            chaos.flush_late(everything=True)
            dead = [n for n, p in system.procs.items() if p.poll() is not None]
            if dead:
                self.problems.append(f"services exited on their own: {dead}")
            quiet = quiesce(system)
            if not quiet[0]:
                self.problems.append(f"not quiet within {QUIET_TIMEOUT_S:.0f} s: {quiet[2]}")
        except Exception as exc:
            self.problems.append(f"scenario error: {type(exc).__name__}: {str(exc)[:2000]}")
        finally:
            load.finish(timeout=30)
            system.stop_all()
            hub.close()
            chaos.close()
        logs = system.log_text()
        try:
            self.verdict = verify(db_urls, self.root / "rebuilt", garbage_expected=chaos.garbage_expected(),
                                  garbage_exact=self._garbage_exact(schedule))
        except Exception as exc:
            self.problems.append(f"verification error: {type(exc).__name__}: {exc}")
        self.figures = self._figures(schedule, recorder, load, chaos, quiet, logs, time.monotonic() - started)
        return self.figures

    @staticmethod
    def _garbage_exact(schedule: list[Fault]) -> bool:
        """Every garbage entry is read (and dead-lettered) unless Redis lost entries after it was added."""
        poisoned = False
        for fault in schedule:
            poisoned = poisoned or fault.kind in ("bus_poison", "bus_forgery")
            if poisoned and fault.kind in ("redis_data_lost", "redis_crash_aof"):
                return False
        return True

    def _inject(self, fault: Fault, t0: float, system: FaultSystem, redis_proxies: dict[str, TcpProxy],
                db_proxies: dict[str, TcpProxy], chaos: BusChaos) -> None:
        fault.began = round(time.monotonic() - t0, 2)
        begun = time.monotonic()
        kind, target = fault.kind, fault.target
        if kind == "kill9":
            assert target
            system.kill9(target)
            time.sleep(fault.down_s)
            system.restart(target)
        elif kind == "restart_without_redis":
            assert target
            redis_proxies[target].cut()
            system.kill9(target)
            system._spawn(target)  # starts while Redis is unreachable for it
            time.sleep(fault.down_s)
            redis_proxies[target].restore()
            problem = system._wait_ready([target])
            if problem is not None:  # a problem of the service, not of the harness: say so, go on
                self.problems.append(f"{target} started without Redis did not become ready once Redis was "
                                     f"back: {problem[:1500]}")
                system.kill9(target)
                system.restart(target)
        elif kind == "redis_restart_aof":
            self.redis.restart(fault.down_s)
        elif kind == "redis_crash_aof":
            self.redis.crash(fault.down_s)
        elif kind == "redis_data_lost":
            self.redis.lose_data(fault.down_s)
        elif kind in ("cut_redis", "cut_db"):
            assert target
            proxy = (redis_proxies if kind == "cut_redis" else db_proxies)[target]
            fault.note = f"{proxy.cut()} connections reset"
            time.sleep(fault.down_s)
            proxy.restore()
        elif kind in ("pg_restart_fast", "pg_restart_immediate"):
            assert self.postgres is not None
            self.postgres.restart(kind.removeprefix("pg_restart_"), fault.down_s)
        elif kind == "bus_duplicates":
            fault.note = f"{chaos.duplicates()} copies"
        elif kind == "bus_poison":
            fault.note = f"{chaos.poison()} garbage entries"
        elif kind == "bus_reorder":
            assert target
            system.kill9(target)
            time.sleep(fault.down_s)  # its upstreams go on producing meanwhile
            fault.note = f"{chaos.reorder(target)} entries reordered"
            system.restart(target)
        elif kind == "bus_forgery":
            assert target
            system.kill9(target)
            time.sleep(fault.down_s)  # its upstreams go on producing: it restarts behind their heads
            fault.note = f"{chaos.forge(target)} forged entries"
            system.restart(target)
        else:  # pragma: no cover - a typo in a plan
            raise ValueError(f"unknown fault kind {kind}")
        fault.took = round(time.monotonic() - begun, 2)

    def _figures(self, schedule: list[Fault], recorder: Recorder, load: Load, chaos: BusChaos,
                 quiet: tuple[bool, float, str], logs: str, took: float) -> dict[str, Any]:
        verdict = self.verdict
        responses = recorder.figures()
        errors = [{**e, "fault": fault_at(schedule, e["service"], e["at_s"])} for e in recorder.server_errors]
        injected = [f for f in schedule if f.took is not None]
        key_types = ("VolunteerEnquiryReceived", "VolunteerMadeAvailable", "ParticipantReferred", "DuoStarted",
                     "DuoEnded", "VolunteerJoinedDuo", "VolunteerLeftDuo", "ContactLogged", "FollowUpCallScheduled")
        problems = list(self.problems) + (verdict.problems if verdict else ["no verdict"])
        if errors:
            problems.append(f"{len(errors)} responses with 5xx, by the fault going on: "
                            f"{dict(Counter(e['fault'] for e in errors))}; first: {errors[:3]}")
        if load.crashed:
            problems.append(f"load generator errors: {load.crashed[:3]}")
        return {
            "scenario": self.name,
            "seed": self.seed,
            "database": "postgresql" if self.postgres is not None else "sqlite",
            "seconds": round(took, 1),
            "load_seconds": self.load_s,
            "faults_injected": len(injected),
            "faults_by_kind": dict(Counter(f.kind for f in injected)),
            "fault_log": [{"at_s": f.began, "fault": f.label(), "down_s": f.down_s, "took_s": f.took,
                           **({"note": f.note} if f.note else {})} for f in schedule],
            "events_produced": verdict.produced if verdict else None,
            "events_by_service": dict(verdict.events) if verdict else None,
            "events_by_type": {t: verdict.types.get(t, 0) for t in key_types} if verdict else None,
            "lost": verdict.lost if verdict else None,
            "duplicated_effects": verdict.duplicated if verdict else None,
            "mismatched_rows": verdict.mismatched if verdict else None,
            "responses": responses["responses"],
            "responses_by_class": responses["by_class"],
            "5xx": responses["5xx"],
            "5xx_by_fault": dict(Counter(e["fault"] for e in errors)),
            "5xx_outside_fault_windows": sum(1 for e in errors if e["fault"].startswith("none")),
            "5xx_samples": errors[:10],
            "connection_errors": responses["connection_errors"],
            "connection_errors_by_service": responses["connection_errors_by_service"],
            "replayed_answers": responses["replayed"],
            "journeys": dict(load.counts),
            "journeys_abandoned": dict(load.abandoned.most_common(10)),
            "bus": dict(chaos.injected),
            "garbage_dead_lettered": dict(verdict.dead_lettered_garbage) if verdict else None,
            "gap_fills_logged": logs.count("consumer.gap"),
            "forgeries_logged": logs.count("consumer.entry_not_authentic"),
            "divergences_logged": logs.count("consumer.producer_lost_events") + logs.count("consumer.forged_event_applied"),
            "unexpected_errors_logged": logs.count("http.unexpected_error"),
            "quiet": quiet[0],
            "quiet_after_s": round(quiet[1], 1),
            "details": verdict.details if verdict else None,
            "problems": problems,
            "ok": not problems,
        }

    def failure_report(self) -> str:
        f = self.figures
        lines = [f"scenario {self.name} (seed {self.seed}) failed:"]
        lines += [f"  - {p}" for p in f.get("problems", self.problems)]
        lines.append("faults: " + ", ".join(f"{x['fault']}@{x['at_s']}s" for x in f.get("fault_log", [])))
        lines.append(f"logs: {self.root / 'data' / 'logs'}")
        return "\n".join(lines)


def affects(fault: Fault, service: str) -> bool:
    """Whether a fault takes something away from ``service`` (the bus faults take nothing away)."""
    if fault.kind in ("kill9", "cut_redis", "cut_db", "bus_reorder", "bus_forgery", "restart_without_redis"):
        return fault.target == service
    return not fault.kind.startswith("bus_")


def fault_at(schedule: list[Fault], service: str, at_s: float, grace_s: float = 1.0) -> str:
    """The fault affecting ``service`` at ``at_s`` (or up to ``grace_s`` after it ended), else "none"."""
    for fault in schedule:
        if fault.began is None or fault.took is None or not affects(fault, service):
            continue
        if fault.began <= at_s <= fault.began + fault.took + grace_s:
            return fault.label()
    before = [f for f in schedule if f.began is not None and f.took is not None and affects(f, service)
              and f.began + f.took < at_s]
    if before:
        last = before[-1]
        return f"none ({at_s - last.began - (last.took or 0):.1f} s after {last.label()})"
    return "none"


def figures_line(f: dict[str, Any]) -> str:
    return (f"{f['scenario']:<22} {f['database']:<10} faults {f['faults_injected']:>3}  events {f['events_produced']}  "
            f"lost {f['lost']}  duplicated {f['duplicated_effects']}  mismatched {f['mismatched_rows']}  "
            f"5xx {f['5xx']}  responses {f['responses']}  conn-errors {f['connection_errors']}  "
            f"{'ok' if f['ok'] else 'FAILED'}")


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


