"""The production entrypoint for real: gunicorn with gunicorn.conf.py serving wsgi:app."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from flask import Flask

from .servers import PACKAGE_DIR, SECRET, Server, add_route, copy_project, free_port, run, serve

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

PROD_ENV = {
    "APP_ENV": "production",
    "SECRET_KEY": SECRET,
    "WEB_CONCURRENCY": "2",
    # Variables someone might hope turn a debugger on: none of them may.
    "FLASK_DEBUG": "1",
    "DEBUG": "1",
    "WERKZEUG_DEBUG_PIN": "off",
}


GRACEFUL_TIMEOUT = 20  # gunicorn.conf.py's GUNICORN_GRACEFUL_TIMEOUT default: SIGTERM's bound


@contextmanager
def production(workdir: Path) -> Iterator[Server]:
    """gunicorn -c gunicorn.conf.py on a free port, $HOME unwritable as in a container."""
    package_dir = copy_project(workdir)
    add_route(package_dir, "boom", "1 / 0")
    add_route(package_dir, "frozen", '{"objects": __import__("gc").get_freeze_count()}')
    env = {**PROD_ENV, "HOME": "/nonexistent", "XDG_RUNTIME_DIR": ""}
    with serve(workdir, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env, free_port()) as server:
        yield server


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that only send it requests (each start costs a second)."""
    with production(tmp_path_factory.mktemp("gunicorn")) as server:
        yield server


@pytest.fixture
def own_gunicorn(tmp_path: Path) -> Iterator[Server]:
    """A server of the test's own, for one that reads its whole log or stops it."""
    with production(tmp_path) as server:
        yield server


def json_lines(text: str) -> list[dict[str, object]]:
    """Parse every line as JSON; a line that is not JSON fails the test."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_serves_health_and_problem_json(gunicorn: Server) -> None:
    assert requests.get(f"{gunicorn.url}/healthz", timeout=5).json() == {"status": "ok"}
    missing = requests.get(f"{gunicorn.url}/missing", timeout=5)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"


def test_workers_keep_the_imported_objects_out_of_the_collector(gunicorn: Server) -> None:
    frozen = requests.get(f"{gunicorn.url}/frozen", timeout=5).json()["objects"]
    assert frozen > 10_000  # Flask, Werkzeug and the app, frozen in the master before the fork


def test_no_debugger_under_gunicorn(gunicorn: Server) -> None:
    response = requests.get(f"{gunicorn.url}/boom", timeout=5)
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "Werkzeug Debugger" not in response.text
    assert "ZeroDivisionError" not in response.text
    assert "Traceback" not in response.text


def test_logs_are_json_with_request_ids_and_no_startup_errors(own_gunicorn: Server) -> None:
    gunicorn = own_gunicorn
    response = requests.get(
        f"{gunicorn.url}/healthz?x=%22quoted%22",
        headers={"X-Request-ID": "trace-7", "User-Agent": 'a"b'},
        timeout=5,
    )
    assert response.headers["X-Request-ID"] == "trace-7"
    requests.get(f"{gunicorn.url}/boom", headers={"X-Request-ID": "trace-8"}, timeout=5)
    stop_and_wait = gunicorn.process
    stop_and_wait.terminate()
    stop_and_wait.wait(GRACEFUL_TIMEOUT + 5)
    stdout, stderr = gunicorn.logs()
    out, err = json_lines(stdout), json_lines(stderr)
    access = [line for line in out if line["logger"] == "gunicorn.access"]
    first = next(line for line in access if line["request_id"] == "trace-7")
    assert first["status"] == 200
    assert first["path"] == "/healthz"
    assert first["query"] == "x=%22quoted%22"
    assert first["user_agent"] == 'a"b'
    failures = [
        line for line in out if line.get("request_id") == "trace-8" and line["level"] == "ERROR"
    ]
    assert failures, "the 500 is logged with its request id"
    assert not [line for line in err if line["level"] in ("ERROR", "CRITICAL")], err
    assert any("Booting worker" in str(line["message"]) for line in err)


def test_bad_configuration_stops_the_master_with_one_line(tmp_path: Path) -> None:
    copy_project(tmp_path)
    env = {"APP_ENV": "production", "SECRET_KEY": ""}
    result = run(tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env)
    assert result.returncode != 0
    assert "configuration error: SECRET_KEY must be" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_gunicorn_variable_is_named(tmp_path: Path) -> None:
    copy_project(tmp_path)
    env = {**PROD_ENV, "GUNICORN_THREADS": "lots"}
    result = run(tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env)
    assert result.returncode != 0
    assert "GUNICORN_THREADS: Input should be a valid integer" in result.stderr
    assert "got 'lots'" in result.stderr


def test_wsgi_module_builds_the_production_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite3'}")
    module = importlib.import_module(f"{PACKAGE_DIR.name}.wsgi")
    module = importlib.reload(module)
    assert isinstance(module.app, Flask)
    assert module.app.config["APP_ENV"] == "production"
    assert not module.app.debug
