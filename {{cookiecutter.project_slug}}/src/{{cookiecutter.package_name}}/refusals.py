"""How a request without a usable token is refused: 401 with `WWW-Authenticate: Bearer
error="invalid_token"`, 403 with `error="insufficient_scope"` (RFC 6750, 3), each counted by
its reason, a closed set of label values (never the token or its claims)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from werkzeug.exceptions import Forbidden, HTTPException, Unauthorized

# Each refusal's reason (the metric's label: a closed set) and the few words a client reads.
REASONS = {
    "missing": "no bearer token",
    "malformed": "the token is malformed",
    "expired": "the token has expired",
    "not_yet_valid": "the token is not valid yet",
    "wrong_issuer": "the token is from another issuer",
    "wrong_audience": "the token is for another audience",
    "bad_algorithm": "the token's algorithm is not accepted",
    "bad_signature": "the token's signature does not verify",
    "unknown_key": "the token's signing key is unknown",
    "invalid": "the token is invalid",
    "insufficient_scope": "the token lacks a scope this operation needs",
    "no_keys": "the token issuer's keys are unavailable",
}
FAILURES = Counter("auth_failures", "Requests refused by authentication, by reason", ["reason"])


class Challenge(HTTPException):
    """An HTTP error that tells the client what to send (WWW-Authenticate, RFC 6750, 3)."""

    challenge = "Bearer"

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [*super().get_headers(*args, **kwargs), ("WWW-Authenticate", self.challenge)]


class TokenRejected(Challenge, Unauthorized):
    """401: no usable token. A missing one names no error (RFC 6750, 3.1)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Authentication failed: {REASONS[reason]}.")
        if reason != "missing":
            description = REASONS[reason]
            self.challenge = f'Bearer error="invalid_token", error_description="{description}"'


class ScopeMissing(Challenge, Forbidden):
    """403: a valid token that does not grant every scope the operation needs."""

    def __init__(self, scopes: tuple[str, ...]) -> None:
        super().__init__(f"The token lacks a scope this operation needs: {' '.join(scopes)}.")
        self.challenge = f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'


def refuse(reason: str, error: Exception) -> Exception:
    """Count the refusal by its reason, and give the exception to raise."""
    FAILURES.labels(reason).inc()
    return error
