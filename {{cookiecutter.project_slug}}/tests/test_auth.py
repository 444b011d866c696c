"""Bearer tokens against the real local OpenID provider (provider/server.mjs): its
client-credentials tokens, tokens signed with its keys but wrong on purpose, forged ones, key
rotation, and the provider going away. Authentication is on here (conftest turns it off for
the rest of the suite)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.auth import requires
from {{ cookiecutter.package_name }}.settings import ConfigError

from .provider import AUDIENCE, Provider, new_key, node_modules
from .servers import free_port

ITEM = {"name": "widget", "quantity": 1}
PROBE = "/test/auth"
Wrong = tuple[dict[str, Any], dict[str, Any] | None]  # claims to change, a key to sign with
# The tests that meet the provider start it (node): real processes, left out of `make test-fast`.
PROVIDER = pytest.mark.server


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    node_modules()
    running = Provider(tmp_path_factory.mktemp("provider"), [new_key()]).start()
    yield running
    running.stop()


@requires("items:read")
def read_probe() -> dict[str, bool]:
    return {"read": True}


@requires("items:write")
def write_probe() -> tuple[dict[str, bool], int]:
    return {"written": True}, 201


def secured_app(issuer: str, **settings: object) -> Flask:
    """The app, plus the tests' own routes declared as the example's are (the example's own
    may be gone: the README's first-day steps replace them)."""
    config = {"APP_ENV": "testing", "AUTH_DISABLED": False, "OIDC_ISSUER": issuer}
    app = create_app({**config, "OIDC_AUDIENCE": AUDIENCE, **settings})
    for view, method in ((read_probe, "GET"), (write_probe, "POST")):
        app.add_url_rule(PROBE, view.__name__, view, methods=[method])
    return app


@pytest.fixture
def app(provider: Provider) -> Flask:
    return secured_app(provider.issuer)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def failures(reason: str) -> float:
    return REGISTRY.get_sample_value("auth_failures_total", {"reason": reason}) or 0.0


@PROVIDER
def test_a_client_credentials_token_writes_and_reads(app: Flask, provider: Provider) -> None:
    client = app.test_client()
    token = provider.token()
    assert client.post(PROBE, json=ITEM, headers=bearer(token)).status_code == 201
    assert client.get(PROBE, headers=bearer(token)).status_code == 200
    assert client.get(PROBE, headers=bearer(provider.token("items:read"))).status_code == 200


@PROVIDER
def test_no_token_is_401_with_a_bare_bearer_challenge(app: Flask) -> None:
    before = failures("missing")
    response = app.test_client().post(PROBE, json=ITEM)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 401
    assert failures("missing") == before + 1


@PROVIDER
def test_a_read_token_cannot_write(app: Flask, provider: Provider) -> None:
    response = app.test_client().post(
        PROBE, json=ITEM, headers=bearer(provider.token("items:read"))
    )
    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert challenge == 'Bearer error="insufficient_scope", scope="items:write"'
    assert response.mimetype == "application/problem+json"


@PROVIDER
def test_a_token_without_scopes_cannot_read(app: Flask, provider: Provider) -> None:
    response = app.test_client().get(PROBE, headers=bearer(provider.token("")))
    assert response.status_code == 403


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, str], claims: dict[str, object]) -> str:
    """A token's first two parts, as its signature covers them."""
    return ".".join(b64(json.dumps(part).encode()) for part in ({"typ": "at+jwt"} | header, claims))


def forged(provider: Provider, case: str) -> str:
    """A token wrong in one way only."""
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": AUDIENCE, "iat": now, "exp": now + 300}
    kid = provider.keys[0]["kid"]
    if case == "alg_none":
        return unsigned({"alg": "none", "kid": kid}, claims) + "."
    if case == "hs256_with_public_key":  # the classic confusion: the public key as HMAC secret
        public = jwt.PyJWK({k: provider.keys[0][k] for k in ("kty", "n", "e")}).key
        pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        signing_input = unsigned({"alg": "HS256", "kid": kid}, claims)
        mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(mac)}"
    if case == "missing_exp":
        del claims["exp"]
        return jwt.encode(claims, jwt.PyJWK(provider.keys[0]).key, "RS256", headers={"kid": kid})
    signed: dict[str, Wrong] = {  # signed with its key (or a stranger's), one thing wrong
        "expired": ({"iat": now - 600, "exp": now - 120}, None),
        "not_yet_valid": ({"nbf": now + 600}, None),
        "wrong_issuer": ({"iss": "http://127.0.0.1:1/other"}, None),
        "wrong_audience": ({"aud": "api://another"}, None),
        "unknown_kid": ({}, new_key()),
        "wrong_signature": ({}, new_key() | {"kid": kid}),
    }
    wrong, key = signed[case]
    return provider.sign(wrong, key=key)


FORGED = {
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
    "wrong_issuer": "wrong_issuer",
    "wrong_audience": "wrong_audience",
    "missing_exp": "invalid",
    "alg_none": "bad_algorithm",
    "hs256_with_public_key": "bad_algorithm",
    "unknown_kid": "unknown_key",
    "wrong_signature": "bad_signature",
}


@PROVIDER
@pytest.mark.parametrize("case", FORGED)
def test_a_wrong_token_is_401_invalid_token(app: Flask, provider: Provider, case: str) -> None:
    before = failures(FORGED[case])
    token = forged(provider, case)
    for method in ("get", "post"):
        response = getattr(app.test_client(), method)(PROBE, json=ITEM, headers=bearer(token))
        assert response.status_code == 401, (case, response.json)
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer error="invalid_token", error_description="')
        assert token not in response.get_data(as_text=True)
    assert failures(FORGED[case]) == before + 2


