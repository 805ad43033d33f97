"""Server-side sessions: the cookie carries only a random id, the rest stays here.

Kept in the web front's own small SQL table (SQLite under the data folder on the embedded
default, the ``web`` database of ``BUDDY_DATABASE_URL`` in production) rather than in
Redis: sessions then outlive a Redis restart or failover, a sign-out is one committed
delete (revocation that cannot be lost with an un-persisted write), and the web front
needs no bus connection at all. The table is created at start-up; it holds no case data,
only who is signed in (their subject, display name and role), their tokens, the CSRF
token, a sign-in in progress and the times.

The id in the cookie is stored hashed (SHA-256): whoever reads the table cannot use its
rows as cookies. The tokens (access, refresh and ID token) are sealed with AES-GCM under
a key derived from that same id, which only the browser holds: a copy of the table alone
yields no token either. A session ends after ``session_idle_s`` without a request and
``session_max_s`` after sign-in, whichever comes first; signing in replaces the id
(no session fixation).

Sessions are disposable: a table of an older layout is replaced at start-up (everyone
signs in again) rather than migrated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, insert, inspect, select, update
from sqlalchemy.engine import Engine

from shared.clock import Clock

metadata = MetaData()
sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("csrf", String(64), nullable=False),
    Column("person", String(255), nullable=True),  # who signed in (dev person or OIDC `sub`); None: anonymous
    Column("name", String(200), nullable=True),  # their display name, shown in the page header
    Column("role", String(20), nullable=True),
    Column("tokens", Text, nullable=True),  # sealed JSON: access, refresh and ID token
    Column("token_expires_at", Float, nullable=True),  # when the access token expires (None: never)
    Column("refresh_at", Float, nullable=True),  # when to refresh it (None: no refresh)
    Column("refreshing_until", Float, nullable=True),  # one request refreshes at a time (a claim)
    Column("pending", Text, nullable=True),  # sealed JSON: a sign-in in progress (state, nonce, verifier)
    Column("created_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),
)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _key(session_id: str) -> bytes:
    return hashlib.sha256(b"buddy-web-session-seal\0" + session_id.encode()).digest()


def seal(session_id: str, value: dict[str, Any] | None) -> str | None:
    """The value encrypted under the session's own key (only its cookie can open it)."""
    if value is None:
        return None
    nonce = secrets.token_bytes(12)
    data = AESGCM(_key(session_id)).encrypt(nonce, json.dumps(value).encode(), _hash(session_id).encode())
    return base64.b64encode(nonce + data).decode()


def unseal(session_id: str, sealed: str | None) -> dict[str, Any] | None:
    if not sealed:
        return None
    try:
        raw = base64.b64decode(sealed)
        data = AESGCM(_key(session_id)).decrypt(raw[:12], raw[12:], _hash(session_id).encode())
    except (ValueError, InvalidTag):
        return None
    value = json.loads(data)
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Session:
    id: str
    csrf: str
    person: str | None
    role: str | None
    token: str | None  # the access token the services are called with
    created_at: float
    seen_at: float
    name: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    token_expires_at: float | None = None
    refresh_at: float | None = None
    pending: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def signed_in(self) -> bool:
        return self.person is not None and self.token is not None

    def __repr__(self) -> str:  # never a token or the id in a log line or a traceback
        return f"Session(person={'set' if self.person else None}, role={self.role})"


@dataclass(frozen=True)
class Tokens:
    """What a sign-in (or a refresh) hands the session: the tokens and when to renew them."""

    access: str
    refresh: str | None = None
    id_token: str | None = None
    expires_at: float | None = None
    refresh_at: float | None = None


