"""Security headers on every answer, and the CSRF check of every state-changing request.

Content-Security-Policy: scripts, styles and images only from this origin and no inline
script at all (htmx is a file of ours; its settings come from a ``meta`` element, not a
script); no framing; forms post only here. CSRF: the synchronizer token kept in the
server-side session must come back with every POST, as the hidden ``csrf_token`` field
of a form or as the ``X-CSRF-Token`` header that htmx adds from ``hx-headers`` on the
body. SameSite=Lax cookies alone would not cover older browsers or same-site attackers.
With an identity provider, ``form-action`` also names the provider's origin: browsers
apply it to the redirects after a form too, and sign-out ends at the provider.
"""

from __future__ import annotations

import hmac
from typing import Any

def csp(form_origins: list[str] | None = None) -> str:
    forms = " ".join(["'self'", *(form_origins or [])])
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            f"font-src 'self'; form-action {forms}; base-uri 'none'; frame-ancestors 'none'")


CSP = csp()
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP answer (pages, files, errors)."""

    def __init__(self, app: Any, *, production: bool, form_origins: list[str] | None = None) -> None:
        self.app = app
        headers = dict(HEADERS)
        if form_origins:  # sign-out ends at the identity provider: that form's redirect may go there
            headers["Content-Security-Policy"] = csp(form_origins)
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        if production:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *[(k, v) for k, v in self.headers if k not in present]]
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
