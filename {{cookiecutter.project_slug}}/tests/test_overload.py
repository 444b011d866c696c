"""overload.py: a request that waited over GUNICORN_QUEUE_TIMEOUT_MS for its thread is answered
503 + Retry-After at once, and the episode is logged once, not per request (the worker's side,
the measured wait, is tests/test_overload_gunicorn.py's)."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from {{ cookiecutter.package_name }} import readiness
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.context import QUEUED_S


@pytest.fixture
def app() -> Flask:
    """A production-like app (errors answered) with the default 500 ms bound."""
    return create_app({"APP_ENV": "testing", "PROPAGATE_EXCEPTIONS": False})


def get(app: Flask, waited: float | None) -> tuple[int, dict[str, str], dict[str, object]]:
    environ = {} if waited is None else {QUEUED_S: waited}
    response = app.test_client().get("/healthz", environ_base=environ)
    return response.status_code, dict(response.headers), response.get_json(force=True)


def test_a_request_that_waited_past_the_bound_gets_503_with_retry_after(app: Flask) -> None:
    status, headers, body = get(app, 0.6)
    assert status == 503
    assert headers["X-Content-Type-Options"] == "nosniff", "inside the security headers"
    assert headers["Retry-After"] == "1"
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["X-Request-ID"] == body["request_id"]
    assert body["title"] == "Service Unavailable"


def test_requests_within_the_bound_or_unmeasured_are_served(app: Flask) -> None:
    assert get(app, 0.4)[0] == 200
    assert get(app, None)[0] == 200  # the dev server and the probe threads measure nothing


def test_zero_turns_shedding_off() -> None:
    app = create_app({"APP_ENV": "testing", "GUNICORN_QUEUE_TIMEOUT_MS": 0})
    assert get(app, 60.0)[0] == 200


def test_an_episode_is_logged_when_it_starts_and_after_a_quiet_trial(
    app: Flask, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readiness, "TRIAL", 0.0)
    caplog.set_level(logging.WARNING, logger=readiness.__name__)
    for waited in (0.6, 0.1, 0.6, 0.7):
        get(app, waited)
    started = [r for r in caplog.records if r.getMessage() == "outage started"]
    assert [r.__dict__["check"] for r in started] == ["capacity", "capacity"]
    monkeypatch.setattr(readiness, "TRIAL", 60.0)
    caplog.clear()
    for waited in (0.6, 0.1, 0.6, 0.1):  # shed and served by turns: still one episode
        get(app, waited)
    assert [r.getMessage() for r in caplog.records] == []
