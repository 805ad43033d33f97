"""How an event looks on a Redis stream: FastStream's message format, body = envelope JSON."""

from __future__ import annotations

import struct
from typing import Any

from faststream.redis.parser import BinaryMessageFormatV1
from pydantic import ValidationError

from shared.events.envelope import Envelope
from shared.eventstore.store import envelope_json

DATA_KEY = b"__data__"

_V1_PREFIX = BinaryMessageFormatV1.IDENTITY_HEADER + b"\x00\x01"  # magic, format version 1
_V1_OFFSETS = struct.Struct(">II")  # where the headers start, where the body starts
_SHORT = struct.Struct(">H")


def body_of_row(row: Any, service: str) -> bytes:
    """The envelope JSON of a stored event (see ``envelope_json``)."""
    return envelope_json(row, service)


def _text(value: str) -> bytes:
    """A string as the binary format writes it: big-endian length, then UTF-8."""
    data = value.encode()
    return _SHORT.pack(len(data)) + data


_HEADERS_START = len(_V1_PREFIX) + _V1_OFFSETS.size
_HEADER_COUNT = _SHORT.pack(4)
_CORRELATION, _POSITION, _TYPE = _text("correlation_id"), _text("position"), _text("type")
_CONTENT_TYPE = _text("content-type") + _text("application/json")


def encode_row(row: Any, service: str) -> bytes:
    """A stored event as a FastStream message (binary format v1), ready for XADD.

    The bytes FastStream's ``BinaryMessageFormatV1.encode`` makes (a test holds them equal),
    written directly: its general path costs more per event than Redis does.
    """
    headers = b"".join((_CORRELATION, _text(row["correlation_id"]), _CONTENT_TYPE,
                        _POSITION, _text(str(row["position"])), _TYPE, _text(row["type"])))
    return b"".join((_V1_PREFIX, _V1_OFFSETS.pack(_HEADERS_START, _HEADERS_START + 2 + len(headers)),
                     _HEADER_COUNT, headers, envelope_json(row, service)))


class MalformedMessage(ValueError):
    """A stream entry that is not an event envelope; it goes to the dead-letter stream."""


def _body_v1(raw: bytes) -> bytes | None:
    """The body of a well-formed binary v1 message, without decoding its headers (we need none).

    None for anything else, which FastStream's own parser then reads as it always has.
    """
    if len(raw) < 20 or not raw.startswith(_V1_PREFIX):
        return None
    headers_start, body_start = _V1_OFFSETS.unpack_from(raw, len(_V1_PREFIX))
    if headers_start != len(_V1_PREFIX) + _V1_OFFSETS.size or not headers_start + 2 <= body_start <= len(raw):
        return None
    return raw[body_start:]


def decode_entry(fields: dict[Any, Any]) -> Envelope:
    raw = fields.get(DATA_KEY, fields.get("__data__"))
    if raw is None:
        raise MalformedMessage("the entry has no __data__ field")
    if isinstance(raw, str):
        raw = raw.encode()
    try:
        body = _body_v1(raw)
        if body is None:
            body, _headers = BinaryMessageFormatV1.parse(raw)
    except Exception as exc:  # the parser raises assorted errors on garbage
        raise MalformedMessage(f"the entry is not a FastStream message: {exc}") from None
    try:
        return Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise MalformedMessage(f"the body is not an event envelope: {exc.error_count()} error(s), first: {exc.errors()[0]['msg']}") from None
