"""The four services' HTTP APIs, called with the signed-in person's own access token.

The web front decides nothing about access: whatever a service refuses, the page shows
as refused. Errors come back as ``ServiceError`` with the status and the service's own
sentence (Dutch / English), for the error page; never as raw JSON to the reader.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from shared.settings import Settings

SERVICES = ("recruitment", "matching", "followup", "reporting")


class ServiceError(Exception):
    def __init__(self, status: int, detail: str = "", fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status, self.detail, self.fields = status, detail, fields or []


def _error(resp: httpx.Response) -> ServiceError:
    try:
        body = resp.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    fields = body.get("errors") if isinstance(body, dict) else None
    return ServiceError(resp.status_code, detail if isinstance(detail, str) else "", fields if isinstance(fields, list) else None)


class Services:
    """One connection pool to the services; each call carries the caller's token."""

    def __init__(self, settings: Settings, *, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = {name: settings.url_of(name).rstrip("/") for name in SERVICES}
        self.client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def aclose(self) -> None:
        await self.client.aclose()

    def _url(self, service: str, path: str) -> str:
        return f"{self.urls[service]}{path}"

    async def call(self, method: str, service: str, path: str, token: str, *, params: dict[str, Any] | None = None,
                   json: Any = None, idempotency_key: str | None = None) -> Any:
        resp = await self._send(method, service, path, token, params=params, json=json, idempotency_key=idempotency_key)
        return resp.json()

    async def _send(self, method: str, service: str, path: str, token: str, *, params: dict[str, Any] | None = None,
                    json: Any = None, idempotency_key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            resp = await self.client.request(method, self._url(service, path), params=params, json=json,
                                             headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceError(503, f"{service}: {type(exc).__name__}") from exc
        if resp.status_code >= 400:
            raise _error(resp)
        return resp

    async def get(self, service: str, path: str, token: str, **params: Any) -> Any:
        return await self.call("GET", service, path, token, params={k: v for k, v in params.items() if v is not None})

    async def get_digested(self, service: str, path: str, token: str, **params: Any) -> tuple[Any, str]:
        """The answer and a digest of its bytes: the same answer again has the same digest."""
        resp = await self._send("GET", service, path, token, params={k: v for k, v in params.items() if v is not None})
        return resp.json(), hashlib.sha256(resp.content).hexdigest()

    async def post(self, service: str, path: str, token: str, body: Any, *, idempotency_key: str) -> Any:
        """A command, with the key its form was rendered with: a double click or a resent form
        is answered with the first result by the service, never recorded twice."""
        return await self.call("POST", service, path, token, json=body, idempotency_key=idempotency_key)

    async def open_stream(self, service: str, path: str, token: str, **params: Any) -> httpx.Response:
        """A file from a service, to pass through as it arrives; the caller closes it.

        A refusal is raised before the first byte, so the reader gets the error page."""
        request = self.client.build_request("GET", self._url(service, path), params=params,
                                            headers={"Authorization": f"Bearer {token}"})
        try:
            resp = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ServiceError(503, f"{service}: {type(exc).__name__}") from exc
        if resp.status_code >= 400:
            await resp.aread()
            await resp.aclose()
            raise _error(resp)
        return resp
