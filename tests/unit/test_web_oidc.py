"""The OpenID Connect sign-in's own rules, without a browser or Node: which sign-in a web
front gets, the ID token checks (with keys made here and the provider's documents served
by an httpx transport), when tokens are renewed, and tokens sealed in the session table.

The whole flow against a real provider is ``tests/e2e/test_web_oidc.py``.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from shared.clock import FixedClock
from shared.eventstore import make_engine
from shared.settings import Settings
from services.web.config import WebSettings
from services.web.oidc import OidcSignIn, SignInRefused, refresh_moment
from services.web.security import csp
from services.web.sessions import SessionStore, Tokens, sessions, unseal
from services.web.signin import DemoSignIn, provider_for

ISSUER = "https://login.example.test/realms/buddy"
CLIENT = "buddy-web"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def settings(**extra: Any) -> Settings:
    return Settings(oidc_issuer=ISSUER, oidc_audience="buddy-api", oidc_jwks_url=f"{ISSUER}/certs", **extra)


def web(**extra: Any) -> WebSettings:
    return WebSettings(oidc_client_id=CLIENT, public_url="https://buddy.example.test", **extra)


# ---------------------------------------------------------------------- which sign-in
def test_a_web_front_signs_in_with_the_identity_provider_when_one_is_named(tmp_path: Path) -> None:
    assert isinstance(provider_for(settings(data_dir=tmp_path), web()), OidcSignIn)
    demo = Settings(data_dir=tmp_path, dev_tokens=True)
    assert isinstance(provider_for(demo, WebSettings()), DemoSignIn)


def test_a_web_front_without_a_way_to_sign_in_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no way to sign anyone in"):
        provider_for(Settings(data_dir=tmp_path), WebSettings())
    with pytest.raises(ValueError, match="BUDDY_OIDC_AUDIENCE"):
        provider_for(Settings(data_dir=tmp_path, oidc_issuer=ISSUER), web())
    key = base64.b64encode(b"k" * 32).decode()
    production = settings(env="production", redis_url="redis://r:6379/0", database_url="sqlite:///x",
                          master_key=key, blind_index_key=key, bus_key=key, service_token="s" * 32)
    with pytest.raises(ValueError, match="BUDDY_WEB_OIDC_CLIENT_ID, BUDDY_WEB_PUBLIC_URL"):
        provider_for(production, WebSettings())
    with pytest.raises(ValueError, match="openid"):
        WebSettings(oidc_scope="profile")


def test_sign_out_may_be_redirected_to_the_provider_and_nowhere_else() -> None:
    provider = OidcSignIn(settings(), web())
    assert provider.form_origins() == ["https://login.example.test"]
    assert "form-action 'self' https://login.example.test;" in csp(provider.form_origins())
    assert "form-action 'self';" in csp()


def test_tokens_are_renewed_a_minute_before_they_expire_or_at_three_quarters_of_a_short_life() -> None:
    assert refresh_moment(1000, 1300, 60) == 1240
    assert refresh_moment(1000, 1008, 60) == 1006
    assert refresh_moment(1000, None, 60) is None


# ---------------------------------------------------------------------- ID tokens
class Provider:
    """The provider's discovery document and keys, over an httpx transport."""

    def __init__(self) -> None:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
        self.jwks = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}
        self.discovery = {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth",
                          "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/certs",
                          "end_session_endpoint": f"{ISSUER}/logout"}
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("refused", request=request)
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json=self.discovery)
        if request.url.path.endswith("/certs"):
            return httpx.Response(200, json=self.jwks)
        return httpx.Response(404)


def id_token(key: rsa.RSAPrivateKey = KEY, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "wim.maes", "iat": now, "exp": now + 300, "nonce": "n-1",
            "name": "Wim Maes", **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256",
                      headers={"kid": "k1"})


async def checked(token: str, provider: Provider | None = None, nonce: str | None = "n-1") -> dict[str, Any]:
    sign_in = OidcSignIn(settings(), web(), transport=httpx.MockTransport(provider or Provider()))
    return await sign_in._id_claims(token, await sign_in.metadata(), nonce=nonce, access_token=None)


async def test_a_valid_id_token_gives_its_claims() -> None:
    claims = await checked(id_token())
    assert claims["sub"] == "wim.maes" and claims["name"] == "Wim Maes"


@pytest.mark.parametrize(("claims", "key"), [
    ({"aud": "another-client"}, KEY),
    ({"iss": "https://evil.example.test"}, KEY),
    ({"nonce": "n-2"}, KEY),
    ({"nonce": None}, KEY),
    ({"exp": int(time.time()) - 3600}, KEY),
    ({}, OTHER_KEY),
])
async def test_an_id_token_for_another_client_issuer_nonce_or_key_or_expired_is_refused(
        claims: dict[str, Any], key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignInRefused) as refused:
        await checked(id_token(key, **claims))
    assert refused.value.status == 401 and "id_token" in refused.value.reason


