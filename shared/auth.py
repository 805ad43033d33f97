"""Who is calling, and may they: bearer tokens to a pseudonymous ``Principal``.

Production accepts only OIDC access tokens (RS256, keys from the provider's JWKS).
Development adds a fixed table of dev tokens so the services can be tried without an
identity provider. Those tokens are public (they are in this file), so they are accepted
only where ``Settings.dev_token_refusals`` finds no reason against them: switched on
explicitly (``buddy run`` does), and no production setting, OIDC issuer or service token
in sight. A missing setting never lets them in.

A token says who is calling; in the services what they may do comes from the staff
register (``shared.access.AccessRegister``, given to the ``Authenticator``): the role and
scope claims of a token, and the roles of the dev table, are not what the services check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

import anyio
import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.access import AccessRegister, NoAccess
from shared.events.envelope import Actor, Role
from shared.logging import get_logger
from shared.settings import Settings

__all__ = [
    "DEV_TOKENS",
    "AuthenticationError",
    "DEV_BOOTSTRAP_ADMIN",
    "authenticate_credentials",
    "AuthUnavailable",
    "Authenticator",
    "JWTVerifier",
    "Principal",
    "bearer_scheme",
    "dev_principals",
    "principal_dependency",
    "require_project",
    "require_role",
]

log = get_logger(__name__)

UNAUTHENTICATED = "Niet aangemeld of ongeldig token / Not signed in or invalid token"
UNAVAILABLE = "Aanmeldingsdienst niet bereikbaar / Sign-in service unavailable"
NO_PROJECT_ACCESS = "Geen toegang tot dit project / No access to this project"
NO_ROLE_ACCESS = "Geen toegang met deze rol / Not allowed with this role"
#: The dev identity that is an admin without any event (the bootstrap admin of the embedded default).
DEV_BOOTSTRAP_ADMIN = "dev-admin"


class AuthenticationError(Exception):
    """The token is missing, malformed, expired or not ours (HTTP 401)."""


class AuthUnavailable(Exception):
    """The identity provider's keys cannot be fetched (HTTP 503, not the caller's fault)."""


class Principal(BaseModel):
    """The caller as the services see it: pseudonymous, with the scope of their work."""

    model_config = ConfigDict(frozen=True)

    actor: Actor
    projects: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    @property
    def role(self) -> Role:
        return self.actor.role

    def can_act_in_project(self, project_id: str) -> bool:
        """Professionals work only in their own projects; admins may step in anywhere."""
        if self.role is Role.admin:
            return True
        return self.role is Role.professional and project_id in self.projects

    def can_read_region(self, region: str) -> bool:
        """Coordinators see their regions' (anonymised) figures; admins and auditors all.

        The government reads Flanders' figures (regions as its rows), no one region's report.
        """
        if self.role in (Role.admin, Role.auditor):
            return True
        return self.role is Role.coordinator and region in self.regions

    @property
    def is_auditor(self) -> bool:
        return self.role is Role.auditor


def _principal(actor_id: str, role: Role, projects: Iterable[str] = (), regions: Iterable[str] = ()) -> Principal:
    return Principal(actor=Actor(id=actor_id, role=role), projects=frozenset(projects), regions=frozenset(regions))


def dev_principals() -> dict[str, Principal]:
    """The fixed dev identities; the token doubles as the pseudonymous actor id.

    Identities only: the role here is what the demo's staff register gives them (shown on
    the sign-in page), not what they may do. The services take that from the staff register
    (``shared.access``), where the demo load records these people's roles and assignments as
    events; only ``dev-admin`` is an admin without them, as the embedded default's bootstrap
    admin. The buddy is no staff member: a buddy's scope is their own duos.
    """
    return {
        "dev-admin": _principal("dev-admin", Role.admin),
        "dev-professional": _principal("dev-professional", Role.professional),
        "dev-professional-other": _principal("dev-professional-other", Role.professional),
        "dev-coordinator": _principal("dev-coordinator", Role.coordinator),
        "dev-government": _principal("dev-government", Role.government),
        "dev-auditor": _principal("dev-auditor", Role.auditor),
        "dev-buddy": _principal("dev-buddy", Role.buddy),
    }


DEV_TOKENS: dict[str, Principal] = dev_principals()


def _string_set(claims: dict[str, Any], name: str) -> frozenset[str]:
    value = claims.get(name)
    if value is None:
        return frozenset()
    if isinstance(value, str):  # some providers flatten one-element lists
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise AuthenticationError(f"claim {name!r} must be a list of strings")
    return frozenset(value)


def _role(claims: dict[str, Any]) -> Role:
    role = claims.get("buddy_role")
    if role is not None:
        candidates = [role]
    else:
        roles = claims.get("roles")
        candidates = roles if isinstance(roles, list) else []
    # With only `roles`, take the first one this system knows: providers mix in
    # their own roles (offline_access, ...).
    for candidate in candidates:
        if isinstance(candidate, str) and candidate in Role.__members__:
            return Role(candidate)
        if role is not None:
            break
    raise AuthenticationError("token carries no known role")


class JWTVerifier:
    """Validates RS256 access tokens of one OIDC issuer and audience.

    Keys come from the JWKS and are looked up by ``kid``; an unknown ``kid`` refetches
    the set (at most once per ``refresh_cooldown_s``), so provider key rotation needs
    no restart.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str,
        *,
        leeway_s: float = 30,
        refresh_cooldown_s: float = 10,
        jwks_lifespan_s: float = 300,
        timeout_s: float = 5,
    ) -> None:
        if not issuer or not audience or not jwks_url:
            raise ValueError("JWT verification needs an issuer, an audience and a JWKS URL")
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self._jwks = jwt.PyJWKClient(
            jwks_url,
            cache_jwk_set=True,
            lifespan=jwks_lifespan_s,
            timeout=timeout_s,
            cooldown_duration=refresh_cooldown_s,
        )

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; raises ``AuthenticationError`` otherwise."""
        return self.verify_until(token)[0]

    def verify_until(self, token: str) -> tuple[Principal, float]:
        """The principal of a valid token and the time (epoch seconds) until which it is valid."""
        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthUnavailable(str(exc)) from exc
        except (jwt.PyJWKClientError, jwt.PyJWTError) as exc:
            raise AuthenticationError(f"no usable signing key: {exc}") from exc
        try:
            claims = jwt.decode(
                token,
                key=signing_key.key,
                algorithms=["RS256"],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError("token has no usable 'sub'")
        try:
            # Only `sub`: names and e-mail addresses must never become actor ids.
            principal = Principal(
                actor=Actor(id=subject, role=_role(claims)),
                projects=_string_set(claims, "buddy_projects"),
                regions=_string_set(claims, "buddy_regions"),
            )
        except ValidationError as exc:
            raise AuthenticationError(f"token claims rejected: {exc.error_count()} error(s)") from exc
        return principal, float(claims["exp"]) + self.leeway_s


class Authenticator:
    """Turns a bearer token into a ``Principal`` according to the settings.

    A verified JWT is remembered for at most ``cache_ttl_s`` (and never past its expiry):
    the same token comes with every request of a session, and a remembered one needs
    no RS256 check and no trip to a worker thread (see ``principal_dependency``). The
    short lifetime bounds how long a token signed with a key the provider has just
    retired is still accepted.
    """

    def __init__(self, settings: Settings, *, access: AccessRegister | None = None, cache_ttl_s: float = 60,
                 cache_size: int = 4096) -> None:
        # Decided from the whole settings at construction: a mutated ``dev_tokens`` flag
        # alone (or a production Settings object flipped afterwards) never lets them in.
        self.dev_tokens = settings.accepts_dev_tokens
        self._dev = dev_principals() if self.dev_tokens else {}
        self.jwt: JWTVerifier | None = None
        if settings.oidc_jwks_url:
            if not settings.oidc_issuer or not settings.oidc_audience:
                raise ValueError("BUDDY_OIDC_JWKS_URL needs BUDDY_OIDC_ISSUER and BUDDY_OIDC_AUDIENCE")
            self.jwt = JWTVerifier(settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url)
        self.cache_ttl_s, self.cache_size = cache_ttl_s, cache_size
        self._verified: dict[str, tuple[Principal, float]] = {}  # token -> (principal, valid until)
        self._lock = threading.Lock()
        self.access = access  # the staff register: what a caller may do (None: the token's own claims)

    def known(self, token: str) -> Principal | None:
        """Without I/O or signature checks: a dev token, or a JWT verified a moment ago (and its scope resolved)."""
        identity = self._known_identity(token)
        if identity is None or self.access is None:
            return identity
        return self.access.cached(identity)

    def _known_identity(self, token: str) -> Principal | None:
        principal = self._dev.get(token)
        if principal is not None:
            return principal
        entry = self._verified.get(token)
        if entry is None:
            return None
        if time.time() < entry[1]:
            return entry[0]
        with self._lock:
            self._verified.pop(token, None)
        return None

    def authenticate(self, token: str) -> Principal:
        """The caller's principal; ``AuthenticationError`` (401), or ``NoAccess`` (403) for no staff member."""
        identity = self.identify(token)
        return identity if self.access is None else self.access.resolve(identity)

    def identify(self, token: str) -> Principal:
        """Who the token names (its claims as they are), before the staff register says what they may do."""
        principal = self._known_identity(token)
        if principal is not None:
            return principal
        if self.jwt is not None and token.count(".") == 2:
            principal, valid_until = self.jwt.verify_until(token)
            if self.cache_ttl_s > 0:
                with self._lock:
                    while len(self._verified) >= self.cache_size:
                        self._verified.pop(next(iter(self._verified)))
                    self._verified[token] = (principal, min(valid_until, time.time() + self.cache_ttl_s))
            return principal
        raise AuthenticationError("unknown token")


bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="OIDC access token (RS256); on the embedded development system (`buddy run`) also a dev "
    "token such as `dev-professional`. The token says who is calling; what they may do comes from the staff "
    "register (403 for a signed-in subject it does not know).",
)


def _unauthorized(invalid: bool) -> HTTPException:
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=UNAUTHENTICATED, headers={"WWW-Authenticate": challenge})


def authenticate_credentials(auth: Authenticator, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller's ``Principal``, or the HTTP error to answer (401, or 503 without the provider's keys).

    May block on a JWKS fetch: call it from a worker thread (as a sync dependency is).
    """
    if credentials is None or not credentials.credentials:
        raise _unauthorized(invalid=False)
    try:
        return auth.authenticate(credentials.credentials)
    except AuthenticationError as exc:
        log.info("authentication_failed", reason=str(exc))
        raise _unauthorized(invalid=True) from None
    except AuthUnavailable as exc:
        log.warning("authentication_unavailable", reason=str(exc))
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=UNAVAILABLE) from None
    except NoAccess as exc:
        log.info("authorisation_refused", reason="no staff role")  # the subject is pseudonymous, still not logged
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from None


def principal_dependency(auth: Authenticator) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency giving the caller's ``Principal`` or answering 401.

    Asynchronous so that a dev token or a recently verified JWT costs no trip through
    the threadpool; only a token still to be verified (which may fetch the JWKS, a
    blocking call) goes to a worker thread.
    """

    async def current_principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal:
        if credentials is not None and credentials.credentials:
            principal = auth.known(credentials.credentials)
            if principal is not None:
                return principal
        return await anyio.to_thread.run_sync(authenticate_credentials, auth, credentials)

    return current_principal


def require_project(principal: Principal, project_id: str) -> Principal:
    """403 unless the principal may act in the project."""
    if not principal.can_act_in_project(project_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_PROJECT_ACCESS)
    return principal


def require_role(principal: Principal, *roles: Role) -> Principal:
    """403 unless the principal has one of the roles."""
    if principal.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_ROLE_ACCESS)
    return principal
