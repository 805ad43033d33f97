"""Settings of the web front (environment variables ``BUDDY_WEB_*``).

The web front also reads the shared settings (``BUDDY_ENV``, ``BUDDY_SERVICE_URLS``,
``BUDDY_DATA_DIR``, ``BUDDY_DATABASE_URL``): it finds the four services the same way they
find each other. With ``BUDDY_WEB_OIDC_CLIENT_ID`` (and the shared ``BUDDY_OIDC_ISSUER``
and ``BUDDY_OIDC_AUDIENCE``) people sign in with the organisation's identity provider.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUDDY_WEB_", extra="ignore")

    port: int = Field(8000, ge=1, le=65535, description="HTTP port of the web front.")
    session_idle_s: int = Field(
        1800, ge=1, description="A session not used for this many seconds ends (back to the sign-in page)."
    )
    session_max_s: int = Field(
        43_200, ge=1, description="A session ends this many seconds after sign-in, however busy."
    )
    cookie_name: str = Field("buddy_session", min_length=1, max_length=40, description="Name of the session cookie.")
    api_timeout_s: float = Field(30.0, gt=0, description="How long the web front waits for a service's answer.")
    public_url: str | None = Field(
        None, description="The web front's address as browsers reach it, e.g. https://buddy.example.org (no path): "
        "the sign-in callback and the page after sign-out are registered at the identity provider under it. "
        "Required in production.")
    organisation: str | None = Field(
        None, max_length=80, description="The organisation's name on the sign-in button ('Sign in with <name>').")
    oidc_client_id: str | None = Field(
        None, description="Client id of the web front at the identity provider; with it people sign in there.")
    oidc_client_secret: SecretStr | None = Field(
        None, description="Secret of a confidential client; without it the client is public (PKCE protects it).")
    oidc_discovery_url: str | None = Field(
        None, description="Where the web front reads the provider's discovery document when it reaches the "
        "provider at another address than browsers do; default: BUDDY_OIDC_ISSUER + /.well-known/openid-configuration.")
    oidc_scope: str = Field("openid profile", description="Scopes asked for at sign-in (must include openid).")
    oidc_resource: str | None = Field(
        None, description="Resource indicator (RFC 8707) sent at sign-in and refresh, for providers that choose the "
        "access token's audience by it.")
    oidc_refresh_margin_s: int = Field(
        60, ge=0, description="Access tokens are refreshed this long before they expire (at most a quarter of "
        "their life).")
    oidc_timeout_s: float = Field(10.0, gt=0, description="How long the web front waits for the identity provider.")

    @field_validator("oidc_scope")
    @classmethod
    def _asks_for_openid(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("BUDDY_WEB_OIDC_SCOPE must include openid")
        return value

    @field_validator("public_url")
    @classmethod
    def _is_an_origin(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.rstrip("/")
            if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
                raise ValueError("BUDDY_WEB_PUBLIC_URL must be an http(s) address without query")
        return value
