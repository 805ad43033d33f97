"""A small TCP proxy to cut and restore one service's connection to Redis or PostgreSQL.

Every proxy runs on one asyncio loop in a daemon thread of the test process
(``ProxyHub``). ``cut()`` resets every open connection (SO_LINGER 0: the peers see a
reset, as after a network failure or a firewall reset) and resets new ones at once until
``restore()``; the target server itself is untouched. A proxy whose target is down
resets the client's connection, like a refused connect would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
HOST = "127.0.0.1"
CALL_TIMEOUT_S = 10.0


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset, not a polite FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target_port`` until cut."""

    def __init__(self, hub: "ProxyHub", name: str, target_port: int, target_host: str = HOST) -> None:
        self.hub, self.name = hub, name
        self.target_host, self.target_port = target_host, target_port
        self.port = 0
        self.is_open = True
        self.cuts = 0  # how many times cut (a figure)
        self.connections = 0  # accepted, ever
        self._server: asyncio.base_events.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()

    @property
    def url_host_port(self) -> str:
        return f"{HOST}:{self.port}"

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if not self.is_open:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            _reset(writer)
            return
        if not self.is_open:  # cut while connecting
            _reset(writer)
            _reset(up_writer)
            return
        self._live.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._live.discard(writer)
            self._live.discard(up_writer)
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:  # one side ended: end the other side too
            with contextlib.suppress(Exception):
                writer.transport.abort()

    async def _cut(self) -> int:
        self.is_open = False
        self.cuts += 1
        live, self._live = list(self._live), set()
        for writer in live:
            _reset(writer)
        return len(live) // 2

    async def _restore(self) -> None:
        self.is_open = True

    async def _close(self) -> None:
        await self._cut()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    # -- from any thread ------------------------------------------------------------
    def cut(self) -> int:
        """Reset every open connection and refuse new ones; returns how many were open."""
        return self.hub.call(self._cut())

    def restore(self) -> None:
        self.hub.call(self._restore())

    def __repr__(self) -> str:
        state = "open" if self.is_open else "CUT"
        return f"<TcpProxy {self.name} :{self.port} -> :{self.target_port} {state}>"


class ProxyHub:
    """One event loop thread for all proxies of a test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.proxies: list[TcpProxy] = []
        self._thread = threading.Thread(target=self._run, name="fault-proxies", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=CALL_TIMEOUT_S)

    def add(self, name: str, target_port: int) -> TcpProxy:
        proxy = TcpProxy(self, name, target_port)
        self.call(proxy._start())
        self.proxies.append(proxy)
        return proxy

    def close(self) -> None:
        for proxy in self.proxies:
            with contextlib.suppress(Exception):
                self.call(proxy._close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> "ProxyHub":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
