"""compose.yaml is a valid Compose file and wires the services the way the app expects."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema.validators import validator_for

from shared.settings import DEFAULT_PORTS, SERVICES, Settings
from services.web.config import WebSettings
from services.web.oidc import CALLBACK_PATH, SIGNED_OUT_PATH, OidcSignIn
from services.web.signin import provider_for

PORTS = {**DEFAULT_PORTS, "web": 8000}  # the web front is the one address people open

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
INIT_SQL = REPO / "deploy" / "postgres-init.sql"
SCHEMA_COPY = REPO / "tests" / "schemas" / "compose-spec.json"
SCHEMA_SHARED = REPO.parent / "shared" / "schemas" / "compose-spec.json"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+x}, ${NAME+x}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")
SECRETS = (
    "BUDDY_MASTER_KEY",
    "BUDDY_BLIND_INDEX_KEY",
    "BUDDY_SERVICE_TOKEN",
    "BUDDY_BUS_KEY",
)
REALM_FILE = REPO / "deploy" / "keycloak" / "buddywerking-realm.json"
# the bundled Keycloak, unless the operator names another identity provider
OIDC_DEFAULTS = {
    "BUDDY_OIDC_ISSUER": "http://localhost:8080/realms/buddywerking",
    "BUDDY_OIDC_AUDIENCE": "buddy-api",
    "BUDDY_OIDC_JWKS_URL": "http://keycloak:8080/realms/buddywerking/protocol/openid-connect/certs",
}


def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with COMPOSE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The in-repo copy of the official schema; the shared folder only if the copy is missing."""
    for path in (SCHEMA_COPY, SCHEMA_SHARED):
        if path.is_file():
            return _load_json(path)
    pytest.fail(f"no Compose schema: expected {SCHEMA_COPY}")


def _validator_class(schema: dict[str, Any]) -> type[jsonschema.protocols.Validator]:
    """The validator for the schema's ``$schema`` (the compose schema says https://…/draft-07/schema,
    which jsonschema does not recognise as written)."""
    uri = str(schema.get("$schema", ""))
    drafts = {
        "draft-04": jsonschema.Draft4Validator,
        "draft-06": jsonschema.Draft6Validator,
        "draft-07": jsonschema.Draft7Validator,
        "2019-09": jsonschema.Draft201909Validator,
        "2020-12": jsonschema.Draft202012Validator,
    }
    for marker, cls in drafts.items():
        if marker in uri:
            return cls
    return validator_for(schema, default=jsonschema.Draft7Validator)


def _buddy_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if svc.get("build") is not None}


def _published_ports(service: dict[str, Any]) -> list[tuple[int, int]]:
    """(published, target) pairs from short ("8001:8001", "127.0.0.1:8001:8001") or long syntax."""
    pairs = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            pairs.append((int(entry["published"]), int(entry["target"])))
        else:
            parts = str(entry).split("/")[0].split(":")
            assert len(parts) >= 2, f"port {entry!r} is not published on the host"
            pairs.append((int(parts[-2]), int(parts[-1])))
    return pairs


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose-style interpolation for the forms this file uses; missing required vars fail."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if name in variables and (variables[name] or not (op or "").startswith(":")):
            return variables[name] if op not in (":+", "+") else arg
        if op in (":?", "?"):
            raise AssertionError(f"required variable {name} unset: {arg}")
        if op in (":-", "-"):
            return arg
        return ""

    return INTERPOLATION.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


# --------------------------------------------------------------------------- schema
def test_schema_copy_is_current() -> None:
    assert SCHEMA_COPY.is_file(), "keep a copy of the Compose schema in tests/schemas/"
    if not SCHEMA_SHARED.is_file():
        pytest.skip(f"{SCHEMA_SHARED} not present to compare with")
    assert _load_json(SCHEMA_COPY) == _load_json(SCHEMA_SHARED), (
        f"tests/schemas/compose-spec.json is out of date: copy {SCHEMA_SHARED} over it"
    )


def test_compose_file_matches_the_official_schema(compose: dict[str, Any], schema: dict[str, Any]) -> None:
    cls = _validator_class(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)


def test_every_dollar_is_a_known_interpolation() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    stripped = INTERPOLATION.sub("", text.replace("$$", ""))
    assert "$" not in stripped, "stray $ in compose.yaml (write $$ for a literal dollar)"


# --------------------------------------------------------------------------- the services
def test_the_services_and_the_web_front_run_the_cli(compose: dict[str, Any]) -> None:
    services = _buddy_services(compose)
    assert set(services) == {*SERVICES, "web"}
    for name, svc in services.items():
        command = svc["command"]
        assert isinstance(command, list) and len(command) == 3, name
        assert command[:2] == ["buddy", "serve"], name
        assert command[2] in (*SERVICES, "web"), f"{name}: `buddy serve {command[2]}` is not a CLI service"
        assert command[2] == name, f"compose service {name} runs {command[2]}"
        assert svc["build"] in (".", {"context": "."}), name


