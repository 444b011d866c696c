"""Liveness and readiness, including registered checks that fail."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }} import readiness
from {{ cookiecutter.package_name }}.readiness import NotReady, add_check


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_when_every_check_passes(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["status"] == "ready"
    assert set(response.json["checks"].values()) <= {"ok"}


def test_readyz_runs_registered_checks(app: Flask) -> None:
    calls: list[str] = []
    add_check(app, "database", lambda: calls.append("database"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok"}}
    assert calls == ["database"]


def test_readyz_fails_with_503_naming_the_check(app: Flask) -> None:
    def broken() -> None:
        raise ConnectionError("db down: password=hunter2")

    add_check(app, "cache", lambda: None)
    add_check(app, "database", broken)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json is not None
    assert response.json["checks"] == {"cache": "ok", "database": "failing"}
    assert "hunter2" not in response.get_data(as_text=True)


def test_an_outage_is_logged_when_it_starts_and_when_it_ends(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    down = True

    def flaky() -> None:
        if down:
            raise ConnectionError("db down: password=hunter2")

    add_check(app, "database", flaky)
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="{{ cookiecutter.package_name }}.readiness"):
        for _ in range(5):
            assert client.get("/readyz").status_code == 503
        down = False
        for _ in range(3):
            assert client.get("/readyz").status_code == 200
    records = [r for r in caplog.records if r.name.endswith("readiness")]
    assert [r.getMessage() for r in records] == [
        "outage started",
        "outage ended",
    ]
    assert records[0].error == "ConnectionError"  # type: ignore[attr-defined]
    assert records[0].exc_info is None
    assert records[1].failed_for_s >= 0  # type: ignore[attr-defined]
    assert "hunter2" not in caplog.text


def test_a_hanging_check_is_a_quick_503_and_is_not_started_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readiness, "BUDGET", 0.2)  # the probe's bound, shortened for the test
    release, calls = threading.Event(), []

    def frozen() -> None:
        calls.append("started")
        release.wait(10)  # a dependency that stopped answering

    add_check(app, "database", frozen)
    client = app.test_client()
    try:
        for _ in range(2):
            started = time.monotonic()
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json is not None
            assert response.json["checks"] == {"database": "failing"}
            assert time.monotonic() - started < readiness.BUDGET + 1
        assert calls == ["started"]  # the second probe waited on the first check
    finally:
        release.set()
    assert client.get("/readyz").status_code == 200


def test_a_not_ready_check_says_why(app: Flask) -> None:
    def behind() -> None:
        raise NotReady("schema not migrated: database at none, code at abc")

    add_check(app, "database", behind)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json is not None
    reason = "schema not migrated: database at none, code at abc"
    assert response.json["checks"] == {"database": reason}
