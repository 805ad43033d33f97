"""How an event looks on a Redis stream: FastStream's message format, body = envelope JSON."""

from __future__ import annotations

from typing import Any

from faststream.redis.parser import BinaryMessageFormatV1
from pydantic import ValidationError

from shared.events.envelope import Envelope

DATA_KEY = b"__data__"


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