def test_healthcheck_port_is_the_published_port(compose: dict[str, Any]) -> None:
    for name, svc in _buddy_services(compose).items():
        test = svc["healthcheck"]["test"]
        assert isinstance(test, list) and test[0] == "CMD" and test[1] == "python", name
        found = re.findall(r"http://127\.0\.0\.1:(\d+)/readyz", " ".join(test))
        assert len(found) == 1, f"{name}: healthcheck must GET /readyz once"
        ports = _published_ports(svc)
        assert len(ports) == 1, name
        published, target = ports[0]
        assert int(found[0]) == published == target == PORTS[name], name


def test_services_are_production_and_wait_for_healthy_backends(compose: dict[str, Any]) -> None:
    for name, svc in _buddy_services(compose).items():
        env = _environment(svc)
        assert env["BUDDY_ENV"] == "production", name
        assert env["BUDDY_REDIS_URL"] == "redis://redis:6379/0", name
        assert env["BUDDY_HOST"] == "0.0.0.0", name
        assert "{service}" in env["BUDDY_DATABASE_URL"], name
        assert env["BUDDY_DATABASE_URL"].startswith("postgresql+psycopg://"), name
        for secret in (*SECRETS, "BUDDY_DATABASE_URL"):
            refs = INTERPOLATION.findall(env[secret])
            assert refs and all(op == ":?" for _, op, _ in refs), f"{name}: {secret} must be a required ${{...:?...}}"
        for setting, default in OIDC_DEFAULTS.items():  # overridable, else the bundled Keycloak
            assert _interpolate(env[setting], {}) == default, f"{name}: {setting}"
            assert _interpolate(env[setting], {setting: "https://idp.example"}) == "https://idp.example", name
        urls = json.loads(env["BUDDY_SERVICE_URLS"])
        assert urls == {s: f"http://{s}:{DEFAULT_PORTS[s]}" for s in SERVICES}, name
        depends = svc["depends_on"]
        assert isinstance(depends, dict), name
        for backend in ("redis", "postgres"):
            assert depends[backend]["condition"] == "service_healthy", f"{name} -> {backend}"


def test_compose_environment_makes_valid_production_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = base64.b64encode(b"k" * 32).decode()
    variables = {
        "POSTGRES_PASSWORD": "pw",
        "BUDDY_MASTER_KEY": key,
        "BUDDY_BLIND_INDEX_KEY": key,
        "BUDDY_SERVICE_TOKEN": "a-long-random-service-token",
        "BUDDY_BUS_KEY": key,
    }
    init_sql = INIT_SQL.read_text(encoding="utf-8")
    for name, svc in _buddy_services(compose).items():
        for var in [v for v in os.environ if v.startswith("BUDDY_")]:
            monkeypatch.delenv(var)
        for var, raw in _environment(svc).items():
            monkeypatch.setenv(var, _interpolate(raw, variables))
        settings = Settings()
        assert settings.env == "production"
        assert settings.dev_tokens is False
        assert settings.key_bytes("master_key") == b"k" * 32
        assert settings.oidc_issuer == OIDC_DEFAULTS["BUDDY_OIDC_ISSUER"]
        if name == "web":
            assert WebSettings().port == _published_ports(svc)[0][0]
            provider = provider_for(settings, WebSettings())  # production: the identity provider's sign-in
            assert isinstance(provider, OidcSignIn) and provider.client_id == "buddy-web"
        else:
            assert settings.bus_keys() == [b"k" * 32]
            assert settings.port_of(name) == _published_ports(svc)[0][0]
            assert settings.url_of(name) == f"http://{name}:{DEFAULT_PORTS[name]}"
        database = settings.database_url_of(name).rsplit("/", 1)[1]
        assert database == f"buddy_{name}"
        assert re.search(rf"CREATE DATABASE {database}\b", init_sql), f"{database} missing from {INIT_SQL.name}"