class SessionStore:
    def __init__(self, engine: Engine, clock: Clock, *, idle_s: int, max_s: int) -> None:
        self.engine, self.clock, self.idle_s, self.max_s = engine, clock, idle_s, max_s

    def create_table(self) -> None:
        existing = inspect(self.engine)
        if existing.has_table(sessions.name):
            columns = {c["name"] for c in existing.get_columns(sessions.name)}
            if columns != {c.name for c in sessions.columns}:
                sessions.drop(self.engine, checkfirst=True)  # an older layout: sessions are disposable
        metadata.create_all(self.engine)

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def new(self, *, person: str | None = None, role: str | None = None, name: str | None = None,
            tokens: Tokens | None = None) -> Session:
        now = self._now()
        session_id = secrets.token_urlsafe(32)
        sealed = seal(session_id, _tokens_dict(tokens))
        values = {"id_hash": _hash(session_id), "csrf": secrets.token_urlsafe(32), "person": person, "name": name,
                  "role": role, "tokens": sealed, "token_expires_at": tokens.expires_at if tokens else None,
                  "refresh_at": tokens.refresh_at if tokens else None, "refreshing_until": None, "pending": None,
                  "created_at": now, "seen_at": now}
        with self.engine.begin() as conn:
            conn.execute(insert(sessions).values(**values))
        return _session(session_id, values)

    def get(self, session_id: str | None) -> Session | None:
        """The live session of this id (its idle clock restarted), or None when unknown or ended."""
        if not session_id or len(session_id) > 100:
            return None
        now, key = self._now(), _hash(session_id)
        with self.engine.begin() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id_hash == key)).mappings().first()
            if row is None:
                return None
            if now - row["seen_at"] > self.idle_s or now - row["created_at"] > self.max_s:
                conn.execute(delete(sessions).where(sessions.c.id_hash == key))
                return None
            conn.execute(update(sessions).where(sessions.c.id_hash == key).values(seen_at=now))
        return _session(session_id, {**dict(row), "seen_at": now})

    def sign_in(self, old: Session | None, *, person: str, role: str, tokens: Tokens,
                name: str | None = None) -> Session:
        """A new session (new id, new CSRF token) for who signed in; the old one is revoked."""
        if old is not None:
            self.revoke(old.id)
        self.sweep()
        return self.new(person=person, role=role, name=name, tokens=tokens)

    def start_sign_in(self, session: Session, pending: dict[str, Any]) -> None:
        """Remember a sign-in in progress (state, nonce, PKCE verifier) until its callback."""
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id_hash == _hash(session.id))
                         .values(pending=seal(session.id, pending)))

    def take_pending(self, session: Session) -> dict[str, Any] | None:
        """The sign-in in progress, forgotten as it is read: a callback is answered once."""
        with self.engine.begin() as conn:
            done = conn.execute(update(sessions).where(sessions.c.id_hash == _hash(session.id),
                                                       sessions.c.pending.is_not(None)).values(pending=None))
        return session.pending if done.rowcount == 1 else None

    def claim_refresh(self, session: Session, *, for_s: float) -> bool:
        """True for the one request that may refresh this session's tokens now (others wait or go on)."""
        now = self._now()
        with self.engine.begin() as conn:
            done = conn.execute(update(sessions).where(
                sessions.c.id_hash == _hash(session.id),
                sessions.c.refreshing_until.is_(None) | (sessions.c.refreshing_until < now),
            ).values(refreshing_until=now + for_s))
        return done.rowcount == 1

    def refreshed(self, session: Session, tokens: Tokens, *, role: str) -> Session:
        """The session with its renewed tokens (the refresh claim released)."""
        sealed = seal(session.id, _tokens_dict(tokens))
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id_hash == _hash(session.id)).values(
                tokens=sealed, token_expires_at=tokens.expires_at, refresh_at=tokens.refresh_at,
                refreshing_until=None, role=role))
        return Session(session.id, session.csrf, session.person, role, tokens.access, session.created_at,
                       session.seen_at, session.name, tokens.refresh, tokens.id_token, tokens.expires_at,
                       tokens.refresh_at, None)

    def release_refresh(self, session: Session) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id_hash == _hash(session.id)).values(
                refreshing_until=None))

    def revoke(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_hash == _hash(session_id)))

    def sweep(self) -> None:
        """Forget ended sessions (done at each sign-in: the table stays small without a timer)."""
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(
                (sessions.c.seen_at < now - self.idle_s) | (sessions.c.created_at < now - self.max_s)))


def _tokens_dict(tokens: Tokens | None) -> dict[str, Any] | None:
    if tokens is None:
        return None
    return {"access": tokens.access, "refresh": tokens.refresh, "id_token": tokens.id_token}


def _session(session_id: str, row: dict[str, Any]) -> Session:
    tokens = unseal(session_id, row["tokens"]) or {}
    return Session(session_id, row["csrf"], row["person"], row["role"], tokens.get("access"), row["created_at"],
                   row["seen_at"], row.get("name"), tokens.get("refresh"), tokens.get("id_token"),
                   row.get("token_expires_at"), row.get("refresh_at"), unseal(session_id, row.get("pending")))
