"""Authentication: dev tokens, OIDC JWTs against a local JWKS, and the FastAPI dependency."""


import base64
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared.auth import (
    DEV_TOKENS,
    AuthenticationError,
    Authenticator,
    JWTVerifier,
    Principal,
    dev_principals,
    principal_dependency,
    require_project,
    require_role,
)
from shared.access import AccessRegister, NoAccess
from shared.events.envelope import Actor, Role
from shared.eventstore import make_engine, migrate
from tests.staff import give_demo_staff
from shared.settings import Settings

ISSUER = "https://login.example.test/realms/buddy"
AUDIENCE = "buddy-api"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


class JWKSServer:
    """A JWKS endpoint on 127.0.0.1 whose key set the test can change."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.hits += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self) -> "JWKSServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {"k1": _rsa_key(), "k2": _rsa_key(), "rogue": _rsa_key()}


@pytest.fixture
def jwks(keys):
    with JWKSServer() as server:
        server.keys = [_jwk(keys["k1"], "k1")]
        yield server


@pytest.fixture
def verifier(jwks) -> JWTVerifier:
    return JWTVerifier(ISSUER, AUDIENCE, jwks.url, refresh_cooldown_s=0)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "8f14e45f-ceea-4e7a-9c3b-1a2b3c4d5e6f",
        "iat": now,
        "exp": now + 300,
        "name": "Emile Dupont",
        "email": "emile@example.test",
        "buddy_role": "professional",
        "buddy_projects": ["demo-antwerpen", "demo-gent"],
        "buddy_regions": [],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token(key: rsa.RSAPrivateKey, kid: str | None = "k1", **overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(_claims(**overrides), key, algorithm="RS256", headers=headers)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- principals and dev tokens -------------------------------------------------------


def _p(actor_id: str, role: Role, projects: set[str] = set(), regions: set[str] = set()) -> Principal:
    return Principal(actor=Actor(id=actor_id, role=role), projects=frozenset(projects), regions=frozenset(regions))


def test_principal_permissions():
    pro = _p("pro", Role.professional, {"demo-antwerpen", "demo-gent"})
    other = _p("other", Role.professional, {"demo-brugge"})
    coordinator = _p("co", Role.coordinator, regions={"antwerpen-kempen"})
    admin, auditor, government = _p("ad", Role.admin), _p("au", Role.auditor), _p("gov", Role.government)
    buddy = _p("bu", Role.buddy)
    assert pro.can_act_in_project("demo-gent")
    assert not pro.can_act_in_project("demo-brugge")
    assert other.can_act_in_project("demo-brugge")
    assert admin.can_act_in_project("anything")
    assert not buddy.can_act_in_project("demo-antwerpen")
    assert not coordinator.can_act_in_project("demo-antwerpen")
    assert not auditor.can_act_in_project("demo-antwerpen")
    assert not government.can_act_in_project("demo-antwerpen")

    assert coordinator.can_read_region("antwerpen-kempen")
    assert not coordinator.can_read_region("west-vlaanderen")
    assert admin.can_read_region("west-vlaanderen")
    assert auditor.can_read_region("west-vlaanderen")
    assert not pro.can_read_region("antwerpen-kempen")
    assert not government.can_read_region("antwerpen-kempen")  # Flanders' figures, no one region's report

    assert auditor.is_auditor and not admin.is_auditor


def test_dev_principals_are_pseudonymous_identities_without_scope():
    """The dev table says who someone is; what they may do comes from the staff register."""
    principals = dev_principals()
    assert set(principals) == {
        "dev-admin",
        "dev-professional",
        "dev-professional-other",
        "dev-coordinator",
        "dev-government",
        "dev-auditor",
        "dev-buddy",
    }
    for token, principal in principals.items():
        assert principal.actor.id == token
        assert principal.projects == frozenset() and principal.regions == frozenset()
    assert principals["dev-buddy"].role is Role.buddy


def test_dev_token_accepted_in_dev(tmp_path):
    auth = Authenticator(Settings(env="dev", data_dir=tmp_path, dev_tokens=True))
    principal = auth.authenticate("dev-professional")
    assert principal.actor.id == "dev-professional"
    assert principal.projects == frozenset()  # no register given: the identity only
    with pytest.raises(AuthenticationError):
        auth.authenticate("dev-nobody")


def test_dev_tokens_can_be_switched_off(tmp_path):
    auth = Authenticator(Settings(env="dev", data_dir=tmp_path, dev_tokens=False))
    with pytest.raises(AuthenticationError):
        auth.authenticate("dev-admin")


def _bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path, **variables: str) -> None:
    """The process environment holds exactly these BUDDY_* variables (and the data folder)."""
    for name in list(os.environ):
        if name.upper().startswith("BUDDY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BUDDY_DATA_DIR", str(tmp_path))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_a_bare_serve_refuses_dev_tokens(tmp_path, monkeypatch):
    """Nothing set at all (`buddy serve` with no environment): the public tokens stay out."""
    _bare_environment(monkeypatch, tmp_path)
    settings = Settings()
    auth = Authenticator(settings)
    for token in DEV_TOKENS:
        with pytest.raises(AuthenticationError):
            auth.authenticate(token)
    assert not settings.accepts_dev_tokens
    assert settings.dev_token_refusals() == [
        "BUDDY_DEV_TOKENS is not true (`buddy run` sets it for the embedded system)"]


def test_dev_tokens_refused_on_an_installation_without_buddy_env(tmp_path, monkeypatch, jwks, keys):
    """The outside test's case: OIDC, PostgreSQL and an external Redis, BUDDY_ENV unset."""
    _bare_environment(
        monkeypatch, tmp_path, BUDDY_OIDC_ISSUER=ISSUER, BUDDY_OIDC_AUDIENCE=AUDIENCE, BUDDY_OIDC_JWKS_URL=jwks.url,
        BUDDY_DATABASE_URL="postgresql+psycopg://buddy:pw@db/buddy_{service}",
        BUDDY_REDIS_URL="redis://redis.example.test:6379/0",
        BUDDY_DEV_TOKENS="true",  # even asked for, e.g. copied from a developer's environment
    )
    settings = Settings()
    auth = Authenticator(settings)
    with pytest.raises(AuthenticationError):
        auth.authenticate("dev-admin")
    assert auth.dev_tokens is False
    assert auth.authenticate(_token(keys["k1"])).role is Role.professional
    assert settings.env == "dev" and not settings.accepts_dev_tokens
    assert any("BUDDY_OIDC_ISSUER" in reason for reason in settings.dev_token_refusals())


