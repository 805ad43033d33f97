"""docs/matching.md stays true to the code: every setting and every route is documented."""

from pathlib import Path

from fastapi.routing import APIRoute

from services.matching.api import router
from services.matching.config import MatchingSettings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "matching.md").read_text()


def test_every_matching_setting_is_documented_with_its_default() -> None:
    for name, field in MatchingSettings.model_fields.items():
        variable = f"`BUDDY_MATCHING_{name.upper()}`"
        assert variable in DOC, f"document {variable} in docs/matching.md"
        default = str(field.default).lower()
        default = default[:-2] if default.endswith(".0") else default
        row = next(line for line in DOC.splitlines() if variable in line)
        assert f"`{default}`" in row, (row, default)


def test_every_route_is_in_the_api_table() -> None:
    routes = [r for r in router(None, lambda: None).routes if isinstance(r, APIRoute)]  # type: ignore[arg-type]
    for route in routes:
        tail = route.path.replace("{project_id}", "{p}").replace("{participant_id}", "{id}").replace("{duo_id}", "{id}")
        last = tail.rsplit("/", 1)[-1]
        assert tail in DOC or f"/{last}`" in DOC or f"`/{last}" in DOC, f"{route.path} is not in docs/matching.md"
