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
from shared.eventstore.claims import record_claim
from shared.eventstore.store import format_time
from services.reporting.disclosure import carry_over
from services.reporting.read_models import reports


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def record(conn: Connection, *, kind: str, parameters: dict[str, Any], watermark: dict[str, int],
           content: dict[str, Any], created_at: Any, created_by: str,
           pattern: dict[str, list[dict[str, str]]] | None = None, title: str | None = None) -> dict[str, Any]:
    """Keep a published report; ``pattern`` is its suppression pattern, for the next period's report."""
    report_id = f"r-{uuid.uuid4().hex}"
    row = {
        "report_id": report_id, "kind": kind, "parameters": canonical_json(parameters),
        "watermark": canonical_json(watermark), "content": canonical_json(content),
        "content_hash": content_hash(content), "created_at": format_time(created_at), "created_by": created_by,
        "pattern": None if pattern is None else canonical_json(pattern), "title": title,
    }
    conn.execute(insert(reports).values(**row))
    record_claim(conn.connection.driver_connection, conn.dialect)  # the request's Idempotency-Key, if any
    return as_dict(row)


def get(conn: Connection, report_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(reports).where(reports.c.report_id == report_id)).mappings().first()
    return as_dict(dict(row)) if row else None


def as_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "report_id": row["report_id"], "kind": row["kind"], "parameters": json.loads(row["parameters"]),
        "computed_from": json.loads(row["watermark"]), "content": json.loads(row["content"]),
        "content_hash": row["content_hash"], "created_at": row["created_at"], "created_by": row["created_by"],
        "title": row.get("title"),
    }


def listing(conn: Connection, *, kind: str | None = None) -> list[dict[str, Any]]:
    """Every published report (newest first), without content: for lists filtered by the caller."""
    query = select(reports.c.report_id, reports.c.kind, reports.c.parameters, reports.c.watermark,
                   reports.c.content_hash, reports.c.created_at, reports.c.created_by, reports.c.title)
    if kind is not None:
        query = query.where(reports.c.kind == kind)
    rows = conn.execute(query.order_by(reports.c.created_at.desc(), reports.c.report_id)).mappings()
    return [{"report_id": r["report_id"], "kind": r["kind"], "parameters": json.loads(r["parameters"]),
             "computed_from": json.loads(r["watermark"]), "content_hash": r["content_hash"],
             "created_at": r["created_at"], "created_by": r["created_by"], "title": r["title"]} for r in rows]


# Which parameters make two overview reports "the same report, another period".
SERIES_KEYS = ("audience", "region", "project_id", "grain", "basis")


def previous_pattern(conn: Connection, parameters: dict[str, Any], buckets_of: Any
                     ) -> tuple[str | None, dict[str, list[dict[str, str]]]]:
    """The suppression pattern of the latest earlier period of the same overview, in this period's labels.

    "Earlier": the same audience, scope, grain and basis, ending before this period starts
    (the latest such period; the newest record of it). Its period buckets are mapped onto
    this period's by position (January → January of the next year, Q1 → Q2, ...);
    ``buckets_of(start, end, grain)`` lists a period's buckets.
    """
    found: tuple[str, str, str, dict[str, Any]] | None = None
    rows = conn.execute(select(reports.c.report_id, reports.c.parameters, reports.c.created_at, reports.c.pattern)
                        .where(reports.c.kind == "overview", reports.c.pattern.is_not(None)))
    for report_id, params_text, created_at, pattern_text in rows:
        params = json.loads(params_text)
        if any(params.get(k) != parameters.get(k) for k in SERIES_KEYS):
            continue
        if params.get("period_end", "") >= parameters["period_start"]:
            continue
        key = (params["period_end"], created_at, report_id)
        if found is None or key > found[:3]:
            found = (*key, {"params": params, "pattern": json.loads(pattern_text)})
    if found is None:
        return None, {}
    before, params = found[3]["pattern"], found[3]["params"]
    grain = parameters["grain"]
    old = buckets_of(params["period_start"], params["period_end"], grain)
    new = buckets_of(parameters["period_start"], parameters["period_end"], grain)
    relabel = {grain: dict(zip(old, new))}
    return found[2], {key: carry_over(refs, relabel=relabel) for key, refs in before.items()}


def pattern_of(conn: Connection, report_id: str) -> dict[str, list[dict[str, str]]] | None:
    text = conn.execute(select(reports.c.pattern).where(reports.c.report_id == report_id)).scalar()
    return None if text is None else json.loads(text)
