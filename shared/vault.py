"""Personal-data vault: envelope encryption per person, so erasure is a key deletion.

Events are immutable and hash-chained, so personal data can never be deleted from them.
Instead each person (``subject_id``) gets a random data key; their personal data is
sealed with it beside the event. Deleting the key ("crypto-shredding") makes every blob
of that person unreadable at once while the event log stays intact and verifiable.

Data keys are wrapped by a master key, so the database alone reveals nothing and the
master key can be rotated by re-wrapping a few hundred bytes per person instead of
re-encrypting the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shared.eventstore.db import reader
from shared.eventstore.store import format_time, utcnow
from shared.eventstore.tables import vault_keys

__all__ = ["Vault", "VaultError", "normalise"]

_VERSION = 1
_NONCE_LEN = 12
_TAG_LEN = 16
_KEY_LEN = 32
# Distinct associated data for wrapped keys and sealed data, so one can never be
# passed off as the other; both bind the subject so nothing moves between people.
_AAD_KEY = b"buddy-vault/key/v1\x00"
_AAD_DATA = b"buddy-vault/data/v1\x00"
_TOKEN_SPLIT = re.compile(r"[^\w]+|_+")


class VaultError(Exception):
    """A blob or wrapped key fails authentication: tampered, misplaced or wrong master key."""


def normalise(value: str) -> str:
    """Fold the spellings people type for the same name onto one text.

    Case, accents and spacing vary between who registered a person and who searches;
    the blind index must not.
    """
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFKC", stripped).split())


def _aad(prefix: bytes, subject_id: str) -> bytes:
    return prefix + subject_id.encode("utf-8")


class Vault:
    """Seal and open one service's personal data; erase a person by deleting their key."""

    def __init__(
        self,
        engine: Engine,
        master_key: bytes,
        blind_index_key: bytes,
        *,
        cache_size: int = 256,
        cache_ttl_s: float = 60.0,
    ) -> None:
        if len(master_key) != _KEY_LEN:
            raise ValueError("master key must be 32 bytes")
        if len(blind_index_key) < 16:
            raise ValueError("blind index key must be at least 16 bytes")
        self.engine = engine
        self._master = AESGCM(master_key)
        self._blind_key = bytes(blind_index_key)
        # subject_id -> (wrapped key, data key, expiry). The TTL bounds how long another
        # process's erase can go unnoticed here; the wrapped bytes let `seal` tell a
        # cached key from a different one in the database.
        self._cache: OrderedDict[str, tuple[bytes, bytes, float]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_ttl = cache_ttl_s
        self._lock = threading.Lock()

    # -- sealing -------------------------------------------------------------------

    def seal(self, conn: Connection, subject_id: str, data: dict[str, Any]) -> bytes:
        """Encrypt ``data`` for one person, creating their key in ``conn``'s transaction.

        Creating the key through the caller's connection means the key commits or rolls
        back together with the event that needs it: no orphan keys, no unreadable events.
        """
        if not isinstance(data, dict):
            raise TypeError("vault data must be a dict")
        self._check_subject(subject_id)
        key = self._key_for_write(conn, subject_id)
        # ensure_ascii keeps lone surrogates (valid in JSON input) encodable.
        plaintext = json.dumps(data, ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode("ascii")
        nonce = os.urandom(_NONCE_LEN)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(_AAD_DATA, subject_id))
        return bytes([_VERSION]) + nonce + ciphertext

    def open(
        self, subject_id: str, sealed: bytes | None, conn: Connection | None = None
    ) -> dict[str, Any] | None:
        """Decrypt a blob; ``None`` once the person is erased (or there was no blob).

        Pass ``conn`` to see a key created earlier in the same, uncommitted transaction.
        """
        if sealed is None:
            return None
        sealed = bytes(sealed)
        if len(sealed) < 1 + _NONCE_LEN + _TAG_LEN or sealed[0] != _VERSION:
            raise VaultError(f"sealed data of subject {subject_id!r} is malformed or of an unknown version")
        cached = self._cache_get(subject_id)
        if cached is not None:
            try:
                return self._decrypt(cached[1], subject_id, sealed)
            except InvalidTag:
                # The cached key may be stale (a rolled-back transaction, another
                # process's erase): fall back to the database before calling it tampering.
                self._cache_drop(subject_id)
        wrapped = self._read_wrapped(conn, subject_id)
        if wrapped is None:
            return None
        key = self._unwrap(subject_id, wrapped)
        try:
            result = self._decrypt(key, subject_id, sealed)
        except InvalidTag:
            raise VaultError(
                f"sealed data of subject {subject_id!r} failed authentication (tampered or not this person's)"
            ) from None
        self._cache_put(subject_id, wrapped, key)
        return result

    # -- erasure and rotation -------------------------------------------------------

    def erase(self, conn: Connection, subject_id: str) -> bool:
        """Crypto-shred a person: delete their data key; events stay untouched.

        Returns whether there was a key. Runs in the caller's transaction so the erasure
        can be recorded as an event atomically.
        """
        self._cache_drop(subject_id)
        result = conn.execute(delete(vault_keys).where(vault_keys.c.subject_id == subject_id))
        self._cache_drop(subject_id)
        return bool(result.rowcount)

    def is_erased(self, subject_id: str, conn: Connection | None = None) -> bool:
        """True when no key exists (erased, or never had personal data here)."""
        return self._read_wrapped(conn, subject_id) is None

    def rewrap(self, conn: Connection, new_master_key: bytes) -> int:
        """Re-wrap every data key under a new master key; returns how many.

        Rotation touches only the key table, never the events. Run it while no service
        writes with the old key (keys created meanwhile would stay under the old one),
        then restart the services with the new key: this instance keeps the old one
        because ``conn``'s transaction may still roll back.
        """
        if len(new_master_key) != _KEY_LEN:
            raise ValueError("new master key must be 32 bytes")
        new_master = AESGCM(new_master_key)
        rows = conn.execute(
            select(vault_keys.c.subject_id, vault_keys.c.wrapped_key).order_by(vault_keys.c.subject_id)
        ).all()
        for subject_id, wrapped in rows:
            key = self._unwrap(subject_id, bytes(wrapped))
            conn.execute(
                update(vault_keys)
                .where(vault_keys.c.subject_id == subject_id)
                .values(wrapped_key=self._wrap(new_master, subject_id, key))
            )
        return len(rows)

    # -- blind indexes --------------------------------------------------------------

    def blind_index(self, value: str) -> str:
        """Keyed hash of a normalised value: findable by exact (normalised) match, not readable.

        A plain hash of a name could be reversed with a list of names; the secret key
        prevents that for anyone with only the database.
        """
        return hmac.new(self._blind_key, normalise(value).encode("utf-8"), hashlib.sha256).hexdigest()

    def name_tokens(self, full_name: str) -> list[str]:
        """Blind indexes of each name part, so "Dupont" finds "Émile Dupont-Claes"."""
        seen: dict[str, None] = {}
        for part in _TOKEN_SPLIT.split(normalise(full_name)):
            if part:
                seen.setdefault(self.blind_index(part), None)
        return list(seen)

    # -- internals ------------------------------------------------------------------

    @staticmethod
    def _check_subject(subject_id: str) -> None:
        if not subject_id or len(subject_id) > 100:
            raise ValueError("subject_id must be 1-100 characters")

    def _key_for_write(self, conn: Connection, subject_id: str) -> bytes:
        wrapped = self._read_wrapped(conn, subject_id)
        if wrapped is None:
            key = AESGCM.generate_key(bit_length=256)
            new_wrapped = self._wrap(self._master, subject_id, key)
            try:
                # A savepoint keeps the caller's transaction usable if a concurrent
                # transaction (PostgreSQL) created this person's key first.
                with conn.begin_nested():
                    conn.execute(
                        insert(vault_keys).values(
                            subject_id=subject_id, wrapped_key=new_wrapped, created_at=format_time(utcnow())
                        )
                    )
                # Not cached: the transaction may still roll back.
                return key
            except IntegrityError:
                wrapped = self._read_wrapped(conn, subject_id)
                if wrapped is None:  # pragma: no cover - conflict with a row we cannot see
                    raise
        cached = self._cache_get(subject_id)
        if cached is not None and hmac.compare_digest(cached[0], wrapped):
            return cached[1]
        return self._unwrap(subject_id, wrapped)

    def _read_wrapped(self, conn: Connection | None, subject_id: str) -> bytes | None:
        query = select(vault_keys.c.wrapped_key).where(vault_keys.c.subject_id == subject_id)
        if conn is not None:
            value = conn.execute(query).scalar_one_or_none()
        else:
            with reader(self.engine).connect() as own:
                value = own.execute(query).scalar_one_or_none()
        return None if value is None else bytes(value)

    @staticmethod
    def _wrap(master: AESGCM, subject_id: str, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE_LEN)
        return bytes([_VERSION]) + nonce + master.encrypt(nonce, key, _aad(_AAD_KEY, subject_id))

    def _unwrap(self, subject_id: str, wrapped: bytes) -> bytes:
        if len(wrapped) < 1 + _NONCE_LEN + _TAG_LEN or wrapped[0] != _VERSION:
            raise VaultError(f"wrapped key of subject {subject_id!r} is malformed or of an unknown version")
        nonce, body = wrapped[1 : 1 + _NONCE_LEN], wrapped[1 + _NONCE_LEN :]
        try:
            return self._master.decrypt(nonce, body, _aad(_AAD_KEY, subject_id))
        except InvalidTag:
            raise VaultError(
                f"key of subject {subject_id!r} cannot be unwrapped: wrong master key or tampered key row"
            ) from None

    @staticmethod
    def _decrypt(key: bytes, subject_id: str, sealed: bytes) -> dict[str, Any]:
        nonce, body = sealed[1 : 1 + _NONCE_LEN], sealed[1 + _NONCE_LEN :]
        data = json.loads(AESGCM(key).decrypt(nonce, body, _aad(_AAD_DATA, subject_id)))
        if not isinstance(data, dict):  # pragma: no cover - only seal() writes blobs
            raise VaultError("sealed data is not an object")
        return data

    def _cache_get(self, subject_id: str) -> tuple[bytes, bytes, float] | None:
        with self._lock:
            entry = self._cache.get(subject_id)
            if entry is None:
                return None
            if entry[2] < time.monotonic():
                del self._cache[subject_id]
                return None
            self._cache.move_to_end(subject_id)
            return entry

    def _cache_put(self, subject_id: str, wrapped: bytes, key: bytes) -> None:
        if self._cache_size <= 0 or self._cache_ttl <= 0:
            return
        with self._lock:
            self._cache[subject_id] = (wrapped, key, time.monotonic() + self._cache_ttl)
            self._cache.move_to_end(subject_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _cache_drop(self, subject_id: str) -> None:
        with self._lock:
            self._cache.pop(subject_id, None)