async def test_a_provider_that_names_another_issuer_or_is_down_is_a_503() -> None:
    provider = Provider()
    provider.discovery["issuer"] = "https://elsewhere.example.test"
    with pytest.raises(SignInRefused) as refused:
        await checked(id_token(), provider)
    assert refused.value.status == 503 and refused.value.reason == "discovery_issuer_mismatch"
    down = Provider()
    down.down = True
    with pytest.raises(SignInRefused) as refused:
        await checked(id_token(), down)
    assert refused.value.status == 503 and refused.value.reason == "discovery_unreachable"


async def test_a_callback_without_the_pending_state_or_with_an_error_is_refused_before_any_exchange() -> None:
    provider = Provider()
    provider.down = True  # nothing may be asked of the provider for these
    sign_in = OidcSignIn(settings(), web(), transport=httpx.MockTransport(provider))
    pending = {"state": "s-1", "nonce": "n-1", "verifier": "v", "redirect_uri": "https://x/cb",
               "started_at": time.time()}
    for answer, reason in [((None, {"state": "s-1", "code": "c"}), "state_mismatch"),
                           ((pending, {"state": "s-2", "code": "c"}), "state_mismatch"),
                           ((pending, {"code": "c"}), "state_mismatch"),
                           ((pending, {"state": "s-1", "error": "access_denied"}), "provider_error:access_denied"),
                           ((pending, {"state": "s-1"}), "no_code"),
                           ((pending, {"state": "s-1", "code": "c", "iss": "https://evil"}), "iss_mismatch"),
                           (({**pending, "started_at": time.time() - 3600}, {"state": "s-1", "code": "c"}),
                            "sign_in_too_old")]:
        with pytest.raises(SignInRefused) as refused:
            await sign_in.finish(*answer)
        assert refused.value.reason == reason and 400 <= refused.value.status < 500


async def test_the_authorization_url_asks_for_a_code_with_pkce_state_and_nonce() -> None:
    sign_in = OidcSignIn(settings(), web(), transport=httpx.MockTransport(Provider()))
    url, pending = await sign_in.start("http://ignored/", lang="nl")
    query = dict(httpx.URL(url).params)
    assert url.startswith(f"{ISSUER}/auth?")
    assert query["response_type"] == "code" and query["client_id"] == CLIENT and query["scope"] == "openid profile"
    assert query["state"] == pending["state"] and query["nonce"] == pending["nonce"]
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["code_challenge"] != pending["verifier"] and "code_verifier" not in query
    assert query["redirect_uri"] == "https://buddy.example.test/signin/callback" == pending["redirect_uri"]
    assert query["ui_locales"] == "nl"
    logout = await sign_in.logout_url("http://ignored/", "the-id-token")
    assert logout is not None
    params = dict(httpx.URL(logout).params)
    assert params == {"id_token_hint": "the-id-token", "client_id": CLIENT,
                      "post_logout_redirect_uri": "https://buddy.example.test/signout/done"}


# ---------------------------------------------------------------------- the session table
def test_a_copy_of_the_session_table_yields_no_token(tmp_path: Path) -> None:
    store = SessionStore(make_engine(f"sqlite:///{tmp_path / 'web.db'}"),
                         FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC)), idle_s=60, max_s=600)
    store.create_table()
    tokens = Tokens(access="access-secret", refresh="refresh-secret", id_token="id-secret", expires_at=1.0,
                    refresh_at=0.5)
    session = store.sign_in(None, person="wim.maes", role="coordinator", name="Wim Maes", tokens=tokens)
    with store.engine.connect() as conn:
        row = dict(conn.execute(select(sessions)).mappings().one())
    assert "secret" not in json.dumps(row)
    assert unseal("another-session-id", row["tokens"]) is None
    again = store.get(session.id)
    assert again is not None and (again.token, again.refresh_token, again.id_token) == (
        "access-secret", "refresh-secret", "id-secret")
    store.start_sign_in(again, {"state": "s"})
    pending = store.get(session.id)
    assert pending is not None and pending.pending == {"state": "s"}
    assert store.take_pending(pending) == {"state": "s"} and store.take_pending(pending) is None  # once
    assert store.claim_refresh(again, for_s=10) is True and store.claim_refresh(again, for_s=10) is False
    renewed = store.refreshed(again, Tokens(access="new-access", refresh="new-refresh", id_token="id-secret"),
                              role="coordinator")
    assert store.claim_refresh(renewed, for_s=10) is True  # the claim was released with the new tokens
    assert store.get(session.id).token == "new-access"  # type: ignore[union-attr]


def test_a_session_table_of_an_older_layout_is_replaced(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'web.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE web_sessions (id_hash VARCHAR(64) PRIMARY KEY, token TEXT)")
    store = SessionStore(engine, FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC)), idle_s=60, max_s=600)
    store.create_table()
    assert store.get(store.new().id) is not None
