"""The issuer's signing keys: found by OpenID discovery (`<issuer>/.well-known/openid-configuration`
names the `jwks_uri`), cached, and fetched again when a token names a key id the cache lacks,
at most once per interval, so a flood of made-up key ids is not a flood of requests to the
provider. A failed fetch keeps the keys already held."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from typing import Any

from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWTError

log = logging.getLogger(__name__)

TIMEOUT = 3.0  # seconds per fetch: a request waiting on a slow provider stays bounded
MAX_AGE = 900  # seconds a key set is trusted before it is fetched again: removed keys expire
ASYMMETRIC = frozenset({"RSA", "EC", "OKP"})  # a shared secret (oct) never verifies a token


class NoKeys(Exception):
    """No key set could be fetched yet: tokens cannot be checked at all."""


def fetch_json(url: str) -> Any:
    """GET a JSON document from the provider (http or https only)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) URL: {url[:100]!r}")
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 (checked above)
        return json.loads(response.read(1024 * 1024))


class KeySet:
    """The verification keys by key id, shared by a worker's threads."""

    def __init__(self, issuer: str, interval: float) -> None:
        self.issuer, self.interval = issuer, interval
        self.keys: dict[str, PyJWK] = {}
        self.fetches = 0  # attempts, for the tests and the logs
        self._jwks_uri: str | None = None
        self._tried = self._loaded = -float("inf")
        self._lock = threading.Lock()

    def get(self, kid: str | None) -> PyJWK | None:
        """The key for `kid` (a token without one may use a set's only key); None if the set
        lacks it after the refresh the interval allows; NoKeys if there is no set at all."""
        key = self._find(kid)
        if key is None or time.monotonic() - self._loaded > MAX_AGE:
            self.refresh()
            key = self._find(kid)
        if not self.keys:
            raise NoKeys
        return key

    def _find(self, kid: str | None) -> PyJWK | None:
        keys = self.keys
        if kid is None:
            return next(iter(keys.values())) if len(keys) == 1 else None
        return keys.get(kid)

    def refresh(self) -> None:
        """Fetch the set unless the last attempt was less than `interval` seconds ago."""
        with self._lock:
            now = time.monotonic()
            if now - self._tried < self.interval:
                return
            self._tried = now
            self.fetches += 1
            try:
                self.keys = self._fetch()
            except (OSError, ValueError, LookupError, TypeError, AttributeError, PyJWTError) as e:
                # The set held is kept; the error's class only (its text may quote a document).
                log.warning("key set fetch failed", extra={"error": type(e).__name__})
                return
            self._loaded = now

    def _fetch(self) -> dict[str, PyJWK]:
        if self._jwks_uri is None:
            config = fetch_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
            if config.get("issuer") != self.issuer:  # RFC 8414: else a wrong issuer's keys
                raise ValueError("the discovery document names another issuer")
            self._jwks_uri = str(config["jwks_uri"])
        found = fetch_json(self._jwks_uri)
        usable = [
            key
            for key in found.get("keys", [])
            if key.get("kty") in ASYMMETRIC and key.get("use", "sig") == "sig"
        ]
        keys = PyJWKSet.from_dict({"keys": usable}).keys
        return {key.key_id or "": key for key in keys}