@pytest.mark.parametrize(
    ("configured", "named"),
    [
        ({"oidc_issuer": ISSUER}, "BUDDY_OIDC_ISSUER"),
        ({"oidc_audience": AUDIENCE}, "BUDDY_OIDC_AUDIENCE"),
        ({"service_token": "a-real-secret-" + "x" * 24}, "BUDDY_SERVICE_TOKEN"),
    ],
    ids=["oidc-issuer", "oidc-audience", "service-token"],
)
def test_dev_tokens_refused_where_a_real_installation_is_configured(tmp_path, configured, named):
    settings = Settings(env="dev", data_dir=tmp_path, dev_tokens=True, **configured)
    with pytest.raises(AuthenticationError):
        Authenticator(settings).authenticate("dev-admin")
    [reason] = settings.dev_token_refusals()
    assert named in reason


def test_dev_tokens_work_with_a_local_database_when_asked(tmp_path):
    """A developer's (or the tests') own PostgreSQL is no sign of production."""
    settings = Settings(env="dev", data_dir=tmp_path, dev_tokens=True, database_url="postgresql+psycopg://localhost/x")
    assert Authenticator(settings).authenticate("dev-admin").role is Role.admin


def _production_settings(jwks_url: str, **extra: Any) -> Settings:
    key = base64.b64encode(b"k" * 32).decode()
    if "service_token" in Settings.model_fields:
        extra.setdefault("service_token", "test-service-token-" + "x" * 24)
    if "bus_key" in Settings.model_fields:
        extra.setdefault("bus_key", key)
    return Settings(
        env="production",
        redis_url="redis://127.0.0.1:1",
        database_url="postgresql://x/y",
        master_key=key,
        blind_index_key=key,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks_url,
        **extra,
    )


