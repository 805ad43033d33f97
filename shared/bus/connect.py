"""One Redis URL, three topologies: a single server, Redis Sentinel or Redis Cluster.

``BUDDY_REDIS_URL`` may be

* ``redis://[[user]:password@]host:port/db`` (also ``rediss://`` and ``unix://``): one server;
* ``redis+sentinel://[[user]:password@]host1:port1,host2:port2,.../<master-name>[/<db>]``:
  the sentinels to ask for the current primary of ``<master-name>`` (port default 26379);
  the password is the data nodes' one; ``?sentinel_password=`` (and ``sentinel_username``)
  when the sentinels themselves require one;
* ``redis+cluster://[[user]:password@]host1:port1,host2:port2,...``: seed nodes of a
  Redis Cluster (port default 6379; the client discovers the other nodes; db is always 0).

Query options on all three: ``socket_timeout`` (default none: see below),
``socket_connect_timeout`` (default 2 s), ``socket_keepalive`` (default on, tuned to notice a
vanished peer in ~15 s), ``health_check_interval``, ``max_connections``, ``client_name``;
a single-server URL also takes whatever else redis-py reads from a URL.

``make_broker(url)`` gives the FastStream broker for the URL; ``bus_client(broker)`` the
connected redis.asyncio client the outbox relay and the consumers use: for Sentinel a
client bound to the primary that asks the sentinels again after every lost connection
(so it follows a failover), for Cluster a ``RedisCluster`` that routes each stream key to
its slot. Every command the bus uses touches one key (XADD in a non-transactional
pipeline on one stream, XREADGROUP on one stream, XAUTOCLAIM, XACK, XGROUP CREATE,
XPENDING, XRANGE, XDEL, DEL), so all of them work on a cluster.

The clients turn what a failover looks like from the client's side (no primary known yet,
a demoted primary answering READONLY, CLUSTERDOWN, TRYAGAIN, MASTERDOWN, NOREPLICAS,
LOADING, an unreachable cluster) into ``redis.exceptions.ConnectionError``: the relay
and the consumers already back off and retry on that, and nothing else stops them.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from faststream.redis import RedisBroker, RedisClusterBroker, RedisSentinelBroker
from faststream.redis.configs.state import (
    RedisClusterConnectionState,
    RedisConnectionState,
    RedisSentinelConnectionState,
)
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import (
    ClusterDownError,
    RedisClusterException,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

try:  # FastStream's client identification (CLIENT SETINFO); optional
    from faststream.redis.configs.state import _get_driver_info
except ImportError:  # pragma: no cover - a FastStream without it
    def _get_driver_info() -> dict[str, Any]:
        return {}

__all__ = [
    "BusClient",
    "RedisTopology",
    "bus_client",
    "make_broker",
    "open_client",
    "parse_redis_url",
]

Kind = Literal["single", "sentinel", "cluster"]
BusClient = Redis | RedisCluster



def _keepalive_options() -> dict[int, int]:
    """A dead peer (a primary whose host vanished, no RST) is noticed in ~15 s, not hours."""
    wanted = (("TCP_KEEPIDLE", 5), ("TCP_KEEPALIVE", 5), ("TCP_KEEPINTVL", 2), ("TCP_KEEPCNT", 3),
              ("TCP_USER_TIMEOUT", 15_000))  # ms: unacknowledged data (a command sent into the void)
    options: dict[int, int] = {}
    for name, value in wanted:
        const = getattr(socket, name, None)
        if const is not None and not (name == "TCP_KEEPALIVE" and hasattr(socket, "TCP_KEEPIDLE")):
            options[const] = value
    return options


# No socket_timeout by default: with one, redis-py writes through asyncio.wait_for, which on
# Python 3.11 can swallow a task's cancellation (a consumer that will not stop). Dead peers
# are found by TCP keepalive instead; blocking reads (XREADGROUP BLOCK) need no timeout.
DEFAULT_OPTIONS: dict[str, Any] = {
    "socket_timeout": None,
    "socket_connect_timeout": 2.0,
    "socket_keepalive": True,
    "socket_keepalive_options": _keepalive_options(),
}
_OPTION_PARSERS: dict[str, Any] = {
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "socket_keepalive": lambda v: v.strip().lower() in {"1", "true", "yes", "on"},
    "health_check_interval": int,
    "max_connections": int,
    "client_name": str,
}
_SENTINEL_OPTIONS = ("sentinel_password", "sentinel_username")
_SCHEMES: dict[str, Kind] = {"redis+sentinel": "sentinel", "redis+cluster": "cluster"}
# replies that mean "this node cannot serve writes right now, another one soon will"
_TRANSIENT_REPLIES = ("NOREPLICAS", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "LOADING", "READONLY", "UNBLOCKED")


# --------------------------------------------------------------------------- URL
@dataclass(frozen=True)
class RedisTopology:
    """What a Redis URL describes."""

    kind: Kind
    nodes: tuple[tuple[str, int], ...] = ()  # sentinels or cluster seeds; empty for a single server
    master_name: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_username: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)
    options: dict[str, Any] = field(default_factory=dict)  # connection options, defaults applied
    url: str = field(default="", repr=False)  # the URL as given (single server only)

    def redacted(self) -> str:
        """The URL without passwords, for logs and the start-up banner."""
        if self.kind == "single":
            parts = urlsplit(self.url)
            netloc = parts.netloc.rpartition("@")[-1]
            return parts._replace(netloc=netloc).geturl()
        hosts = ",".join(_hostport(h, p) for h, p in self.nodes)
        path = f"/{self.master_name}/{self.db}" if self.kind == "sentinel" else ""
        return f"redis+{self.kind}://{hosts}{path}"


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _parse_nodes(netloc: str, default_port: int, url_kind: str) -> tuple[tuple[str, int], ...]:
    nodes = []
    for part in netloc.split(","):
        part = part.strip()
        if not part:
            continue
        if part.startswith("["):  # [IPv6]:port
            host, _, rest = part[1:].partition("]")
            port_text = rest[1:] if rest.startswith(":") else ""
        else:
            host, _, port_text = part.partition(":")
        if not host:
            raise ValueError(f"{url_kind} URL: empty host in {part!r}")
        try:
            port = int(port_text) if port_text else default_port
        except ValueError:
            raise ValueError(f"{url_kind} URL: port of {part!r} is not a number") from None
        if not 0 < port < 65536:
            raise ValueError(f"{url_kind} URL: port of {part!r} is out of range")
        nodes.append((host, port))
    if not nodes:
        raise ValueError(f"{url_kind} URL: give at least one host:port")
    return tuple(nodes)


def _parse_options(query: str, allowed_extra: tuple[str, ...] = (), *, strict: bool = True,
                   ) -> tuple[dict[str, Any], dict[str, str]]:
    options, extra = dict(DEFAULT_OPTIONS), {}
    for name, value in parse_qsl(query, keep_blank_values=False):
        if name in allowed_extra:
            extra[name] = value
            continue
        parser = _OPTION_PARSERS.get(name)
        if parser is None:
            if not strict:  # a single server's URL: redis-py knows more (ssl_cert_reqs, protocol, ...)
                continue
            known = ", ".join([*_OPTION_PARSERS, *allowed_extra])
            raise ValueError(f"Redis URL: unknown option {name!r} (known: {known})")
        try:
            options[name] = parser(value)
        except ValueError:
            raise ValueError(f"Redis URL: {name}={value!r} is not a valid value") from None
    return options, extra


def parse_redis_url(url: str) -> RedisTopology:
    """Parse a single-server, Sentinel or Cluster URL; ValueError with a readable reason if wrong."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ValueError("Redis URL: expected scheme://..., e.g. redis://127.0.0.1:6379/0")
    if scheme in ("redis", "rediss", "unix"):
        parts = urlsplit(url)
        options, _ = _parse_options(parts.query, strict=False)
        if scheme == "unix":  # no TCP, no keepalive
            options = {k: v for k, v in options.items() if not k.startswith("socket_keepalive")}
        return RedisTopology(kind="single", options=options, url=url)
    if scheme in ("rediss+sentinel", "rediss+cluster"):
        raise ValueError(f"Redis URL: {scheme}:// (TLS) is not supported yet; see docs/redis-topologies.md")
    kind = _SCHEMES.get(scheme)
    if kind is None:
        raise ValueError(f"Redis URL: unknown scheme {scheme!r} (redis, rediss, unix, redis+sentinel, redis+cluster)")
    authority, _, path_query = rest.partition("/")
    if "?" in authority:  # redis+cluster://h:p?x=y without a slash
        authority, _, query = authority.partition("?")
        path = ""
    else:
        path, _, query = path_query.partition("?")
    userinfo, at, hosts = authority.rpartition("@")
    username = password = None
    if at:
        user_text, colon, pass_text = userinfo.partition(":")
        username = unquote(user_text) or None
        password = unquote(pass_text) if colon and pass_text else None
    segments = [unquote(s) for s in path.split("/") if s]
    if kind == "sentinel":
        nodes = _parse_nodes(hosts, 26379, "Sentinel")
        if not segments:
            raise ValueError("Sentinel URL: give the master name, e.g. redis+sentinel://h1:26379,h2:26379/mymaster/0")
        if len(segments) > 2:
            raise ValueError("Sentinel URL: the path is /<master-name>/<db>")
        try:
            db = int(segments[1]) if len(segments) == 2 else 0
        except ValueError:
            raise ValueError(f"Sentinel URL: db {segments[1]!r} is not a number") from None
        options, extra = _parse_options(query, _SENTINEL_OPTIONS)
        return RedisTopology(
            kind="sentinel", nodes=nodes, master_name=segments[0], db=db, username=username, password=password,
            sentinel_username=extra.get("sentinel_username"), sentinel_password=extra.get("sentinel_password"),
            options=options,
        )
    nodes = _parse_nodes(hosts, 6379, "Cluster")
    if segments and segments != ["0"]:
        raise ValueError("Cluster URL: a cluster has only db 0; leave the path empty")
    options, _ = _parse_options(query)
    return RedisTopology(kind="cluster", nodes=nodes, username=username, password=password, options=options)


