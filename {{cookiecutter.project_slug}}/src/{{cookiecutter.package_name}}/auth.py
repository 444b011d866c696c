"""Bearer access tokens (RFC 6750, RFC 9068 JWTs) from the issuer OIDC_ISSUER names, checked
before a view that `requires` scopes runs (and before its body is read). Refusals are
problem+json: 401 with `WWW-Authenticate: Bearer error="invalid_token"`, 403 with
`error="insufficient_scope"`, 503 + Retry-After while the issuer's keys cannot be had."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import jwt
from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, ServiceUnavailable

from .context import SUBJECT
from .keys import KeySet, NoKeys
from .openapi import secured
from .refusals import ScopeMissing, TokenRejected, refuse
from .settings import ConfigError, Settings

View = TypeVar("View", bound=Callable[..., Any])
CACHED_TOKENS = 1024  # per worker
OFF = "set OIDC_ISSUER (and OIDC_AUDIENCE) to the token issuer, or AUTH_DISABLED=1"
TOKEN = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9._~+/-]{1,4096}=*)")
ERRORS: list[tuple[type[Exception], str]] = [  # most specific first
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.InvalidAudienceError, "wrong_audience"),
    (jwt.InvalidAlgorithmError, "bad_algorithm"),
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.DecodeError, "malformed"),
]
_required: dict[str, tuple[str, ...]] = {}  # the scopes each view needs, by view name


def requires(*scopes: str) -> Callable[[View], View]:
    """Declare, beside the route, the scopes a token must grant to call the view; the OpenAPI
    document lists them as the operation's security."""

    def declare(view: View) -> View:
        _required[view.__name__] = scopes
        secured(view.__name__, scopes)
        return view

    return declare


class Guard:
    """One app's token checks: its settings and the issuer's cached keys."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys = KeySet(settings.OIDC_ISSUER, settings.OIDC_KEYS_REFRESH)
        # Verified tokens, by the whole token, until they expire: a signature check costs
        # more than the rest of a read (benchmarks/README.md).
        self.verified: dict[str, tuple[float, dict[str, Any], Any]] = {}

    def claims(self, header: str | None) -> dict[str, Any]:
        """The verified claims of the request's bearer token, or an exception to answer."""
        if not header:
            raise refuse("missing", TokenRejected("missing"))
        if "," in header:  # two Authorization headers, joined by the server (never in a token)
            raise BadRequest("Send one Authorization header.")
        if (match := TOKEN.fullmatch(header.strip())) is None:
            raise refuse("malformed", TokenRejected("malformed"))
        token = match.group(1)
        if (hit := self.verified.get(token)) and hit[0] > time.time() and hit[2] in self.current():
            return hit[1]  # verified before, unexpired, and its key is still the one held
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            if (key := self.keys.get(kid if isinstance(kid, str) else None)) is None:
                raise refuse("unknown_key", TokenRejected("unknown_key"))
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],  # the key's own: never none, never HMAC
                audience=self.settings.OIDC_AUDIENCE,
                issuer=self.settings.OIDC_ISSUER,
                leeway=self.settings.OIDC_LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except NoKeys:
            unavailable = ServiceUnavailable(
                "The token issuer's keys are unavailable.",
                retry_after=self.settings.OIDC_KEYS_REFRESH,
            )
            raise refuse("no_keys", unavailable) from None
        except jwt.PyJWTError as error:
            reason = next((name for kind, name in ERRORS if isinstance(error, kind)), "invalid")
            raise refuse(reason, TokenRejected(reason)) from None
        if len(self.verified) >= CACHED_TOKENS:  # bounded: a flood of tokens starts it afresh
            self.verified.clear()
        self.verified[token] = (float(claims["exp"]), claims, key)
        return claims

    def current(self) -> list[Any]:
        """The keys held now (a refresh makes new objects: cached tokens are checked again)."""
        return list(self.keys.keys.values())


def granted(claims: dict[str, Any]) -> set[str]:
    """The token's scopes: `scope`, a string (RFC 9068), or `scp` (Entra ID, Okta)."""
    scopes = claims.get("scope", claims.get("scp", ""))
    if isinstance(scopes, str):
        return set(scopes.split())
    return {str(scope) for scope in scopes} if isinstance(scopes, list) else set()


def guard() -> None:
    """before_request: a view that requires scopes runs only for a token that grants them."""
    scopes = _required.get((request.endpoint or "").rpartition(".")[2])
    if scopes is None:
        return
    checks: Guard | None = current_app.extensions["auth"]
    if checks is None:  # AUTH_DISABLED
        return
    if not checks.settings.OIDC_ISSUER:  # never silently open: closed until configured
        raise ServiceUnavailable(f"Authentication is not configured: {OFF}.", retry_after=60)
    claims = checks.claims(request.headers.get("Authorization"))
    subject = claims.get("sub") or claims.get("client_id")
    request.environ[SUBJECT] = str(subject)[:200] if subject else None  # the access log's
    if missing := tuple(scope for scope in scopes if scope not in granted(claims)):
        raise refuse("insufficient_scope", ScopeMissing(missing))


def init_app(app: Flask, settings: Settings) -> None:
    """Check tokens before the views that require scopes; in production refuse to start
    without an issuer unless authentication is switched off by name."""
    if settings.OIDC_ISSUER and not settings.OIDC_AUDIENCE:
        raise ConfigError("OIDC_AUDIENCE must be set with OIDC_ISSUER: the tokens' `aud`")
    if settings.APP_ENV == "production" and not (settings.OIDC_ISSUER or settings.AUTH_DISABLED):
        raise ConfigError(f"OIDC_ISSUER must be set in production: {OFF}")
    app.extensions["auth"] = None if settings.AUTH_DISABLED else Guard(settings)
    app.before_request(guard)
