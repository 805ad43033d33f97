"""Settings for every service, read from the environment with the ``BUDDY_`` prefix."""

from __future__ import annotations

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("recruitment", "matching", "followup", "reporting")
DEFAULT_PORTS = {"recruitment": 8001, "matching": 8002, "followup": 8003, "reporting": 8004}


class Settings(BaseSettings):
    """One settings object; each service picks the parts it needs."""

    model_config = SettingsConfigDict(env_prefix="BUDDY_", extra="ignore")

    env: Literal["dev", "production"] = Field(
        "dev", description="`dev` enables dev tokens and readable logs; `production` refuses both."
    )
    data_dir: Path = Field(Path("var"), description="Folder for SQLite files, keys and the embedded Redis.")
    redis_url: str | None = Field(
        None,
        description="Redis to use: redis://host:port/db, redis+sentinel://h1:p1,h2:p2/master or "
        "redis+cluster://h1:p1,h2:p2 (docs/redis-topologies.md); unset on the embedded default.",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_url_is_understood(cls, value: str | None) -> str | None:
        if value:
            from shared.bus.connect import parse_redis_url

            parse_redis_url(value)  # a sentence saying what is wrong, at start-up
        return value
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; `{service}` is replaced by the service name. "
        "Default: a SQLite file per service under the data folder.",
    )
    stream_prefix: str = Field("buddy", description="Prefix of every Redis key the system writes.")
    master_key: SecretStr | None = Field(
        None, description="Base64 32-byte key that wraps the per-person data keys (required in production)."
    )
    blind_index_key: SecretStr | None = Field(
        None, description="Base64 key for the searchable name index (required in production)."
    )
    bus_key: SecretStr | None = Field(
        None,
        description="Base64 32-byte key(s) the relays sign stream entries with and the consumers verify them "
        "with; comma-separated during a rotation: the first signs, every one verifies (required in production).",
    )
    log_format: Literal["console", "json"] | None = Field(None, description="Default: json in production.")
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int | None = Field(None, description="HTTP port; default per service 8001–8004.")
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Base URL per service for the event feeds, e.g. "
        '{"recruitment": "http://recruitment:8001"}. Default: localhost with the default ports.',
    )
    dead_letter_after: int = Field(5, ge=1, description="Failed deliveries before an event is dead-lettered.")
    reclaim_idle_ms: int = Field(30_000, ge=100, description="Idle time before a dead consumer's messages are reclaimed.")
    catch_up_interval_s: float = Field(5.0, gt=0, description="How often a consumer compares itself with the feeds.")
    relay_interval_s: float = Field(0.05, gt=0, description="How often the outbox relay looks for new events.")
    consumer_name: str | None = Field(None, description="Consumer name within its group; default host and pid.")
    service_token: SecretStr = Field(
        SecretStr("dev-service-token"),
        description="Shared secret the services present to each other's event feeds (set it in production).",
    )
    max_body_bytes: int = Field(1_000_000, ge=1_000, description="Larger request bodies are refused with 413.")
    body_timeout_s: float = Field(
        15.0, gt=0, description="A request body not fully received within this time is refused with 408 (slow clients)."
    )
    disclosure_threshold: int = Field(10, ge=1, description="Counts below this are never shown in reports.")
    rounding_base: int = Field(5, ge=1, description="Shown counts are rounded to a multiple of this.")
    dev_tokens: bool = Field(True, description="Accept the static dev tokens (only ever on the dev default).")
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None

    @model_validator(mode="after")
    def _production_is_strict(self) -> "Settings":
        if self.env == "production":
            missing = [
                name
                for name in ("redis_url", "database_url", "master_key", "blind_index_key", "bus_key", "oidc_issuer", "oidc_audience", "oidc_jwks_url")
                if not getattr(self, name)
            ]
            if self.service_token.get_secret_value() == "dev-service-token":
                missing.append("service_token")
            if missing:
                raise ValueError(f"production needs BUDDY_{', BUDDY_'.join(m.upper() for m in missing)}")
            self.dev_tokens = False
        return self

    def port_of(self, service: str) -> int:
        return self.port or DEFAULT_PORTS[service]

    def url_of(self, service: str) -> str:
        return self.service_urls.get(service, f"http://127.0.0.1:{DEFAULT_PORTS[service]}")

    def database_url_of(self, service: str) -> str:
        if self.database_url:
            return self.database_url.replace("{service}", service)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / f'{service}.db').as_posix()}"

    def stream_of(self, service: str) -> str:
        return f"{self.stream_prefix}:events:{service}"

    def effective_log_format(self) -> str:
        return self.log_format or ("json" if self.env == "production" else "console")

    def key_bytes(self, name: Literal["master_key", "blind_index_key"]) -> bytes:
        """The key from settings, or on the dev default one kept in the data folder."""
        value = getattr(self, name)
        if value is not None:
            return _key_of(value.get_secret_value(), name)
        return self._dev_key(name)

    def bus_keys(self) -> list[bytes]:
        """The bus keys, the signing one first; on the dev default one kept in the data folder.

        Several keys (comma-separated) let a rotation go without a stop: every service first
        gets the new key second (it verifies), then first (it signs), then the old one goes.
        """
        if self.bus_key is None:
            return [self._dev_key("bus_key")]
        keys = [_key_of(part.strip(), "bus_key") for part in self.bus_key.get_secret_value().split(",") if part.strip()]
        if not keys:
            raise ValueError("BUDDY_BUS_KEY names no key")
        return keys

    def _dev_key(self, name: str) -> bytes:
        if self.env == "production":  # pragma: no cover - the validator already refuses this
            raise ValueError(f"BUDDY_{name.upper()} is required in production")
        path = self.data_dir / f"{name}.dev"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Write aside, then link into place: processes starting together never see a
            # half-written key, and the first link wins for all of them.
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.b64encode(secrets.token_bytes(32)).decode())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return base64.b64decode(path.read_text().strip())


def _key_of(text: str, name: str) -> bytes:
    try:
        raw = base64.b64decode(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValueError(f"BUDDY_{name.upper()} must be 32 bytes, base64-encoded")
    return raw


@lru_cache
def get_settings() -> Settings:
    return Settings()
