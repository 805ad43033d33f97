"""Settings of the web front (environment variables ``BUDDY_WEB_*``).

The web front also reads the shared settings (``BUDDY_ENV``, ``BUDDY_SERVICE_URLS``,
``BUDDY_DATA_DIR``, ``BUDDY_DATABASE_URL``): it finds the four services the same way they
find each other.
"""

from __future__ import annotations

from pydantic import Field
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
