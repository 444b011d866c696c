"""The local OpenID provider (provider/server.mjs, panva's oidc-provider) as a subprocess on a
free port, with signing keys the tests choose: they rotate them by restarting it with a new
key set, and sign deliberately broken tokens with them. Needs Node.js; without it the tests
skip, or fail where REQUIRE_PROVIDER=1 (CI)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from .servers import PROJECT, free_port, stop

PROVIDER_DIR = PROJECT / "provider"
AUDIENCE = "api://items"
CLIENT = ("dev-client", "dev-secret")


def declared_scopes() -> list[str]:
    """Every scope an operation of the committed openapi.json needs: the routes may be others
    than the example's, and the provider's client may ask for each."""
    document = json.loads((PROJECT / "openapi.json").read_text())
    return sorted(
        {
            scope
            for item in document["paths"].values()
            for operation in item.values()
            for requirement in operation.get("security", [])
            for scopes in requirement.values()
            for scope in scopes
        }
    )


def node_modules() -> Path:
    """provider/node_modules, installed from its lock on first use (npm ci, into a temporary
    directory first: parallel test workers never see half an install)."""
    modules = PROVIDER_DIR / "node_modules"
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("REQUIRE_PROVIDER") == "1":
            pytest.fail("REQUIRE_PROVIDER=1 but Node.js is missing (apt-get install nodejs npm)")
        pytest.skip("needs Node.js and npm for the local OpenID provider")
    if not modules.is_dir():
        with tempfile.TemporaryDirectory(dir=PROVIDER_DIR) as tmp:
            for name in ("package.json", "package-lock.json"):
                shutil.copy(PROVIDER_DIR / name, tmp)
            args = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--quiet"]
            subprocess.run(args, cwd=tmp, check=True, capture_output=True, timeout=300)
            try:
                os.rename(Path(tmp) / "node_modules", modules)
            except OSError:  # another worker installed it meanwhile
                assert modules.is_dir()
    return modules


def new_key() -> dict[str, Any]:
    """A private RSA signing key as a JWK, with a fresh key id."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private))
    return {**jwk, "kid": uuid.uuid4().hex, "alg": "RS256", "use": "sig"}


@functools.cache
def private_key(jwk: str) -> Any:
    """The key object of a JWK (cached: loading an RSA private key checks it, a slow step)."""
    return jwt.PyJWK(json.loads(jwk)).key


@dataclass
class Provider:
    """A running provider: its issuer URL, the keys it signs with (first) and publishes."""

    workdir: Path
    keys: list[dict[str, Any]]
    scopes: str = "items:read items:write"  # what its client may ask for
    token_ttl: int = 300  # seconds its access tokens live (a benchmark's must outlive its load)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, keys: list[dict[str, Any]] | None = None) -> Provider:
        """Start (again) with these keys, and wait for its discovery document."""
        self.keys = keys or self.keys
        jwks_file = self.workdir / "jwks.json"
        jwks_file.write_text(json.dumps({"keys": self.keys}))
        env = {**os.environ, "ISSUER": self.issuer, "PORT": str(self.port), "HOST": "127.0.0.1"}
        env |= {"AUDIENCE": AUDIENCE, "JWKS_FILE": str(jwks_file), "SCOPES": self.scopes}
        env["TOKEN_TTL"] = str(self.token_ttl)
        with (self.workdir / "provider.log").open("ab") as log:
            self.process = subprocess.Popen(
                [shutil.which("node") or "node", str(PROVIDER_DIR / "server.mjs")],
                cwd=PROVIDER_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.workdir / "provider.log").read_text()
            try:
                requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the provider did not answer within 30 s")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def token(self, scope: str | None = None) -> str:
        """A client-credentials access token, as `make token` asks for one (every scope the
        client may have, unless `scope` names fewer)."""
        response = requests.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "client_credentials",
                "scope": self.scopes if scope is None else scope,
            },
            auth=CLIENT,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def sign(self, claims: dict[str, Any], key: dict[str, Any] | None = None, **header: Any) -> str:
        """A token signed with one of the provider's keys (its first by default): the tests'
        way to make tokens the provider would never issue (expired, another audience)."""
        key = key or self.keys[0]
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": AUDIENCE, "iat": now, "exp": now + 300} | claims
        private = private_key(json.dumps(key, sort_keys=True))
        return jwt.encode(payload, private, "RS256", headers={"kid": key["kid"], **header})