def _inner_url(topology: RedisTopology, host: str, port: int) -> str:
    """A plain redis:// URL for FastStream: credentials, one node, the db (no options)."""
    cred = ""
    if topology.username or topology.password:
        cred = quote(topology.username or "", safe="")
        if topology.password:
            cred += ":" + quote(topology.password, safe="")
        cred += "@"
    return f"redis://{cred}{_hostport(host, port)}/{topology.db}"


# --------------------------------------------------------------------------- errors
def _as_connection_error(exc: BaseException) -> RedisConnectionError | None:
    """The ConnectionError a failover-time error stands for, or None if it is a real error."""
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return None
    transient = isinstance(exc, (ClusterDownError, TryAgainError, ReadOnlyError))
    if not transient and isinstance(exc, ResponseError):
        # a pipeline's error reads "Command # 1 (XADD ...) of pipeline caused error: ('NOREPLICAS ...',)"
        reply = str(exc).split("caused error: ", 1)[-1].lstrip("('\" ")
        transient = reply.split(" ", 1)[0].upper() in _TRANSIENT_REPLIES
    if not transient and isinstance(exc, RedisClusterException):
        # SlotNotCoveredError, or no node reachable while (re)initialising; not CROSSSLOT
        # and other mistakes of the caller
        text = str(exc)
        transient = type(exc).__name__ == "SlotNotCoveredError" or "cannot be connected" in text \
            or "not covered" in text or "No targets were found" in text
    if not transient:
        return None
    error = RedisConnectionError(f"Redis is failing over: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


async def _mapped(coro: Any) -> Any:
    try:
        return await coro
    except Exception as exc:
        mapped = _as_connection_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


class BusPipeline(Pipeline):
    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        return await _mapped(super().execute(raise_on_error))


class BusRedis(Redis):
    """A redis.asyncio client whose failover-time errors are ConnectionErrors."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        return await _mapped(super().execute_command(*args, **options))

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> BusPipeline:
        return BusPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


class BusClusterPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list[Any]:
        return await _mapped(super().execute(raise_on_error, allow_redirections))


class BusRedisCluster(RedisCluster):
    """A RedisCluster whose failover-time errors (CLUSTERDOWN, no node reachable, ...) are ConnectionErrors."""

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        return await _mapped(super().execute_command(*args, **kwargs))

    async def _determine_slot(self, command: str, *args: Any) -> int:
        # XREADGROUP's keys are "movable": redis-py asks a node (COMMAND GETKEYS) on every
        # call. The consumers read one stream per call: its key follows STREAMS.
        if str(command).upper() == "XREADGROUP" and len(args) >= 5:
            words = [a.upper() if isinstance(a, str) else a for a in args[3:]]
            for marker in ("STREAMS", b"STREAMS"):
                if marker in words:
                    rest = args[3 + words.index(marker) + 1:]
                    if len(rest) == 2:
                        return self.keyslot(rest[0])
        return await super()._determine_slot(command, *args)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> BusClusterPipeline:
        if shard_hint:
            raise RedisClusterException("shard_hint is deprecated in cluster mode")
        return BusClusterPipeline(self, transaction)


# --------------------------------------------------------------------------- connection states
class _SingleState(RedisConnectionState):
    async def connect(self) -> Redis:
        pool = ConnectionPool(**(self._options | _get_driver_info()))
        client = BusRedis.from_pool(pool)
        self._client, self._connected = client, True
        return client


class _SentinelState(RedisSentinelConnectionState):
    __slots__ = ("_manager",)

    async def connect(self) -> Redis:
        options = {k: v for k, v in self._options.items() if k not in {"host", "port", "connection_class"}}
        options |= _get_driver_info()
        self._manager = Sentinel(
            self._sentinels,
            sentinel_kwargs=dict(self._sentinel_kwargs) if self._sentinel_kwargs is not None else None,
            **options,
        )
        client = self._manager.master_for(self._master_name, redis_class=BusRedis)
        self._client, self._connected = client, True
        return client

    async def disconnect(self) -> None:
        await super().disconnect()
        manager = getattr(self, "_manager", None)
        if manager is not None:  # FastStream leaves the clients of the sentinels open
            self._manager = None
            await manager.aclose()


class _ClusterState(RedisClusterConnectionState):
    async def connect(self) -> RedisCluster:
        if self._connected and self._client is not None:
            return self._client
        # FastStream drops None options; socket_timeout=None must stay (RedisCluster's default is 5 s)
        options = {k: v for k, v in self._options.items() if v is not None or k == "socket_timeout"}
        client = BusRedisCluster(**(options | _get_driver_info()))
        self._client, self._connected = client, True
        return client


class _SingleBroker(RedisBroker):
    def _make_connection_state(self, connection_options: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        return _SingleState(connection_options)


class _SentinelBroker(RedisSentinelBroker):
    def _make_connection_state(self, connection_options: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        return _SentinelState(
            connection_options, sentinels=list(kwargs["sentinels"]), master_name=kwargs["sentinel_master_name"],
            sentinel_kwargs=kwargs.get("sentinel_kwargs"),
        )


class _ClusterBroker(RedisClusterBroker):
    def _make_connection_state(self, connection_options: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        return _ClusterState(connection_options)


# --------------------------------------------------------------------------- public API
def make_broker(url: str | RedisTopology, **broker_kwargs: Any) -> RedisBroker:
    """The FastStream broker for a single-server, Sentinel or Cluster URL (not yet connected).

    Returns a ``RedisBroker``, ``RedisSentinelBroker`` or ``RedisClusterBroker`` (subclasses
    that build the failover-aware clients of this module). ``broker_kwargs`` go to the broker.
    """
    topology = url if isinstance(url, RedisTopology) else parse_redis_url(url)
    options = topology.options | broker_kwargs
    if topology.kind == "single":
        # the URL's own query options are parsed by redis-py; only add the defaults it lacks
        given = {k for k, _ in parse_qsl(urlsplit(topology.url).query)}
        defaults = {k: v for k, v in options.items() if k not in given or k in broker_kwargs}
        return _SingleBroker(topology.url, **defaults)
    first_host, first_port = topology.nodes[0]
    if topology.kind == "sentinel":
        sentinel_kwargs = {k: v for k, v in options.items() if k.startswith("socket_")}
        if topology.sentinel_password:
            sentinel_kwargs["password"] = topology.sentinel_password
        if topology.sentinel_username:
            sentinel_kwargs["username"] = topology.sentinel_username
        return _SentinelBroker(
            _inner_url(topology, first_host, first_port), sentinels=list(topology.nodes),
            sentinel_master_name=topology.master_name, sentinel_kwargs=sentinel_kwargs, **options,
        )
    return _ClusterBroker(
        _inner_url(topology, first_host, first_port), startup_nodes=list(topology.nodes[1:]), **options,
    )


async def bus_client(broker: RedisBroker) -> BusClient:
    """The connected client the relay and consumers use (``broker._connection``), connecting if needed.

    For a broker from ``make_broker``: a ``BusRedis`` (single server; Sentinel: bound to
    the current primary, re-asking the sentinels after every lost connection) or a
    ``BusRedisCluster``. A plain FastStream broker gives its own client unchanged.
    """
    if getattr(broker, "_connection", None) is None:
        await broker.connect()
    client = broker._connection
    if client is None:  # pragma: no cover - FastStream contract
        raise RuntimeError("the broker did not connect")
    return client


@asynccontextmanager
async def open_client(url: str) -> AsyncIterator[BusClient]:
    """A client for a tool that needs no broker (``buddy`` commands): connected, closed after."""
    broker = make_broker(url)
    client = await bus_client(broker)
    try:
        yield client
    finally:
        await broker.stop()

