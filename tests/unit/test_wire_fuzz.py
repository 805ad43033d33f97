"""Whatever arrives on a stream, decoding either yields an envelope or says it is malformed:
never another exception, so a consumer dead-letters it and carries on."""

from __future__ import annotations

import asyncio
import json

from faststream.redis.parser import BinaryMessageFormatV1
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.bus.wire import MalformedMessage, decode_entry
from shared.events.envelope import Envelope

FIELD_NAMES = st.sampled_from([b"__data__", "__data__", b"data", b"other"])
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _decodes_or_is_malformed(fields: dict) -> None:  # type: ignore[type-arg]
    try:
        assert isinstance(decode_entry(fields), Envelope)
    except MalformedMessage:
        pass


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.dictionaries(FIELD_NAMES, st.binary(max_size=300), max_size=3))
def test_random_bytes(fields: dict) -> None:  # type: ignore[type-arg]
    _decodes_or_is_malformed(fields)


ENVELOPE_SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.one_of(st.uuids().map(str), st.text(max_size=10), st.integers()),
        "type": st.one_of(st.text(max_size=20), st.integers()),
        "schema_version": st.one_of(st.integers(-2, 5), st.text(max_size=3)),
        "service": st.text(max_size=10),
        "stream_type": st.text(max_size=10),
        "stream_id": st.text(max_size=10),
        "version": st.integers(-1, 5),
        "position": st.one_of(st.integers(-1, 10**12), st.floats(allow_nan=False), st.text(max_size=5)),
        "occurred_at": st.one_of(st.datetimes().map(lambda d: d.isoformat() + "+00:00"), st.text(max_size=10)),
        "recorded_at": st.one_of(st.datetimes().map(lambda d: d.isoformat() + "+00:00"), st.text(max_size=10)),
        "project_id": st.one_of(st.none(), st.text(max_size=10)),
        "actor": st.one_of(st.fixed_dictionaries({"id": st.text(max_size=5), "role": st.sampled_from(["admin", "nobody"])}),
                           JSONISH),
        "correlation_id": st.one_of(st.uuids().map(str), st.text(max_size=5)),
        "causation_id": st.one_of(st.none(), st.uuids().map(str)),
        "payload": JSONISH,
    },
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(ENVELOPE_SHAPED, st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3))
def test_random_valid_shaped_envelopes_in_the_real_format(body: dict, headers: dict) -> None:  # type: ignore[type-arg]
    data = asyncio.run(BinaryMessageFormatV1.encode(message=json.dumps(body).encode(), reply_to=None,
                                                    headers=headers, correlation_id="c"))
    _decodes_or_is_malformed({b"__data__": data})