def test_production_refuses_dev_tokens(jwks, keys):
    settings = _production_settings(jwks.url, dev_tokens=True)
    assert settings.dev_tokens is False
    settings.dev_tokens = True  # even if something flips it afterwards
    auth = Authenticator(settings)
    for token in DEV_TOKENS:
        with pytest.raises(AuthenticationError):
            auth.authenticate(token)
    assert auth.authenticate(_token(keys["k1"])).role is Role.professional


def test_jwks_without_audience_is_a_configuration_error(tmp_path):
    with pytest.raises(ValueError, match="AUDIENCE"):
        Authenticator(Settings(env="dev", data_dir=tmp_path, oidc_jwks_url="http://127.0.0.1:1/", oidc_issuer=ISSUER))


# -- JWTs -----------------------------------------------------------------------------


def test_valid_jwt(verifier, keys):
    principal = verifier.verify(_token(keys["k1"], buddy_regions=["antwerpen-kempen"]))
    assert isinstance(principal, Principal)
    assert principal.actor.id == "8f14e45f-ceea-4e7a-9c3b-1a2b3c4d5e6f"
    assert principal.role is Role.professional
    assert principal.projects == frozenset({"demo-antwerpen", "demo-gent"})
    assert principal.regions == frozenset({"antwerpen-kempen"})
    assert "Emile" not in principal.model_dump_json() and "example.test" not in principal.model_dump_json()


def test_role_from_roles_claim(verifier, keys):
    token = _token(keys["k1"], buddy_role=None, roles=["offline_access", "coordinator", "admin"])
    assert verifier.verify(token).role is Role.coordinator


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://evil.example.test"},
        {"aud": "other-api"},
        {"exp": int(time.time()) - 120},
        {"sub": None},
        {"sub": ""},
        {"sub": "x" * 101},
        {"buddy_role": "superuser"},
        {"buddy_role": None},
        {"buddy_role": None, "roles": ["offline_access"]},
        {"buddy_projects": [1, 2]},
    ],
    ids=[
        "issuer", "audience", "expired", "no-sub", "empty-sub", "long-sub",
        "unknown-role", "no-role", "no-known-role", "bad-projects",
    ],
)
def test_invalid_jwt_claims(verifier, keys, overrides):
    with pytest.raises(AuthenticationError):
        verifier.verify(_token(keys["k1"], **overrides))


def test_expiry_leeway(verifier, keys):
    assert verifier.verify(_token(keys["k1"], exp=int(time.time()) - 10)).role is Role.professional


def test_bad_signature(verifier, keys):
    with pytest.raises(AuthenticationError):
        verifier.verify(_token(keys["rogue"], kid="k1"))
    header, payload, signature = _token(keys["k1"]).split(".")
    forged_payload = base64.urlsafe_b64encode(json.dumps(_claims(buddy_role="admin")).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError):
        verifier.verify(f"{header}.{forged_payload}.{signature}")


def test_unknown_kid_and_missing_kid(verifier, keys):
    with pytest.raises(AuthenticationError):
        verifier.verify(_token(keys["rogue"], kid="rogue"))
    with pytest.raises(AuthenticationError):
        verifier.verify(_token(keys["k1"], kid=None))


