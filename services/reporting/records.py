"""Reports are records: parameters, watermark and a hash of the content, kept for good.

Reproducing a report = rebuilding the projections to its watermark and computing it
again with the same parameters; the hash must come out the same.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import Connection, insert, select

from shared.events.envelope import canonical_json
from shared.eventstore.store import format_time
from services.reporting.read_models import reports


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def record(conn: Connection, *, kind: str, parameters: dict[str, Any], watermark: dict[str, int],
           content: dict[str, Any], created_at: Any, created_by: str) -> dict[str, Any]:
    report_id = f"r-{uuid.uuid4().hex}"
    row = {
        "report_id": report_id, "kind": kind, "parameters": canonical_json(parameters),
        "watermark": canonical_json(watermark), "content": canonical_json(content),
        "content_hash": content_hash(content), "created_at": format_time(created_at), "created_by": created_by,
    }
    conn.execute(insert(reports).values(**row))
    return as_dict(row)


def get(conn: Connection, report_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(reports).where(reports.c.report_id == report_id)).mappings().first()
    return as_dict(dict(row)) if row else None


def as_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "report_id": row["report_id"], "kind": row["kind"], "parameters": json.loads(row["parameters"]),
        "computed_from": json.loads(row["watermark"]), "content": json.loads(row["content"]),
        "content_hash": row["content_hash"], "created_at": row["created_at"], "created_by": row["created_by"],
    }
