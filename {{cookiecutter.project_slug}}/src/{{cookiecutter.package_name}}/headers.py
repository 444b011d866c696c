"""Security headers a JSON API should send, added to every response the app answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HSTS = "max-age=63072000; includeSubDomains"

StartResponse = Callable[..., Any]


class SecurityHeaders:
    """WSGI middleware adding SECURITY_HEADERS (and HSTS over HTTPS) that the app did not set.

    Added here, they are constant tuples appended to the header list once; added in
    after_request, Werkzeug would validate and copy each of them on every request.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app
        plain = [(name.lower(), (name, value)) for name, value in SECURITY_HEADERS.items()]
        self.defaults = {
            "http": tuple(plain),
            "https": (*plain, ("strict-transport-security", ("Strict-Transport-Security", HSTS))),
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        defaults = self.defaults["https" if environ["wsgi.url_scheme"] == "https" else "http"]

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend(header for lower, header in defaults if lower not in present)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)
