"""Authenticated stream entries: an HMAC-SHA256 over every entry with the bus key.

Whoever can write to Redis can add an entry shaped exactly like an event, with the position
of a real one; nothing in the entry itself tells it apart. The relay therefore signs each
entry with a key only the services hold (``BUDDY_BUS_KEY``), and a consumer applies no
entry whose MAC does not verify: such an entry is dead-lettered as not authentic.

The MAC covers the stream's key and the whole message (headers and envelope), so an entry
copied from one producer's stream to another's does not verify there. It travels in its own
field (``__mac__``) as a 4-byte key id and the 32-byte tag: the key id picks the key, so a
check costs one HMAC however many keys are configured. Several keys make a rotation
possible without a stop: the first one signs, every one verifies.

This runs for every event the relay publishes and every entry a consumer reads: the stdlib's
``hmac`` with SHA-256, keyed and fed the stream's name once per key and stream, then copied
for each message (about 2 µs for an event, a third of a one-shot ``hmac.digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Sequence
from typing import Any

from shared.bus.wire import DATA_KEY, MalformedMessage

MAC_KEY = b"__mac__"
KEY_ID_BYTES = 4
TAG_BYTES = 32
_STREAM_LENGTH = struct.Struct(">H")


class NotAuthentic(MalformedMessage):
    """An entry without a valid MAC: forged, altered, or signed with a key this service lacks."""


def key_id(key: bytes) -> bytes:
    """A short public name of a key (the first bytes of its SHA-256), written beside each MAC."""
    return hashlib.sha256(b"buddy bus key id\x00" + key).digest()[:KEY_ID_BYTES]


def _framed(stream: str | bytes) -> bytes:
    name = stream.encode() if isinstance(stream, str) else stream
    return _STREAM_LENGTH.pack(len(name)) + name


class BusKeys:
    """The bus keys of one process: the first signs, all verify."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one bus key is needed")
        if any(len(k) < 32 for k in keys):
            raise ValueError("a bus key must have at least 32 bytes")
        self._signing, self._signing_id = keys[0], key_id(keys[0])
        self._by_id: dict[bytes, bytes] = {}
        for key in keys:
            self._by_id.setdefault(key_id(key), key)
        self._primed: dict[tuple[bytes, Any], Any] = {}  # (key id, stream) -> HMAC fed the stream's name

    @classmethod
    def from_settings(cls, settings: Any = None) -> "BusKeys":
        """The keys of ``BUDDY_BUS_KEY`` (on the dev default, the dev key in the data folder)."""
        if settings is None:
            from shared.settings import Settings

            settings = Settings()
        return cls(settings.bus_keys())

    def _tag(self, kid: bytes, key: bytes, stream: str | bytes, data: bytes) -> bytes:
        primed = self._primed.get((kid, stream))
        if primed is None:
            primed = self._primed[(kid, stream)] = hmac.new(key, _framed(stream), hashlib.sha256)
        mac = primed.copy()
        mac.update(data)
        return mac.digest()

    def sign(self, stream: str | bytes, data: bytes) -> bytes:
        """The ``__mac__`` value for ``data`` published on ``stream``."""
        return self._signing_id + self._tag(self._signing_id, self._signing, stream, data)

    def verify(self, stream: str | bytes, fields: dict[Any, Any]) -> None:
        """Raise ``NotAuthentic``, saying why, unless the entry carries a valid MAC for ``stream``."""
        mac = fields.get(MAC_KEY, fields.get("__mac__"))
        data = fields.get(DATA_KEY, fields.get("__data__"))
        if mac is None:
            raise NotAuthentic("not authentic: the entry carries no MAC (not published by a relay holding the bus key)")
        if isinstance(mac, str):
            mac = mac.encode()
        if len(mac) != KEY_ID_BYTES + TAG_BYTES:
            raise NotAuthentic(f"not authentic: the MAC has {len(mac)} bytes, not {KEY_ID_BYTES + TAG_BYTES}")
        kid = mac[:KEY_ID_BYTES]
        key = self._by_id.get(kid)
        if key is None:
            raise NotAuthentic(f"not authentic: signed with a key this service does not hold (key id "
                               f"{kid.hex()}): forged, or a bus key rotation left out this service")
        if data is None:
            raise NotAuthentic("not authentic: the entry has no __data__ field")
        if isinstance(data, str):
            data = data.encode()
        if not hmac.compare_digest(self._tag(kid, key, stream, data), mac[KEY_ID_BYTES:]):
            raise NotAuthentic("not authentic: the MAC does not match the entry (forged or altered on the bus)")
