"""Sessions: Flask's signed cookies, at no cost to a request that neither sends nor uses one."""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, at no cost to a request that neither sends nor uses one."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # With SECRET_KEY set, Flask builds a signing serializer and parses the Cookie header
        # for every request; without that header the answer is an empty session all the same.
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # An empty session nobody touched: Flask would read seven settings to do nothing.
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Install the session interface (a JSON API rarely needs sessions; it pays only if used)."""
    app.session_interface = CookieSessions()
