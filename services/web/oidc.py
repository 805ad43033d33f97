"""Signing in with the organisation's identity provider: OpenID Connect, code flow with PKCE.

``OidcSignIn`` is the production ``SignInProvider``. It finds the provider's endpoints by
discovery (``BUDDY_OIDC_ISSUER``, or ``BUDDY_WEB_OIDC_DISCOVERY_URL`` when the web front
reaches the provider at another address than browsers do), and with Authlib:

* ``start``: a fresh ``state``, ``nonce`` and PKCE verifier (S256) kept in the visitor's
  server-side session, and the authorization URL to send the browser to;
* ``finish``: the callback is accepted only with the ``state`` of the session's sign-in in
  progress, once (the pending sign-in is forgotten as it is read); the code is exchanged
  with its verifier; the ID token must be signed by a key of the provider's JWKS and carry
  our issuer, our client id as audience, an unexpired ``exp`` and the session's ``nonce``;
  the access token must be one the services accept (their issuer, audience and keys,
  checked as they check it), so a sign-in that could not open a single page is refused
  at once with a sentence instead;
* ``refresh``: new tokens with the refresh token before the access token expires;
* ``logout_url``: RP-initiated logout at the provider (``id_token_hint``,
  ``post_logout_redirect_uri``), after the session was revoked here and the refresh token
  at the provider's revocation endpoint.

Every failure is a ``SignInRefused`` with an HTTP status, a message id for the reader and a
short reason code for the log; no token, code or claim value is ever logged. The tokens
stay in the server-side session (sealed), never in the cookie.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import warnings

import anyio
import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oidc.core import CodeIDToken

with warnings.catch_warnings():  # Authlib 1.9 prefers the httpx2 fork; it still supports httpx, which we pin
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from joserfc import jwt as jose_jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from shared.auth import AuthenticationError, AuthUnavailable, JWTVerifier, Principal
from shared.logging import get_logger
from shared.settings import Settings
from services.web.config import WebSettings
from services.web.i18n import N_
from services.web.sessions import Tokens

log = get_logger(__name__)

CALLBACK_PATH = "/signin/callback"
SIGNED_OUT_PATH = "/signout/done"
PENDING_MAX_S = 600  # a sign-in not finished within ten minutes must start again
DISCOVERY_TTL_S = 3600
LEEWAY_S = 60

# What the reader is told; the reason code goes to the log.
TRY_AGAIN = N_("Signing in did not work. Please try again.")
EXPIRED = N_("This sign-in link has expired or was already used. Please sign in again.")
REFUSED_AT_PROVIDER = N_("Your organisation's sign-in service did not sign you in (cancelled or refused).")
PROVIDER_DOWN = N_("Your organisation's sign-in service cannot be reached at the moment. Please try again in a moment.")
NOT_FOR_US = N_("Your organisation's sign-in service answered with a sign-in that is not meant for this application. "
                "Please try again, or ask your administrator.")
NO_ACCESS = N_("You are signed in at your organisation, but have no access to this application. Ask your "
               "administrator.")


class SignInRefused(Exception):
    """A sign-in that cannot go on: ``status`` and ``message`` for the page, ``reason`` for the log."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.message, self.reason = status, message, reason


@dataclass(frozen=True)
class SignedIn:
    """Who the provider signed in, and their tokens."""

    subject: str
    name: str | None
    role: str
    tokens: Tokens


def refresh_moment(issued_at: float, expires_at: float | None, margin_s: float) -> float | None:
    """When to renew an access token: ``margin_s`` before it expires, or at three quarters of a short life."""
    if expires_at is None:
        return None
    return expires_at - min(margin_s, max(0.0, expires_at - issued_at) / 4)


