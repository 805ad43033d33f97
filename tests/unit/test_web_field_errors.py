"""The figures page's forms: each refusal next to its field, in the reader's language, the
services' 422 answers mapped onto the fields they name; and what the page keeps so it stays
inside its time budget (a report drawn once per answer, a session's scopes for a minute)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.web import reportview
from services.web.backend import ServiceError
from services.web.bootstrap import build
from services.web.config import WebSettings
from services.web.pages import field_errors
from services.web.signin import DemoSignIn
from shared.settings import Settings
from tests.unit.test_reporting_outputs_sample import sample_document
from tests.unit.test_web_front import csrf_of, signed_in

TITLE_REFUSED = {"detail": "Ongeldige invoer / Invalid input", "code": "invalid_input", "errors": [
    {"field": "title", "message": "Geen controletekens (zoals NUL) toegestaan / Control characters (such as NUL) are "
                                  "not allowed", "type": "control_character"}]}
MONTH_REFUSED = {"detail": "Ongeldige invoer / Invalid input: query.period_start: Input should be a valid date",
                 "code": "invalid_input", "errors": [
                     {"field": "query.period_start", "message": "Input should be a valid date", "type": "date"}]}


class Reporting:
    """A stand-in reporting service that counts what it is asked."""

    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()
        self.overview: tuple[int, dict[str, Any]] | None = None
        self.publish: tuple[int, dict[str, Any]] = (201, {"report_id": "r-1"})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked[f"{request.method} {request.url.path}"] += 1
        if request.url.path == "/scopes":
            return httpx.Response(200, json={"flanders": False, "projects": [],
                                             "regions": [{"code": "antwerpen-kempen", "name": "Antwerpen-Kempen"}]})
        if request.url.path == "/reports/overview":
            if self.overview is not None:
                return httpx.Response(self.overview[0], json=self.overview[1])
            return httpx.Response(200, json={"content": sample_document("coordinator").model_dump(mode="json")})
        if request.method == "POST" and request.url.path == "/reports":
            return httpx.Response(self.publish[0], json=self.publish[1])
        return httpx.Response(404, json={"detail": "Niet gevonden / Not found"})


@pytest.fixture
def reporting() -> Reporting:
    return Reporting()


@pytest.fixture
def c(tmp_path: Path, reporting: Reporting) -> Any:
    app = build(Settings(data_dir=tmp_path), web_settings=WebSettings(), provider=DemoSignIn(),
                transport=httpx.MockTransport(reporting))
    with TestClient(app, base_url="http://testserver") as client:
        signed_in(client)
        yield client


def publish_form(c: TestClient, title: str) -> dict[str, str]:
    page = c.get("/reports", params={"scope": "region:antwerpen-kempen", "from": "2026-01", "to": "2026-03",
                                     "grain": "quarter"}).text
    form = page[page.index('<form class="publish"'):]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return {**fields, "title": title, "csrf_token": csrf_of(page)}


def field(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    assert found, f"no message at {name}"
    return found.group(1)


def test_an_empty_or_long_title_is_refused_beside_the_field_and_the_figures_are_shown_again(
        c: TestClient, reporting: Reporting) -> None:
    refused = c.post("/reports/publish", data=publish_form(c, "   "))
    assert refused.status_code == 422
    assert field(refused.text, "title") == "Geef het rapport een titel."
    assert re.search(r'<input id="title" name="title"[^>]*aria-describedby="title-error title-hint"[^>]*'
                     r'aria-invalid="true"', refused.text)
    assert '<a href="#title">Geef het rapport een titel.</a>' in refused.text  # the summary links to the field
    assert 'class="report-section"' in refused.text  # the figures, again
    assert '<input type="radio" id="grain-quarter" name="grain" value="quarter" checked' in refused.text
    too_long = c.post("/reports/publish", data=publish_form(c, "x" * 201))
    assert field(too_long.text, "title") == "Een titel heeft hoogstens 200 tekens; deze heeft er 201."
    assert 'value="' + "x" * 201 + '"' in too_long.text  # kept as typed
    assert reporting.asked["POST /reports"] == 0


def test_a_title_the_service_refuses_is_its_own_sentence_in_the_readers_language(
        c: TestClient, reporting: Reporting) -> None:
    reporting.publish = (422, TITLE_REFUSED)
    refused = c.post("/reports/publish", data=publish_form(c, "Jaarcijfers"))
    assert refused.status_code == 422 and reporting.asked["POST /reports"] == 1
    assert field(refused.text, "title") == "Geen controletekens (zoals NUL) toegestaan"
    c.cookies.set("buddy_lang", "en")
    again = c.post("/reports/publish", data=publish_form(c, "Jaarcijfers"))
    assert field(again.text, "title") == "Control characters (such as NUL) are not allowed"
    assert "{" not in again.text.split("<main")[1].split("</main>")[0]  # a page, never the service's JSON


def test_a_period_the_service_refuses_is_shown_at_the_month_it_names(c: TestClient, reporting: Reporting) -> None:
    reporting.overview = (422, MONTH_REFUSED)
    page = c.get("/reports", params={"scope": "region:antwerpen-kempen", "from": "2026-01", "to": "2026-03"})
    assert page.status_code == 422
    assert field(page.text, "from") == "Kies een maand."  # the service's English-only sentence replaced
    assert 'id="from" name="from" aria-invalid="true" aria-describedby="from-error"' in page.text
    part = c.get("/reports", params={"scope": "region:antwerpen-kempen", "from": "2026-01", "to": "2026-03"},
                 headers={"HX-Request": "true"})
    assert part.status_code == 200 and field(part.text, "from") == "Kies een maand."  # htmx swaps only a 2xx


def test_field_errors_map_the_services_names_and_keep_what_names_no_field() -> None:
    from services.web.i18n import translator

    class Ctx:
        def __init__(self, lang: str) -> None:
            self.lang, self._ = lang, translator(lang)  # type: ignore[arg-type]

    exc = ServiceError(422, "Ongeldige invoer / Invalid input", [
        {"field": "query.period_end", "message": "Input should be a valid date"},
        {"field": "body.grain", "message": "Kies maand, kwartaal of jaar / Choose month, quarter or year"},
        {"field": "query.region", "message": "Onbekende regio / Unknown region"},
        {"field": "query.as_known_on", "message": "Te vroeg / Too early"}])
    assert field_errors(exc, Ctx("nl")) == {"to": "Kies een maand.", "grain": "Kies maand, kwartaal of jaar",
                                            "scope": "Onbekende regio", "form": "Te vroeg"}
    assert field_errors(exc, Ctx("en"))["scope"] == "Unknown region"
    assert field_errors(ServiceError(422, "Te lang / Too long"), Ctx("en")) == {"form": "Too long"}


def test_a_session_asks_for_its_scopes_once_a_minute_and_a_report_is_drawn_once_per_answer(
        c: TestClient, reporting: Reporting, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: Counter[str] = Counter()
    real = reportview.report_view

    def counting(content: dict[str, Any], lang: Any) -> Any:
        drawn[lang] += 1
        return real(content, lang)

    monkeypatch.setattr(reportview, "report_view", counting)
    asked = {"scope": "region:antwerpen-kempen", "from": "2026-01", "to": "2026-03"}
    first, again = c.get("/reports", params=asked), c.get("/reports", params=asked)
    assert first.text.count('class="report-section"') == again.text.count('class="report-section"') > 0
    assert reporting.asked["GET /reports/overview"] == 2  # the figures are asked every time
    assert reporting.asked["GET /scopes"] == 1
    assert drawn == {"nl": 1}
    c.cookies.set("buddy_lang", "en")
    c.get("/reports", params=asked)
    assert drawn == {"nl": 1, "en": 1}
    c.post("/signout", data={"csrf_token": csrf_of(c.get("/").text)})
    signed_in(c)  # a new session asks again
    c.get("/reports", params=asked)
    assert reporting.asked["GET /scopes"] == 2
