"""The container health probe against a real HTTP server, and against nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from {{ cookiecutter.package_name }} import probe

from .servers import free_port


@pytest.fixture
def live_port(app: Flask) -> Iterator[int]:
    """Serve the app from a thread on a free loopback port."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


def test_healthy(live_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "testing")  # production's settings would want a database
    monkeypatch.setenv("PORT", str(live_port))
    assert probe.main() == 0


def test_unhealthy_when_nothing_listens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", str(free_port()))
    assert probe.main() == 1
    assert "unhealthy" in capsys.readouterr().err
