"""Redis Sentinel and Redis Cluster on loopback, from the redis-server binary, for tests.

* ``SentinelTopology``: a primary, a replica and three sentinels (quorum 2, down after
  1 s); ``start()`` returns once every sentinel knows the primary, the replica and the two
  other sentinels and the replica's link is up.
* ``ClusterTopology``: three primaries, all 16384 slots assigned
  (``redis-cli --cluster create``; without redis-cli the same by CLUSTER ADDSLOTS/MEET);
  ``start()`` returns once every node reports ``cluster_state:ok``.

Every server runs in its own folder under ``root`` on a free loopback port and gets
SIGTERM when the thread that started it dies (``die_with_parent``). ``stop()`` (or
leaving the ``with`` block) ends them all; a server that does not stop in time is killed.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

from shared.embedded import die_with_parent, find_redis_server, free_port, terminate

HOST = "127.0.0.1"
MASTER_NAME = "buddy"
START_TIMEOUT_S = 10.0
AGREE_TIMEOUT_S = 20.0


def redis_binaries() -> tuple[str, str | None] | None:
    """(redis-server, redis-cli or None), preferring the redis-cli next to the server."""
    server = find_redis_server()
    if server is None:
        return None
    beside = Path(server).with_name("redis-cli")
    cli = str(beside) if beside.is_file() else shutil.which("redis-cli")
    return server, cli


def server_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in found.groups()) if found else (0,)


def _client(port: int, timeout: float = 1.0) -> redis.Redis:
    return redis.Redis(host=HOST, port=port, socket_timeout=timeout, socket_connect_timeout=timeout)


def wait_for(check, what: str, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Poll ``check()`` until truthy; the seconds it took. Errors count as "not yet"."""
    started = time.monotonic()
    last: object = None
    while True:
        try:
            if check():
                return time.monotonic() - started
        except (redis.RedisError, OSError) as exc:
            last = exc
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not reached within {timeout:.0f} s (last error: {last!r})")
        time.sleep(0.05)


class RedisProcess:
    """One redis-server (data node or sentinel) in ``folder``."""

    def __init__(self, binary: str, folder: Path, args: list[str], *, port: int | None = None,
                 config: str | None = None, extra_ports: int = 0) -> None:
        self.binary, self.folder, self.args = binary, folder, args
        self.config, self.extra_ports = config, extra_ports
        self.port = port or 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def logfile(self) -> Path:
        return self.folder / "redis.log"

    def _command(self) -> list[str]:
        head = [self.binary]
        if self.config is not None:
            conf = self.folder / "node.conf"
            conf.write_text(self.config.replace("{port}", str(self.port)).replace("{dir}", str(self.folder)))
            head.append(str(conf))
        return [*head, "--port", str(self.port), "--bind", HOST, "--dir", str(self.folder),
                "--logfile", str(self.logfile), "--daemonize", "no", *self.args]

    def start(self, choose_port=free_port) -> "RedisProcess":  # type: ignore[no-untyped-def]
        self.folder.mkdir(parents=True, exist_ok=True)
        fixed = bool(self.port)
        for attempt in range(1 if fixed else 3):
            if not fixed:
                self.port = choose_port()
            self.proc = subprocess.Popen(
                self._command(), cwd=self.folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=die_with_parent(signal.SIGTERM),
            )
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline and self.proc.poll() is None:
                with contextlib.suppress(redis.RedisError, OSError), contextlib.closing(_client(self.port, 0.5)) as c:
                    if c.ping():
                        return self
                time.sleep(0.02)
            if self.proc.poll() is None:  # alive but silent
                terminate(self.proc)
                break
            # exited at start (a port taken between choosing and binding): another port
        raise RuntimeError(f"redis-server did not start on port {self.port}; log tail:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no persistence, connections reset."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc, signal.SIGTERM, timeout=5)

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return _client(self.port, timeout)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