MALFORMED = {
    "garbage": "Bearer garbage",
    "two_parts": "Bearer abc.def",
    "four_parts": "Bearer a.b.c.d",
    "not_base64": "Bearer e30.e30!.x",
    "bad_json": f"Bearer {b64(b'{')}.{b64(b'{}')}.{b64(b'sig')}",
    "ten_kilobytes": "Bearer " + "a" * 10_000,
    "basic_scheme": "Basic ZGV2LWNsaWVudDpkZXYtc2VjcmV0",
    "empty": "Bearer ",
}


@PROVIDER
@pytest.mark.parametrize("header", MALFORMED.values(), ids=MALFORMED)
def test_a_malformed_token_is_401_never_500(app: Flask, header: str) -> None:
    response = app.test_client().get(PROBE, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@PROVIDER
def test_two_authorization_headers_are_400(app: Flask, provider: Provider) -> None:
    token = provider.token()
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    assert app.test_client().get(PROBE, headers=headers).status_code == 400


@PROVIDER
def test_a_token_in_the_query_string_is_ignored(app: Flask, provider: Provider) -> None:
    response = app.test_client().get(PROBE, query_string={"access_token": provider.token()})
    assert response.status_code == 401


@PROVIDER
def test_health_and_docs_need_no_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/openapi.json").status_code == 200


@PROVIDER
def test_random_kids_fetch_the_key_set_a_handful_of_times(provider: Provider) -> None:
    app = secured_app(provider.issuer, OIDC_KEYS_REFRESH=60)
    client = app.test_client()
    assert client.get(PROBE, headers=bearer(provider.token())).status_code == 200
    keys = app.extensions["auth"].keys
    before = keys.fetches
    for _ in range(1000):
        token = provider.sign({}, kid=uuid.uuid4().hex)
        assert client.get(PROBE, headers=bearer(token)).status_code == 401
    assert keys.fetches - before <= 1


@PROVIDER
def test_keys_rotate_at_the_provider(tmp_path: Path) -> None:
    node_modules()
    first, second, third = new_key(), new_key(), new_key()
    rotating = Provider(tmp_path, [first]).start()
    try:
        app = secured_app(rotating.issuer, OIDC_KEYS_REFRESH=1)
        client = app.test_client()
        old = rotating.token("items:read")
        assert client.get(PROBE, headers=bearer(old)).status_code == 200
        rotating.stop()
        rotating.start([second, first])  # signs with the new key, still publishes the old
        new = rotating.token("items:read")
        assert jwt.get_unverified_header(new)["kid"] == second["kid"]
        time.sleep(1.1)  # the refresh interval
        assert client.get(PROBE, headers=bearer(new)).status_code == 200
        assert client.get(PROBE, headers=bearer(old)).status_code == 200
        rotating.stop()
        rotating.start([third])  # the first key is no longer published
        time.sleep(1.1)
        newest = rotating.token("items:read")
        assert client.get(PROBE, headers=bearer(newest)).status_code == 200
        assert client.get(PROBE, headers=bearer(old)).status_code == 401
    finally:
        rotating.stop()


@PROVIDER
def test_cached_keys_outlive_the_provider(tmp_path: Path) -> None:
    node_modules()
    going = Provider(tmp_path, [new_key()]).start()
    try:
        app = secured_app(going.issuer, OIDC_KEYS_REFRESH=1)
        token = going.token()
        client = app.test_client()
        assert client.get(PROBE, headers=bearer(token)).status_code == 200
    finally:
        going.stop()
    time.sleep(1.1)
    assert client.get(PROBE, headers=bearer(token)).status_code == 200
    unknown = going.sign({}, key=new_key())  # a refresh is due and fails: the cache stays
    assert client.get(PROBE, headers=bearer(unknown)).status_code == 401
    assert client.get(PROBE, headers=bearer(token)).status_code == 200


def test_no_keys_at_all_is_503_and_the_rest_works() -> None:
    app = secured_app(f"http://127.0.0.1:{free_port()}", OIDC_KEYS_REFRESH=7)
    client = app.test_client()
    token = jwt.encode({"sub": "x"}, jwt.PyJWK(new_key()).key, "RS256", headers={"kid": "a"})
    response = client.get(PROBE, headers=bearer(token))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.mimetype == "application/problem+json"
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_production_refuses_to_start_without_an_issuer() -> None:
    config = {"APP_ENV": "production", "SECRET_KEY": "k" * 40, "DATABASE_URL": "sqlite://"}
    with pytest.raises(ConfigError, match="OIDC_ISSUER") as refused:
        create_app({**config, "AUTH_DISABLED": False, "OIDC_ISSUER": ""})
    assert "AUTH_DISABLED" in str(refused.value)
    assert create_app({**config, "AUTH_DISABLED": True}).extensions["auth"] is None


def test_an_issuer_needs_an_audience() -> None:
    with pytest.raises(ConfigError, match="OIDC_AUDIENCE"):
        create_app({"APP_ENV": "testing", "OIDC_ISSUER": "https://id.example", "OIDC_AUDIENCE": ""})


def test_unconfigured_outside_production_is_closed_not_open() -> None:
    app = secured_app("", APP_ENV="development")
    response = app.test_client().get(PROBE)
    assert response.status_code == 503
    assert "OIDC_ISSUER" in response.get_json()["detail"]
    assert "AUTH_DISABLED" in response.get_json()["detail"]
