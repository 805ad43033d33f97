"""The relay writes FastStream's binary format itself and consumers read its body directly:
both must agree byte for byte with FastStream's own encoder and parser."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from faststream.redis.parser import BinaryMessageFormatV1

from shared.bus.wire import DATA_KEY, MalformedMessage, body_of_row, decode_entry, encode_row


def _row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "event_id": str(uuid.uuid4()), "type": "ContactLogged", "schema_version": 1, "stream_type": "duo",
        "stream_id": 'd-"1"\\é', "version": 2, "position": 12345, "occurred_at": "2026-01-01T00:00:00.000000+00:00",
        "recorded_at": "2026-01-02T00:00:00.000000+00:00", "project_id": None, "actor_id": "a-1",
        "actor_role": "buddy", "correlation_id": str(uuid.uuid4()), "causation_id": str(uuid.uuid4()),
        "payload": '{"minutes":60,"note":"é \\"q\\""}',
    }
    row.update(changes)
    return row


def _faststream(row: dict[str, object]) -> bytes:
    return asyncio.run(BinaryMessageFormatV1.encode(
        message=body_of_row(row, "followup"), reply_to=None, correlation_id=str(row["correlation_id"]),
        headers={"content-type": "application/json", "position": str(row["position"]), "type": str(row["type"])},
    ))


@pytest.mark.parametrize("row", [_row(), _row(project_id="p-1", causation_id=None, position=1)])
def test_encoded_rows_are_the_bytes_faststream_makes_and_decode_back(row: dict[str, object]) -> None:
    raw = encode_row(row, "followup")
    assert raw == _faststream(row)
    body, headers = BinaryMessageFormatV1.parse(raw)
    assert json.loads(body)["payload"] == json.loads(str(row["payload"]))
    assert headers["position"] == str(row["position"]) and headers["type"] == row["type"]
    envelope = decode_entry({DATA_KEY: raw})
    assert (envelope.position, envelope.stream_id, envelope.project_id) == (row["position"], row["stream_id"], row["project_id"])


def test_other_message_shapes_still_go_through_faststreams_parser() -> None:
    row = _row()
    legacy = json.dumps({"data": body_of_row(row, "followup").decode(), "headers": {}}).encode()
    assert decode_entry({DATA_KEY: legacy}).event_id == uuid.UUID(str(row["event_id"]))
    raw = bytearray(encode_row(row, "followup"))
    raw[14:18] = (len(raw) + 1).to_bytes(4, "big")  # a body offset beyond the end: not read as a body
    with pytest.raises(MalformedMessage):
        decode_entry({DATA_KEY: bytes(raw)})
