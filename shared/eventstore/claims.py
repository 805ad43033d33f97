"""Idempotency keys recorded with a command's events, in the same transaction.

The HTTP edge (``shared.idempotency``) looks a command's key up and, when it is new,
sets the ``Claim`` for the request; whatever commits the command's effects calls
``record_claim`` on its open transaction before committing. So a command is recorded
with its key or not at all, and a repeat can never record it a second time.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Claim:
    """The key of the command being handled, for the store to record with its events."""

    actor_id: str
    key: str
    request_hash: str
    created_at: str
    keep_answer: bool = True
    token: str = field(default_factory=lambda: str(uuid.uuid4()))  # this request, not an earlier one with the key
    recorded: bool = False  # inserted in a transaction (committed when that transaction is)


class KeyInUse(Exception):
    """Another request holds the same key: this one must not commit (HTTP 409)."""


_claim: contextvars.ContextVar[Claim | None] = contextvars.ContextVar("buddy_idempotency_claim", default=None)


def claim_for_request(claim: Claim | None) -> None:
    """Make ``claim`` the key of the current request (seen by its worker threads, copies of the context)."""
    _claim.set(claim)


_SQL = {
    "?": ("SELECT token FROM idempotency_keys WHERE actor_id = ? AND idem_key = ?",
          "INSERT INTO idempotency_keys (actor_id, idem_key, request_hash, token, created_at) VALUES (?, ?, ?, ?, ?)"),
    "%s": ("SELECT token FROM idempotency_keys WHERE actor_id = %s AND idem_key = %s",
           "INSERT INTO idempotency_keys (actor_id, idem_key, request_hash, token, created_at) "
           "VALUES (%s, %s, %s, %s, %s)"),
}


def record_claim(dbc: Any, dialect: Any) -> None:
    """Record the current request's key in the transaction open on driver connection ``dbc``.

    Nothing without a key, or when an earlier transaction of the same request holds it.
    ``KeyInUse`` when another request holds it: the transaction must then roll back.
    Under the store's head lock the look-up and the insert cannot interleave with another
    writer's; elsewhere the primary key settles the race.
    """
    claim = _claim.get()
    if claim is None:
        return
    select_sql, insert_sql = _SQL["%s" if dialect.name == "postgresql" else "?"]
    row = dbc.execute(select_sql, (claim.actor_id, claim.key)).fetchone()
    if row is not None:
        if row[0] != claim.token:
            raise KeyInUse(claim.key)
        return
    try:
        dbc.execute(insert_sql, (claim.actor_id, claim.key, claim.request_hash, claim.token, claim.created_at))
    except dialect.loaded_dbapi.IntegrityError:
        raise KeyInUse(claim.key) from None
    claim.recorded = True