class OidcSignIn:
    """Sign-in with the organisation's identity provider (the button on the sign-in page)."""

    kind = "oidc"

    def __init__(self, settings: Settings, web: WebSettings, *, verifier: JWTVerifier | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not settings.oidc_issuer or not web.oidc_client_id:
            raise ValueError("OpenID Connect sign-in needs BUDDY_OIDC_ISSUER and BUDDY_WEB_OIDC_CLIENT_ID")
        if not settings.oidc_audience:
            raise ValueError("OpenID Connect sign-in needs BUDDY_OIDC_AUDIENCE (the audience the services expect)")
        self.issuer = settings.oidc_issuer
        self.client_id = web.oidc_client_id
        self.client_secret = web.oidc_client_secret.get_secret_value() if web.oidc_client_secret else None
        self.discovery_url = web.oidc_discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        self.scope = web.oidc_scope
        self.resource = web.oidc_resource
        self.organisation = web.organisation
        self.public_url = web.public_url.rstrip("/") if web.public_url else None
        self.margin_s = web.oidc_refresh_margin_s
        self.timeout_s = web.oidc_timeout_s
        self.transport = transport
        self._audience, self._jwks_url = settings.oidc_audience, settings.oidc_jwks_url
        self._verifier = verifier
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._lock = anyio.Lock()

    # ------------------------------------------------------------------ the provider
    def _client(self, redirect_uri: str | None = None) -> AsyncOAuth2Client:
        auth = "client_secret_basic" if self.client_secret else "none"
        return AsyncOAuth2Client(client_id=self.client_id, client_secret=self.client_secret,
                                 token_endpoint_auth_method=auth, scope=self.scope, redirect_uri=redirect_uri,
                                 code_challenge_method="S256", timeout=self.timeout_s, transport=self.transport)

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (kept an hour); its issuer must be ours."""
        if self._metadata is not None and time.monotonic() - self._metadata_at < DISCOVERY_TTL_S:
            return self._metadata
        async with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < DISCOVERY_TTL_S:
                return self._metadata
            data = await self._get_json(self.discovery_url, "discovery")
            if data.get("issuer") != self.issuer:
                log.error("oidc.discovery_issuer_mismatch", expected=self.issuer, found=str(data.get("issuer"))[:200])
                raise SignInRefused(503, PROVIDER_DOWN, "discovery_issuer_mismatch")
            for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(data.get(endpoint), str):
                    raise SignInRefused(503, PROVIDER_DOWN, f"discovery_without_{endpoint}")
            self._metadata, self._metadata_at = data, time.monotonic()
            return data

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport) as client:
                resp = await client.get(url, headers={"Accept": "application/json"})
            resp.raise_for_status()
            data = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("oidc.provider_unreachable", what=what, error=type(exc).__name__)
            raise SignInRefused(503, PROVIDER_DOWN, f"{what}_unreachable") from exc
        if not isinstance(data, dict):
            raise SignInRefused(503, PROVIDER_DOWN, f"{what}_not_an_object")
        return data

    async def _key_set(self, *, fresh: bool = False) -> KeySet:
        if self._keys is None or fresh:
            meta = await self.metadata()
            try:
                self._keys = KeySet.import_key_set(await self._get_json(meta["jwks_uri"], "jwks"))
            except (ValueError, JoseError) as exc:
                raise SignInRefused(503, PROVIDER_DOWN, "jwks_unusable") from exc
        return self._keys

    def _access_verifier(self, meta: dict[str, Any]) -> JWTVerifier:
        if self._verifier is None:
            self._verifier = JWTVerifier(self.issuer, self._audience, self._jwks_url or meta["jwks_uri"])
        return self._verifier

    def redirect_uri(self, base_url: str) -> str:
        return f"{self.public_url or base_url.rstrip('/')}{CALLBACK_PATH}"

    def post_logout_uri(self, base_url: str) -> str:
        return f"{self.public_url or base_url.rstrip('/')}{SIGNED_OUT_PATH}"

    # ------------------------------------------------------------------ sign-in
    async def start(self, base_url: str, *, lang: str) -> tuple[str, dict[str, Any]]:
        """The provider's authorization URL, and what the session keeps until the callback."""
        meta = await self.metadata()
        pending = {"state": generate_token(43), "nonce": generate_token(43), "verifier": generate_token(64),
                   "redirect_uri": self.redirect_uri(base_url), "started_at": time.time()}
        extra: dict[str, Any] = {"nonce": pending["nonce"], "ui_locales": lang}
        if self.resource:
            extra["resource"] = self.resource
        async with self._client(pending["redirect_uri"]) as client:
            url, _state = client.create_authorization_url(meta["authorization_endpoint"], state=pending["state"],
                                                          code_verifier=pending["verifier"], **extra)
        return url, pending

    async def finish(self, pending: dict[str, Any] | None, params: dict[str, str]) -> SignedIn:
        """The callback's answer checked against the sign-in in progress; raises ``SignInRefused``."""
        state = params.get("state")
        if pending is None or not state or not _same(state, pending.get("state")):
            raise SignInRefused(400, EXPIRED, "state_mismatch")
        if time.time() - float(pending.get("started_at", 0)) > PENDING_MAX_S:
            raise SignInRefused(400, EXPIRED, "sign_in_too_old")
        if "error" in params:
            error = params["error"] if params["error"].replace("_", "").isalnum() else "invalid"
            raise SignInRefused(400 if error != "temporarily_unavailable" else 503,
                                REFUSED_AT_PROVIDER if error != "temporarily_unavailable" else PROVIDER_DOWN,
                                f"provider_error:{error[:40]}")
        code = params.get("code")
        if not code:
            raise SignInRefused(400, TRY_AGAIN, "no_code")
        if params.get("iss") and params["iss"] != self.issuer:  # RFC 9207: the answer of another provider
            raise SignInRefused(400, NOT_FOR_US, "iss_mismatch")
        meta = await self.metadata()
        extra = {"resource": self.resource} if self.resource else {}
        try:
            async with self._client(pending["redirect_uri"]) as client:
                token = await client.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                                 code_verifier=pending["verifier"], **extra)
        except OAuthError as exc:  # invalid_grant: a replayed, expired or foreign code
            raise SignInRefused(400, EXPIRED, f"token_refused:{_code_of(exc)}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("oidc.provider_unreachable", what="token", error=type(exc).__name__)
            raise SignInRefused(503, PROVIDER_DOWN, "token_unreachable") from exc
        id_token = token.get("id_token")
        access = token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access, str):
            raise SignInRefused(400, NOT_FOR_US, "no_id_or_access_token")
        claims = await self._id_claims(id_token, meta, nonce=pending["nonce"], access_token=access)
        principal = await self._principal(access, meta)
        if principal.actor.id != claims["sub"]:
            raise SignInRefused(401, NOT_FOR_US, "subject_mismatch")
        name = next((claims[k] for k in ("name", "preferred_username") if isinstance(claims.get(k), str)
                     and claims[k].strip()), None)
        return SignedIn(subject=str(claims["sub"]), name=name[:200] if name else None, role=principal.role.value,
                        tokens=self._tokens(token, id_token))

    def _tokens(self, token: dict[str, Any], id_token: str | None) -> Tokens:
        now = time.time()
        expires_at = float(token["expires_at"]) if token.get("expires_at") else (
            now + float(token["expires_in"]) if token.get("expires_in") else None)
        refresh = token.get("refresh_token") if isinstance(token.get("refresh_token"), str) else None
        return Tokens(access=token["access_token"], refresh=refresh, id_token=id_token, expires_at=expires_at,
                      refresh_at=refresh_moment(now, expires_at, self.margin_s) if refresh else None)

    async def _id_claims(self, id_token: str, meta: dict[str, Any], *, nonce: str | None,
                         access_token: str | None) -> dict[str, Any]:
        algorithms = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        registry = JWSRegistry(algorithms=[a for a in algorithms if a != "none"], strict_check_header=False)
        try:
            try:
                decoded = jose_jwt.decode(id_token, await self._key_set(), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys
                decoded = jose_jwt.decode(id_token, await self._key_set(fresh=True), registry=registry)
        except (JoseError, ValueError) as exc:
            raise SignInRefused(401, NOT_FOR_US, f"id_token_signature:{type(exc).__name__}") from exc
        options = {"iss": {"essential": True, "value": self.issuer}, "aud": {"essential": True, "value": self.client_id}}
        params: dict[str, Any] = {"client_id": self.client_id}
        if nonce is not None:
            params["nonce"] = nonce
        if access_token is not None:
            params["access_token"] = access_token
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        try:
            claims.validate(leeway=LEEWAY_S)
        except JoseError as exc:
            raise SignInRefused(401, NOT_FOR_US, f"id_token_claims:{getattr(exc, 'error', type(exc).__name__)}") from exc
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise SignInRefused(401, NOT_FOR_US, "id_token_without_sub")
        return dict(claims)

    async def _principal(self, access: str, meta: dict[str, Any]) -> Principal:
        """The access token as the services will see it (their issuer, audience and keys).

        The one place the web front learns a person's role: from the same check the
        services make, so the menus never promise what the services would refuse.
        """
        verifier = self._access_verifier(meta)
        try:
            return await anyio.to_thread.run_sync(verifier.verify, access)
        except AuthUnavailable as exc:
            raise SignInRefused(503, PROVIDER_DOWN, "access_token_keys_unreachable") from exc
        except AuthenticationError as exc:
            reason = str(exc)
            if "no known role" in reason:
                raise SignInRefused(403, NO_ACCESS, "access_token_without_role") from exc
            kind = "audience" if "audience" in reason.lower() else "invalid"
            raise SignInRefused(401, NOT_FOR_US, f"access_token_{kind}") from exc

    # ------------------------------------------------------------------ refresh and logout
    async def refresh(self, refresh_token: str, id_token: str | None) -> tuple[Tokens, str]:
        """New tokens and the role they carry; ``SignInRefused`` (401: sign in again; 503: try later)."""
        meta = await self.metadata()
        extra = {"resource": self.resource} if self.resource else {}
        try:
            async with self._client() as client:
                token = await client.refresh_token(meta["token_endpoint"], refresh_token=refresh_token, **extra)
        except OAuthError as exc:
            raise SignInRefused(401, EXPIRED, f"refresh_refused:{_code_of(exc)}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("oidc.provider_unreachable", what="refresh", error=type(exc).__name__)
            raise SignInRefused(503, PROVIDER_DOWN, "refresh_unreachable") from exc
        access = token.get("access_token")
        if not isinstance(access, str):
            raise SignInRefused(401, EXPIRED, "refresh_without_access_token")
        new_id = token.get("id_token") if isinstance(token.get("id_token"), str) else None
        if new_id is not None:
            await self._id_claims(new_id, meta, nonce=None, access_token=None)
        principal = await self._principal(access, meta)
        return self._tokens(dict(token), new_id or id_token), principal.role.value

    async def revoke(self, refresh_token: str | None) -> None:
        """Best effort: the refresh token revoked at the provider (RFC 7009), where it offers that."""
        if not refresh_token:
            return
        try:
            meta = await self.metadata()
            endpoint = meta.get("revocation_endpoint")
            if not isinstance(endpoint, str):
                return
            async with self._client() as client:
                await client.revoke_token(endpoint, token=refresh_token, token_type_hint="refresh_token")
        except (SignInRefused, OAuthError, httpx.HTTPError, ValueError) as exc:
            log.warning("oidc.revocation_failed", error=type(exc).__name__)

    async def logout_url(self, base_url: str, id_token: str | None) -> str | None:
        """Where to end the session at the provider too (None: it offers no RP-initiated logout)."""
        try:
            meta = await self.metadata()
        except SignInRefused:
            return None
        endpoint = meta.get("end_session_endpoint")
        if not isinstance(endpoint, str):
            return None
        params = {"post_logout_redirect_uri": self.post_logout_uri(base_url), "client_id": self.client_id}
        if id_token:
            params["id_token_hint"] = id_token
        return add_params_to_uri(endpoint, params)

    def form_origins(self) -> list[str]:
        """Origins a form of ours may be redirected to: the provider's (sign-out ends there)."""
        return [_origin(self.issuer)]

    # The sign-in page of the embedded default lists people; this one shows a button.
    def people(self) -> list[Any]:
        return []

    def person(self, person_id: str) -> None:
        return None


def _same(a: str, b: Any) -> bool:
    import hmac

    return isinstance(b, str) and hmac.compare_digest(a.encode(), b.encode())


def _code_of(exc: OAuthError) -> str:
    error = str(getattr(exc, "error", "") or "unknown")
    return error if error.replace("_", "").isalnum() else "unknown"


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"