def test_other_algorithms_refused(verifier):
    token = jwt.encode(_claims(), "s" * 32, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(AuthenticationError):
        verifier.verify(token)
    with pytest.raises(AuthenticationError):
        verifier.verify("not-a-jwt")


def test_key_rotation(verifier, jwks, keys):
    assert verifier.verify(_token(keys["k1"])).role is Role.professional
    hits = jwks.hits
    # The provider adds a new key; tokens signed with it are accepted after one refetch.
    jwks.keys = [_jwk(keys["k1"], "k1"), _jwk(keys["k2"], "k2")]
    assert verifier.verify(_token(keys["k2"], kid="k2", buddy_role="admin")).role is Role.admin
    assert jwks.hits == hits + 1
    # Known keys come from the cache.
    verifier.verify(_token(keys["k1"]))
    verifier.verify(_token(keys["k2"], kid="k2"))
    assert jwks.hits == hits + 1
    # The old key is retired.
    jwks.keys = [_jwk(keys["k2"], "k2")]
    verifier.verify(_token(keys["k2"], kid="k2"))
    with pytest.raises(AuthenticationError):
        JWTVerifier(ISSUER, AUDIENCE, jwks.url).verify(_token(keys["k1"]))


def _jwt_authenticator(tmp_path, jwks, **options: Any) -> Authenticator:
    settings = Settings(env="dev", data_dir=tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE,
                        oidc_jwks_url=jwks.url)
    return Authenticator(settings, **options)


def _counting_verifications(auth: Authenticator, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    verify_until = auth.jwt.verify_until

    def counted(token: str) -> tuple[Principal, float]:
        calls.append(token)
        return verify_until(token)

    monkeypatch.setattr(auth.jwt, "verify_until", counted)
    return calls


def test_verified_jwt_is_remembered_for_a_short_while(tmp_path, jwks, keys, monkeypatch):
    auth = _jwt_authenticator(tmp_path, jwks, cache_ttl_s=60)
    calls = _counting_verifications(auth, monkeypatch)
    token = _token(keys["k1"])
    assert auth.authenticate(token).role is Role.professional
    assert auth.authenticate(token).role is Role.professional
    assert auth.known(token) is not None
    assert len(calls) == 1
    later = time.time() + 61
    monkeypatch.setattr("shared.auth.time.time", lambda: later)
    assert auth.known(token) is None
    auth.authenticate(token)
    assert len(calls) == 2


def test_remembered_jwt_never_outlives_its_expiry(tmp_path, jwks, keys, monkeypatch):
    auth = _jwt_authenticator(tmp_path, jwks, cache_ttl_s=3600)
    exp = int(time.time()) + 5
    token = _token(keys["k1"], exp=exp)
    auth.authenticate(token)
    monkeypatch.setattr("shared.auth.time.time", lambda: exp + auth.jwt.leeway_s + 1)
    assert auth.known(token) is None


def test_refused_tokens_are_not_remembered_and_the_memory_is_bounded(tmp_path, jwks, keys):
    auth = _jwt_authenticator(tmp_path, jwks, cache_size=2)
    forged = _token(keys["rogue"], kid="k1")
    with pytest.raises(AuthenticationError):
        auth.authenticate(forged)
    assert auth.known(forged) is None
    tokens = [_token(keys["k1"], sub=f"subject-{i}") for i in range(3)]
    for token in tokens:
        auth.authenticate(token)
    assert auth.known(tokens[0]) is None
    assert auth.known(tokens[1]).actor.id == "subject-1"
    assert auth.known(tokens[2]).actor.id == "subject-2"


def test_without_memory_every_jwt_is_verified(tmp_path, jwks, keys, monkeypatch):
    auth = _jwt_authenticator(tmp_path, jwks, cache_ttl_s=0)
    calls = _counting_verifications(auth, monkeypatch)
    token = _token(keys["k1"])
    auth.authenticate(token)
    auth.authenticate(token)
    assert len(calls) == 2


# -- FastAPI dependency ---------------------------------------------------------------


def _app(auth: Authenticator) -> FastAPI:
    app = FastAPI()
    current = principal_dependency(auth)

    @app.get("/projects/{project_id}/cases")
    def cases(project_id: str, principal: Annotated[Principal, Depends(current)]) -> dict[str, str]:
        require_project(principal, project_id)
        return {"actor": principal.actor.id}

    @app.get("/audit")
    def audit(principal: Annotated[Principal, Depends(current)]) -> dict[str, str]:
        require_role(principal, Role.auditor, Role.admin)
        return {"actor": principal.actor.id}

    return app


@pytest.fixture
def client(tmp_path, jwks):
    settings = Settings(
        env="dev", data_dir=tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=jwks.url
    )
    with TestClient(_app(Authenticator(settings))) as client:
        yield client


def _register(tmp_path, settings: Settings, *, demo: bool = True) -> AccessRegister:
    """A service database with the staff register: the demo people's, as their events made it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'access.db'}")
    migrate(engine, None)
    if demo:
        give_demo_staff(engine)
    return AccessRegister(engine, bootstrap_admins=settings.bootstrap_admin_subjects())


@pytest.fixture
def dev_client(tmp_path):
    settings = Settings(env="dev", data_dir=tmp_path, dev_tokens=True)
    auth = Authenticator(settings, access=_register(tmp_path, settings))
    with TestClient(_app(auth)) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_dependency_without_token_is_401(client):
    response = client.get("/projects/demo-gent/cases")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["detail"] == "Niet aangemeld of ongeldig token / Not signed in or invalid token"


def test_dependency_with_wrong_scheme_or_bad_token_is_401(client):
    assert client.get("/audit", headers={"Authorization": "Basic ZGV2OmRldg=="}).status_code == 401
    response = client.get("/audit", headers=_bearer("dev-nobody"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_dependency_dev_token(dev_client):
    response = dev_client.get("/projects/demo-gent/cases", headers=_bearer("dev-professional"))
    assert response.status_code == 200
    assert response.json() == {"actor": "dev-professional"}


def test_dependency_foreign_project_is_403(dev_client):
    response = dev_client.get("/projects/demo-gent/cases", headers=_bearer("dev-professional-other"))
    assert response.status_code == 403
    assert response.json()["detail"] == "Geen toegang tot dit project / No access to this project"


def test_dependency_role_check(dev_client):
    assert dev_client.get("/audit", headers=_bearer("dev-auditor")).status_code == 200
    response = dev_client.get("/audit", headers=_bearer("dev-professional"))
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Geen toegang")


def test_scope_comes_from_the_staff_register_not_from_the_token(tmp_path, keys, jwks):
    """A token's role and scope claims are not what the services check: the register is."""
    settings = Settings(env="dev", data_dir=tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE,
                        oidc_jwks_url=jwks.url, bootstrap_admins="boot-1, boot-2")
    register = _register(tmp_path, settings)
    auth = Authenticator(settings, access=register)
    # the demo register knows dev-coordinator as coordinator of antwerpen-kempen, whatever the token says
    token = _token(keys["k1"], sub="dev-coordinator", buddy_role="admin", buddy_projects=["demo-brugge"])
    principal = auth.authenticate(token)
    assert principal.role is Role.coordinator
    assert principal.regions == frozenset({"antwerpen-kempen"}) and principal.projects == frozenset()
    assert auth.known(token) == principal  # verified and resolved a moment ago: no I/O
    # a subject the register does not know: 403 with a sentence that names the subject for the admin
    with pytest.raises(NoAccess) as refused:
        auth.authenticate(_token(keys["k1"], sub="stranger-7", buddy_role="admin"))
    assert "stranger-7" in str(refused.value) and " / " in str(refused.value)
    # bootstrap admins are admins without any event
    assert auth.authenticate(_token(keys["k1"], sub="boot-2", buddy_role="professional")).role is Role.admin
    # a buddy is no staff member: their token's role, without any project
    buddy = auth.authenticate(_token(keys["k1"], sub="v-123", buddy_role="buddy", buddy_projects=["demo-gent"]))
    assert buddy.role is Role.buddy and buddy.projects == frozenset()


def test_unknown_subject_is_403_with_a_sentence(dev_client, tmp_path):
    response = dev_client.get("/audit", headers=_bearer("dev-buddy"))
    assert response.status_code == 403  # a buddy, no auditor
    settings = Settings(env="dev", data_dir=tmp_path / "empty", dev_tokens=True)
    (tmp_path / "empty").mkdir()
    auth = Authenticator(settings, access=_register(tmp_path / "empty", settings, demo=False))
    with TestClient(_app(auth)) as client:
        response = client.get("/projects/demo-gent/cases", headers=_bearer("dev-professional"))
        assert response.status_code == 403
        assert "dev-professional" in response.json()["detail"]
        assert response.json()["detail"].startswith("U bent (nog) niet als medewerker gekend")
        # the embedded default's bootstrap admin needs no event
        assert client.get("/projects/demo-gent/cases", headers=_bearer("dev-admin")).status_code == 200


def test_dependency_jwt(client, keys):
    response = client.get("/projects/demo-antwerpen/cases", headers=_bearer(_token(keys["k1"])))
    assert response.status_code == 200
    assert response.json() == {"actor": "8f14e45f-ceea-4e7a-9c3b-1a2b3c4d5e6f"}
    expired = _token(keys["k1"], exp=int(time.time()) - 120)
    response = client.get("/projects/demo-antwerpen/cases", headers=_bearer(expired))
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]


def test_jwks_unreachable_is_503(tmp_path, keys):
    url = f"http://127.0.0.1:{_free_port()}/jwks.json"
    settings = Settings(env="dev", data_dir=tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=url)
    with TestClient(_app(Authenticator(settings))) as client:
        response = client.get("/audit", headers=_bearer(_token(keys["k1"])))
    assert response.status_code == 503


def test_openapi_shows_bearer_scheme(client):
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    assert schema["paths"]["/audit"]["get"]["security"]


def test_buddy_run_switches_dev_tokens_on_for_the_embedded_system(tmp_path, monkeypatch):
    """`make run` keeps working with dev tokens: the command that starts the embedded system asks for them."""
    from typer.testing import CliRunner

    import shared.supervisor
    from shared.cli import app

    _bare_environment(monkeypatch, tmp_path)
    # set, then removed: monkeypatch then undoes whatever `buddy run` sets after it (a bare
    # delenv of an absent variable records nothing, and the "true" would leak into later tests)
    monkeypatch.setenv("BUDDY_DEV_TOKENS", "unset")
    monkeypatch.delenv("BUDDY_DEV_TOKENS")
    started: list[Settings] = []
    monkeypatch.setattr(shared.supervisor, "run_system", lambda settings, demo, base_port=None: started.append(settings) or 0)
    assert CliRunner().invoke(app, ["run", "--no-demo"]).exit_code == 0
    [settings] = started
    assert settings.accepts_dev_tokens
    assert os.environ["BUDDY_DEV_TOKENS"] == "true"  # what the service processes inherit
    assert Authenticator(Settings()).authenticate("dev-admin").role is Role.admin


def test_buddy_run_leaves_an_explicit_refusal_alone(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import shared.supervisor
    from shared.cli import app

    _bare_environment(monkeypatch, tmp_path, BUDDY_DEV_TOKENS="false")
    started: list[Settings] = []
    monkeypatch.setattr(shared.supervisor, "run_system", lambda settings, demo, base_port=None: started.append(settings) or 0)
    assert CliRunner().invoke(app, ["run", "--no-demo"]).exit_code == 0
    assert not started[0].accepts_dev_tokens