# --------------------------------------------------------------------------- backends
def test_redis_keeps_an_append_only_file(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    command = redis["command"]
    command = command if isinstance(command, list) else command.split()
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    assert any(str(v).endswith(":/data") for v in redis["volumes"]), "Redis data needs a volume"
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_postgres_creates_one_database_per_service(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert str(postgres["image"]).startswith("postgres:16")
    mounts = [str(v) for v in postgres["volumes"]]
    assert any(m.startswith("./deploy/postgres-init.sql:/docker-entrypoint-initdb.d/") for m in mounts)
    assert any(m.endswith(":/var/lib/postgresql/data") for m in mounts)
    assert "pg_isready" in postgres["healthcheck"]["test"]
    created = re.findall(r"CREATE DATABASE (\w+)", INIT_SQL.read_text(encoding="utf-8"))
    assert sorted(created) == sorted([*(f"buddy_{s}" for s in (*SERVICES, "web")), "keycloak"])


def test_dockerfile_basics() -> None:
    lines = [ln.strip() for ln in DOCKERFILE.read_text(encoding="utf-8").splitlines()]
    assert lines[next(i for i, ln in enumerate(lines) if ln.startswith("FROM"))] == "FROM python:3.11-slim"
    assert "ENTRYPOINT []" in lines
    assert 'CMD ["buddy", "--help"]' in lines
    assert any("pip install -c constraints.txt ." in ln for ln in lines)
    users = [ln.split(None, 1)[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must not run as root"


# --------------------------------------------------------------------------- Keycloak
@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    return _load_json(REALM_FILE)


def test_keycloak_imports_the_realm_at_start_and_keeps_its_data_in_postgres(compose: dict[str, Any]) -> None:
    keycloak = compose["services"]["keycloak"]
    assert str(keycloak["image"]).startswith("quay.io/keycloak/keycloak:") and ":latest" not in keycloak["image"]
    assert keycloak["command"][0] == "start" and "--import-realm" in keycloak["command"]
    assert "./deploy/keycloak:/opt/keycloak/data/import:ro" in keycloak["volumes"]
    env = _environment(keycloak)
    assert env["KC_DB"] == "postgres" and env["KC_DB_URL"].endswith("/keycloak")
    assert env["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"] == "true"  # containers reach it at keycloak:8080
    assert _interpolate(env["KC_HOSTNAME"], {}) == "http://localhost:8080"
    for secret in ("KC_DB_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD"):
        assert all(op == ":?" for _, op, _ in INTERPOLATION.findall(env[secret])), secret
    assert keycloak["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert _published_ports(keycloak) == [(8080, 8080)]
    assert "/health/ready" in " ".join(keycloak["healthcheck"]["test"])


def test_the_realm_has_the_web_client_the_audience_the_claims_and_the_demo_people(
        compose: dict[str, Any], realm: dict[str, Any]) -> None:
    issuer = OIDC_DEFAULTS["BUDDY_OIDC_ISSUER"]
    assert issuer.endswith(f"/realms/{realm['realm']}") and realm["enabled"] is True
    web_env = {k: _interpolate(v, {}) for k, v in _environment(compose["services"]["web"]).items()
               if not INTERPOLATION.search(v) or ":-" in v}
    (client,) = [c for c in realm["clients"] if c["clientId"] == web_env["BUDDY_WEB_OIDC_CLIENT_ID"]]
    public = web_env["BUDDY_WEB_PUBLIC_URL"]
    assert client["publicClient"] is True and client["standardFlowEnabled"] is True
    assert client["implicitFlowEnabled"] is False and client["directAccessGrantsEnabled"] is False
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["redirectUris"] == [public + CALLBACK_PATH]
    assert client["attributes"]["post.logout.redirect.uris"] == public + SIGNED_OUT_PATH
    assert web_env["BUDDY_WEB_OIDC_DISCOVERY_URL"] == (
        f"http://keycloak:8080/realms/{realm['realm']}/.well-known/openid-configuration")
    mappers = {m["protocolMapper"]: m for m in client["protocolMappers"] if m["protocolMapper"] != (
        "oidc-usermodel-attribute-mapper")}
    audience = mappers["oidc-audience-mapper"]["config"]
    assert audience["included.custom.audience"] == OIDC_DEFAULTS["BUDDY_OIDC_AUDIENCE"]
    assert audience["access.token.claim"] == "true"
    claims = {m["config"]["claim.name"]: m["config"] for m in client["protocolMappers"]
              if m["protocolMapper"] == "oidc-usermodel-attribute-mapper"}
    assert set(claims) == {"buddy_role", "buddy_projects", "buddy_regions"}
    assert all(c["access.token.claim"] == "true" and c["user.attribute"] == name for name, c in claims.items())
    assert claims["buddy_role"]["multivalued"] == "false" and claims["buddy_projects"]["multivalued"] == "true"
    roles = {r["name"] for r in realm["roles"]["realm"]}
    assert roles == {"admin", "professional", "coordinator", "government", "auditor", "buddy"}
    users = realm["users"]
    by_role: dict[str, list[dict[str, Any]]] = {}
    for user in users:
        role = user["attributes"]["buddy_role"][0]
        assert user["realmRoles"] == [role] and role in roles, user["username"]
        assert user["credentials"] == [{"type": "password", "value": "demo", "temporary": False}]
        by_role.setdefault(role, []).append(user)
    assert {r: len(u) for r, u in by_role.items()} == {"admin": 1, "professional": 2, "coordinator": 1,
                                                       "government": 1, "auditor": 1, "buddy": 1}
    projects = [set(u["attributes"]["buddy_projects"]) for u in by_role["professional"]]
    assert projects[0] and projects[1] and not projects[0] & projects[1]  # two professionals, different projects
    assert by_role["coordinator"][0]["attributes"]["buddy_regions"] == ["antwerpen-kempen"]
    profile = json.loads(realm["components"]["org.keycloak.userprofile.UserProfileProvider"][0]["config"][
        "kc.user.profile.config"][0])
    declared = {a["name"]: a for a in profile["attributes"]}
    for name in claims:  # declared attributes, which only an administrator may change
        assert declared[name]["permissions"] == {"view": ["admin"], "edit": ["admin"]}, name
