"""How an event looks on a Redis stream: FastStream's message format, body = envelope JSON."""

from __future__ import annotations

import json
from typing import Any

from faststream.redis.parser import BinaryMessageFormatV1
from pydantic import ValidationError

from shared.events.envelope import Envelope

DATA_KEY = b"__data__"


_HEADERS_JSON = {"content-type": "application/json"}


def body_of_row(row: Any, service: str) -> bytes:
    """The envelope JSON of a stored event, built from the row without model round trips.

    The payload is stored as canonical JSON text and is spliced in as it is.
    """
    head = json.dumps({
        "event_id": row["event_id"], "type": row["type"], "schema_version": row["schema_version"],
        "service": service, "stream_type": row["stream_type"], "stream_id": row["stream_id"],
        "version": row["version"], "position": row["position"], "occurred_at": row["occurred_at"],
        "recorded_at": row["recorded_at"], "project_id": row["project_id"],
        "actor": {"id": row["actor_id"], "role": row["actor_role"]},
        "correlation_id": row["correlation_id"], "causation_id": row["causation_id"],
    }, separators=(",", ":"), ensure_ascii=False)
    return (head[:-1] + ',"payload":' + row["payload"] + "}").encode()


async def encode_row(row: Any, service: str) -> bytes:
    """A stored event as a FastStream message (binary format v1), ready for XADD."""
    return await BinaryMessageFormatV1.encode(
        message=body_of_row(row, service), reply_to=None, correlation_id=row["correlation_id"],
        headers={**_HEADERS_JSON, "position": str(row["position"]), "type": row["type"]},
    )


class MalformedMessage(ValueError):
    """A stream entry that is not an event envelope; it goes to the dead-letter stream."""


def decode_entry(fields: dict[Any, Any]) -> Envelope:
    raw = fields.get(DATA_KEY, fields.get("__data__"))
    if raw is None:
        raise MalformedMessage("the entry has no __data__ field")
    if isinstance(raw, str):
        raw = raw.encode()
    try:
        body, _headers = BinaryMessageFormatV1.parse(raw)
    except Exception as exc:  # the parser raises assorted errors on garbage
        raise MalformedMessage(f"the entry is not a FastStream message: {exc}") from None
    try:
        return Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise MalformedMessage(f"the body is not an event envelope: {exc.error_count()} error(s), first: {exc.errors()[0]['msg']}") from None
