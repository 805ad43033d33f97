"""Report kinds: how a report's content is computed from the projections and its parameters.

Content depends only on the projections and the parameters (the disclosure policy
included), never on the clock, so a rebuild to the same watermark reproduces it exactly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from shared.domain import InvalidInput, NotFound
from services.reporting.disclosure import protect
from services.reporting.queries import INDICATORS, project_counts, project_region


def project_summary(conn: Connection, parameters: dict[str, Any]) -> dict[str, Any]:
    project_id = parameters["project_id"]
    region = project_region(conn, project_id)
    if region is None:
        raise NotFound("Project", "Project", project_id)
    threshold, base = parameters["threshold"], parameters["rounding_base"]
    return {
        "project_id": project_id,
        "region": region,
        "disclosure": {"threshold": threshold, "rounding_base": base},
        "figures": {
            name: {"label": INDICATORS[name], **protect(value, threshold=threshold, base=base).model_dump()}
            for name, value in project_counts(conn, project_id).items()
        },
    }


KINDS = {"project_summary": project_summary}


def compute(conn: Connection, kind: str, parameters: dict[str, Any]) -> dict[str, Any]:
    try:
        build = KINDS[kind]
    except KeyError:
        raise InvalidInput(f"Onbekend soort rapport {kind} / Unknown report kind {kind}", field="kind") from None
    return build(conn, parameters)
