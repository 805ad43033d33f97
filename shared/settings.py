"""Settings for every service, read from the environment with the ``BUDDY_`` prefix."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("recruitment", "matching", "followup", "reporting")
DEV_SERVICE_TOKEN = "dev-service-token"  # public, like the dev tokens: only where those are accepted
DEFAULT_BASE_PORT = 8000  # the web front; the services on the base + 1 to + 4
PORT_OFFSETS = {"recruitment": 1, "matching": 2, "followup": 3, "reporting": 4}
DEFAULT_PORTS = {name: DEFAULT_BASE_PORT + offset for name, offset in PORT_OFFSETS.items()}


class Settings(BaseSettings):
    """One settings object; each service picks the parts it needs."""

    model_config = SettingsConfigDict(env_prefix="BUDDY_", extra="ignore")

    env: Literal["dev", "production"] = Field(
        "dev",
        description="`dev`: readable logs, dev keys in the data folder, dev tokens where BUDDY_DEV_TOKENS asks; "
        "`production` refuses all three and requires the secrets.",
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
    port: int | None = Field(None, description="HTTP port; default per service the base port + 1–4.")
    base_port: int = Field(DEFAULT_BASE_PORT, ge=1, le=65_535 - 4, description=(
        "Services listen on this + 1 (recruitment) to + 4 (reporting) unless BUDDY_PORT is set; `buddy run` "
        "puts the web front on the base itself."))
    instance_id: str = Field(default_factory=lambda: secrets.token_hex(8), description=(
        "Names this process in /healthz; `buddy run` gives its services one, to tell them from another "
        "run's on the same ports."))
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
        SecretStr(DEV_SERVICE_TOKEN),
        description="Shared secret the services present to each other's event feeds (set it in production). "
        "The public default is accepted only where dev tokens are.",
    )
    metrics_token: SecretStr | None = Field(
        None, description="Secret a metrics scraper presents to /metrics (the service token is accepted too)."
    )
    api_docs: Literal["public", "signed-in"] | None = Field(
        None,
        description="`public`: /docs, /redoc and /openapi.json for anyone; `signed-in`: /openapi.json for "
        "signed-in callers and no HTML pages. Default: public where dev tokens are accepted, else signed-in.",
    )
    max_body_bytes: int = Field(1_000_000, ge=1_000, description="Larger request bodies are refused with 413.")
    body_timeout_s: float = Field(
        15.0, gt=0, description="A request body not fully received within this time is refused with 408 (slow clients)."
    )
    store_lock_timeout_s: float = Field(
        10.0, gt=0, description="How long a write waits for another's lock on the event store before it is "
        "answered 503 with Retry-After (nothing written; the client tries again).",
    )
    idempotency_keep_hours: float = Field(
        24.0, gt=0, description="How long a command's Idempotency-Key and first answer are kept for replays."
    )
    disclosure_threshold: int = Field(10, ge=1, description="Counts below this are never shown in reports.")
    rounding_base: int = Field(5, ge=1, description="Shown counts are rounded to a multiple of this.")
    as_known_on_rebuilds: int = Field(1, ge=1, description="'As known on' reports rebuilt at once (reporting).")
    as_known_on_waiting: int = Field(2, ge=0, description="More such rebuilds that may wait; beyond, 503 busy.")
    dev_tokens: bool = Field(
        False,
        description="Accept the public dev tokens; `buddy run` switches them on. Refused whatever this says "
        "in production and wherever OIDC or a service token is configured (see dev_token_refusals).",
    )
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    bootstrap_admins: str = Field(
        "",
        description="Comma-separated identity provider subjects (`sub`) that are admins without any staff "
        "register event: the first admin of a new installation, who records the staff (docs/operations.md). "
        "Where dev tokens are accepted, `dev-admin` is one as well.",
    )

    @model_validator(mode="after")
    def _production_is_strict(self) -> "Settings":
        if self.env == "production":
            missing = [
                name
                for name in ("redis_url", "database_url", "master_key", "blind_index_key", "bus_key", "oidc_issuer", "oidc_audience", "oidc_jwks_url")
                if not getattr(self, name)
            ]
            if self.uses_public_service_token:
                missing.append("service_token")
            if missing:
                raise ValueError(f"production needs BUDDY_{', BUDDY_'.join(m.upper() for m in missing)}")
            self.dev_tokens = False
        return self

    def dev_token_refusals(self) -> list[str]:
        """Why the public dev tokens are refused here, one sentence each; empty where they are accepted.

        Anyone can read the dev tokens (and the default service token) in this repository,
        so they are accepted only where the operator cannot have meant production: asked
        for explicitly, and nothing configured that only a real installation has. Missing
        settings never open anything: a bare `buddy serve` refuses them.
        """
        reasons = []
        if self.env == "production":
            reasons.append("BUDDY_ENV is production")
        if not self.dev_tokens:
            reasons.append("BUDDY_DEV_TOKENS is not true (`buddy run` sets it for the embedded system)")
        configured = [f"BUDDY_{name.upper()}" for name in ("oidc_issuer", "oidc_audience", "oidc_jwks_url")
                      if getattr(self, name)]
        if configured:
            reasons.append(f"{', '.join(configured)} configured: an identity provider signs real users in")
        if not self.uses_public_service_token:
            reasons.append("BUDDY_SERVICE_TOKEN configured: a secret belongs to a real installation")
        return reasons

    @property
    def accepts_dev_tokens(self) -> bool:
        """Development access: the dev tokens, the default service token, open /metrics and API docs."""
        return not self.dev_token_refusals()

    def bootstrap_admin_subjects(self) -> frozenset[str]:
        """The bootstrap admins: the setting's subjects, and ``dev-admin`` where dev tokens are accepted."""
        subjects = {part.strip() for part in self.bootstrap_admins.split(",") if part.strip()}
        if self.accepts_dev_tokens:
            subjects.add("dev-admin")
        return frozenset(subjects)

    @property
    def uses_public_service_token(self) -> bool:
        return self.service_token.get_secret_value() == DEV_SERVICE_TOKEN

    def accepted_service_token(self) -> str | None:
        """The service token the event feeds and /metrics accept: the public default only where dev tokens are."""
        if self.uses_public_service_token and not self.accepts_dev_tokens:
            return None
        return self.service_token.get_secret_value()

    def effective_api_docs(self) -> Literal["public", "signed-in"]:
        return self.api_docs or ("public" if self.accepts_dev_tokens else "signed-in")

    def port_of(self, service: str) -> int:
        return self.port or self.base_port + PORT_OFFSETS[service]

    def url_of(self, service: str) -> str:
        return self.service_urls.get(service, f"http://127.0.0.1:{self.base_port + PORT_OFFSETS[service]}")

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