_DATA_ARGS = ["--save", "", "--appendonly", "no", "--protected-mode", "no",
              "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]


class SentinelTopology:
    """A primary, a replica and three sentinels monitoring them as ``MASTER_NAME``."""

    def __init__(self, root: Path, *, down_after_ms: int = 1000, failover_timeout_ms: int = 2000) -> None:
        found = redis_binaries()
        if found is None:
            raise RuntimeError("no redis-server")
        self.binary = found[0]
        self.root = Path(root)
        self.down_after_ms, self.failover_timeout_ms = down_after_ms, failover_timeout_ms
        self.data: list[RedisProcess] = []  # [initial primary, initial replica]
        self.sentinels: list[RedisProcess] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "SentinelTopology":
        try:
            primary = RedisProcess(self.binary, self.root / "primary", list(_DATA_ARGS)).start()
            self.data.append(primary)
            replica = RedisProcess(self.binary, self.root / "replica",
                                   [*_DATA_ARGS, "--replicaof", HOST, str(primary.port)]).start()
            self.data.append(replica)
            config = (
                "port {port}\n"
                f"bind {HOST}\n"
                "dir {dir}\n"
                "protected-mode no\n"
                f"sentinel monitor {MASTER_NAME} {HOST} {primary.port} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} {self.down_after_ms}\n"
                f"sentinel failover-timeout {MASTER_NAME} {self.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {MASTER_NAME} 1\n"
            )
            for i in range(3):
                self.sentinels.append(
                    RedisProcess(self.binary, self.root / f"sentinel-{i}", ["--sentinel"], config=config).start())
            self.wait_agreed()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for proc in [*self.sentinels, *self.data]:
            proc.stop()

    def __enter__(self) -> "SentinelTopology":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ state
    @property
    def url(self) -> str:
        hosts = ",".join(f"{HOST}:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{MASTER_NAME}/0"

    def primary_port(self) -> int:
        """The primary's port as the first sentinel that answers sees it."""
        for sentinel in self.sentinels:
            if not sentinel.running:
                continue
            with contextlib.suppress(redis.RedisError, OSError):
                with contextlib.closing(sentinel.client()) as client:
                    host, port = client.sentinel_get_master_addr_by_name(MASTER_NAME)
                return int(port)
        raise RuntimeError("no sentinel answers")

    def node_on(self, port: int) -> RedisProcess:
        return next(p for p in self.data if p.port == port)

    @property
    def primary(self) -> RedisProcess:
        return self.node_on(self.primary_port())

    @property
    def replica(self) -> RedisProcess:
        port = self.primary_port()
        return next(p for p in self.data if p.port != port and p.running)

    def wait_agreed(self, timeout: float = AGREE_TIMEOUT_S) -> float:
        """Every sentinel sees the same primary, one replica, two other sentinels; quorum reachable."""
        primary = self.primary_port()

        def agreed() -> bool:
            for sentinel in self.sentinels:
                client = sentinel.client()
                try:
                    state = client.sentinel_master(MASTER_NAME)
                    if int(state["port"]) != primary or state["is_sdown"] or state["is_odown"]:
                        return False
                    if state["num-other-sentinels"] != len(self.sentinels) - 1 or state["num-slaves"] < 1:
                        return False
                    if not client.execute_command("SENTINEL", "CKQUORUM", MASTER_NAME):
                        return False
                finally:
                    client.close()
            with contextlib.closing(self.replica.client()) as client:
                return client.info("replication").get("master_link_status") == "up"

        return wait_for(agreed, "sentinels agree on the primary", timeout)

    def wait_failover(self, old_port: int, timeout: float = 30.0) -> float:
        """Seconds until every live sentinel names a primary other than ``old_port`` and it accepts writes."""

        def switched() -> bool:
            ports = set()
            for sentinel in self.sentinels:
                client = sentinel.client()
                try:
                    ports.add(int(client.sentinel_get_master_addr_by_name(MASTER_NAME)[1]))
                finally:
                    client.close()
            if len(ports) != 1 or old_port in ports:
                return False
            with contextlib.closing(self.node_on(ports.pop()).client()) as client:
                return client.info("replication").get("role") == "master"

        return wait_for(switched, "sentinel failover", timeout)


class ClusterTopology:
    """Three primaries of one Redis Cluster, no replicas."""

    def __init__(self, root: Path, *, size: int = 3, node_timeout_ms: int = 2000) -> None:
        found = redis_binaries()
        if found is None:
            raise RuntimeError("no redis-server")
        self.binary, self.cli = found
        self.root, self.size, self.node_timeout_ms = Path(root), size, node_timeout_ms
        self.nodes: list[RedisProcess] = []

    def _node_args(self, index: int) -> tuple[list[str], object]:
        args = [*_DATA_ARGS[:6], "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{index}.conf",
                "--cluster-node-timeout", str(self.node_timeout_ms)]
        if server_version(self.binary) >= (7, 0, 0):
            # the cluster bus gets its own free port (default: port + 10000, maybe taken or > 65535)
            args += ["--cluster-port", str(free_port())]
            return args, free_port

        def port_with_free_bus() -> int:  # Redis < 7: the bus is always port + 10000
            for _ in range(50):
                port = free_port()
                if port + 10000 < 65536:
                    with contextlib.suppress(OSError), socket.socket() as sock:
                        sock.bind((HOST, port + 10000))
                        return port
            raise RuntimeError("no port with a free cluster bus port")

        return args, port_with_free_bus

    def start(self) -> "ClusterTopology":
        try:
            for i in range(self.size):
                args, choose = self._node_args(i)
                self.nodes.append(RedisProcess(self.binary, self.root / f"node-{i}", args).start(choose))
            self._create()
            self.wait_ok()
        except BaseException:
            self.stop()
            raise
        return self

    def _create(self) -> None:
        addresses = [f"{HOST}:{n.port}" for n in self.nodes]
        if self.cli is not None:
            done = subprocess.run(
                [self.cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True, text=True, timeout=60, preexec_fn=die_with_parent(signal.SIGTERM),
            )
            if done.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
            return
        # the same without redis-cli: an even share of slots each, then everyone meets the first
        per = 16384 // self.size
        for i, node in enumerate(self.nodes):
            last = 16383 if i == self.size - 1 else (i + 1) * per - 1
            with contextlib.closing(node.client(5)) as client:
                client.execute_command("CLUSTER", "ADDSLOTS", *range(i * per, last + 1))
        with contextlib.closing(self.nodes[0].client()) as client:
            for node in self.nodes[1:]:
                client.execute_command("CLUSTER", "MEET", HOST, node.port)

    def wait_ok(self, timeout: float = AGREE_TIMEOUT_S) -> float:
        def ok() -> bool:
            for node in self.nodes:
                with contextlib.closing(node.client()) as client:
                    info = client.execute_command("CLUSTER", "INFO")
                text = info.decode() if isinstance(info, bytes) else str(info)
                if "cluster_state:ok" not in text or f"cluster_known_nodes:{self.size}" not in text:
                    return False
            return True

        return wait_for(ok, "cluster_state:ok on every node", timeout)

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"{HOST}:{n.port}" for n in self.nodes)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> "ClusterTopology":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
