"""Event feeds: how a consumer reads a producer's log without Redis (catch-up, rebuild)."""

from __future__ import annotations

from typing import Protocol

import anyio
import httpx

from shared.events.envelope import Envelope
from shared.eventstore.store import EventStore


class Feed(Protocol):
    async def read(self, service: str, after: int, limit: int) -> list[Envelope]: ...

    async def head(self, service: str) -> int: ...


class HttpFeed:
    """Reads ``GET {base}/events?after=N&limit=M`` of each producer."""

    def __init__(self, base_urls: dict[str, str], token: str, *, client: httpx.AsyncClient | None = None) -> None:
        self.base_urls = base_urls
        self._client = client or httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"})

    async def read(self, service: str, after: int, limit: int) -> list[Envelope]:
        resp = await self._client.get(f"{self.base_urls[service]}/events", params={"after": after, "limit": limit})
        resp.raise_for_status()
        return [Envelope.model_validate(e) for e in resp.json()["events"]]

    async def head(self, service: str) -> int:
        resp = await self._client.get(f"{self.base_urls[service]}/events/head")
        resp.raise_for_status()
        return int(resp.json()["position"])

    async def aclose(self) -> None:
        await self._client.aclose()


class StoreFeed:
    """Reads producers' stores directly; for tools and tests that hold the stores."""

    def __init__(self, stores: dict[str, EventStore]) -> None:
        self.stores = stores

    async def read(self, service: str, after: int, limit: int) -> list[Envelope]:
        rows = await anyio.to_thread.run_sync(self.stores[service].read_after, after, limit)
        return [r.envelope for r in rows]

    async def head(self, service: str) -> int:
        position, _ = await anyio.to_thread.run_sync(self.stores[service].head)
        return position
