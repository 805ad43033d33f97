"""The API documentation pages work without internet (shared/service.py, ``serve_api_docs``).

``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) name only URLs of the service itself: their
scripts, style sheet and icon are vendored under ``shared/static/apidocs/`` and served at
``/apidocs-assets/<name>`` from a fixed list. No CDN, no Google fonts, no online validator,
and a Content-Security-Policy that lets the browser load nothing else. Where the pages are
closed (an installation without ``BUDDY_API_DOCS=public``) they and their files answer 404.
The vendored files are the ones the README there names, byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient


APIDOCS = Path(__file__).resolve().parents[2] / "shared" / "static" / "apidocs"
EXPECTED_TYPES = {
    "swagger-ui-bundle.js": ("text/javascript", 1_000_000),
    "swagger-ui.css": ("text/css", 100_000),
    "favicon-32x32.png": ("image/png", 300),
    "redoc.standalone.js": ("text/javascript", 1_000_000),
}


class _References(HTMLParser):
    """Every URL a page loads: script src, link href, img src, and the spec URL ReDoc fetches."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in {"src", "href", "spec-url"}:
                self.urls.append(value)


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls



@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_pages_name_only_urls_of_the_service_itself(serve: Callable[..., TestClient], page: str) -> None:
    client = serve()  # development: the pages are public
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for host in ("cdn.jsdelivr.net", "fonts.googleapis.com", "unpkg.com", "fastapi.tiangolo.com"):
        assert host not in html, host
    assert not re.search(r"""(?:https?:)?//[a-z0-9.-]+""", html.replace("window.location.origin", "")), (
        "no absolute or protocol-relative URL at all")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy and "http" not in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]  # the inline script by its hash
    urls = references(html)
    assets = [u for u in urls if u.startswith("/apidocs-assets/")]
    assert assets, urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url

    for url in assets:
        name = url.removeprefix("/apidocs-assets/")
        expected_type, at_least = EXPECTED_TYPES[name]
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] == expected_type, url
        assert len(asset.content) >= at_least, url
        assert asset.content == (APIDOCS / name).read_bytes()
        assert "max-age=" in asset.headers["cache-control"]
        assert asset.headers["x-content-type-options"] == "nosniff"
    if page == "/docs":
        assert {u.removeprefix("/apidocs-assets/") for u in assets} == {
            "swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}
        assert "url: '/openapi.json'" in html
        assert '"validatorUrl": null' in html  # no badge from validator.swagger.io
    else:
        assert {u.removeprefix("/apidocs-assets/") for u in assets} == {"redoc.standalone.js", "favicon-32x32.png"}
        assert "/openapi.json" in urls


def test_the_pages_follow_a_proxy_prefix(serve: Callable[..., TestClient]) -> None:
    """Behind a reverse proxy that strips ``/matching``, the pages ask for their files under it."""
    proxied = TestClient(serve().app, root_path="/matching")  # the started app, seen through the proxy
    for page in ("/docs", "/redoc"):
        urls = references(proxied.get(page).text)
        assert urls and all(u.startswith("/matching/") for u in urls), urls


def test_only_the_listed_files_are_served(serve: Callable[..., TestClient]) -> None:
    client = serve()
    for name in ("README.md", "LICENSE-redoc", "swagger-ui-bundle.js.map", "..%2Fservice.py", "..%2F..%2Fpyproject.toml",
                 "%2Fetc%2Fpasswd", "nope.js"):
        assert client.get(f"/apidocs-assets/{name}").status_code == 404, name
    assert client.get("/apidocs-assets/../service.py").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 200  # as FastAPI's own pages had it


def test_closed_pages_and_their_files_stay_404_on_an_installation(serve: Callable[..., TestClient]) -> None:
    client = serve(dev_tokens=False, service_token="a-real-service-token-" + "s" * 24)
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect", *(f"/apidocs-assets/{n}" for n in EXPECTED_TYPES)):
        assert client.get(path).status_code == 404, path
    assert client.get("/openapi.json").status_code == 401


def test_signed_in_description_keeps_the_pages_closed(serve: Callable[..., TestClient]) -> None:
    client = serve(api_docs="signed-in")  # dev tokens accepted, but the pages asked closed
    for path in ("/docs", "/redoc", "/apidocs-assets/swagger-ui-bundle.js"):
        assert client.get(path).status_code == 404, path


def test_the_pages_on_an_installation_that_opens_them(serve: Callable[..., TestClient]) -> None:
    client = serve(dev_tokens=False, service_token="a-real-service-token-" + "s" * 24, api_docs="public")
    assert client.get("/docs").status_code == 200
    assert client.get("/apidocs-assets/swagger-ui.css").status_code == 200
    assert "fonts.googleapis.com" not in client.get("/redoc").text


def test_the_vendored_files_are_the_ones_the_readme_names() -> None:
    readme = (APIDOCS / "README.md").read_text()
    listed = dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", readme, re.MULTILINE))
    assert set(listed) == set(EXPECTED_TYPES)
    for name, digest in listed.items():
        assert hashlib.sha256((APIDOCS / name).read_bytes()).hexdigest() == digest, name
    for licence in ("LICENSE-swagger-ui", "NOTICE-swagger-ui", "LICENSE-redoc"):
        assert (APIDOCS / licence).stat().st_size > 40, licence
    assert "Apache License" in (APIDOCS / "LICENSE-swagger-ui").read_text()
    assert "MIT License" in (APIDOCS / "LICENSE-redoc").read_text()
