"""The dev entrypoint's parts in-process: bind address, reloader choice, DevApp, main's wiring.

tests/test_main.py runs the same code for real, as `python -m` subprocesses.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import sysconfig
from pathlib import Path

import pytest
from werkzeug._reloader import _find_watchdog_paths  # what the reloader really watches
from werkzeug.test import Client

from {{ cookiecutter.package_name }} import __main__ as dev
from {{ cookiecutter.package_name }} import app as app_module
from {{ cookiecutter.package_name }}.settings import DEFAULT_PORT, current

from .servers import SECRET


def test_the_dev_server_defaults_to_development_on_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HOST", "PORT", "APP_ENV"):
        # Set first, so that undoing it also drops the APP_ENV=development that dev_settings()
        # sets: leaked, it made later tests (test_probe) pass only when run after this one.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    settings = dev.dev_settings()
    assert (settings.HOST, settings.PORT) == (None, DEFAULT_PORT)  # main() binds 127.0.0.1
    assert os.environ["APP_ENV"] == "development"  # what the reloader's child inherits


def test_the_dev_server_refuses_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    with pytest.raises(SystemExit, match="refusing to start the dev server"):
        dev.dev_settings()


def test_reloader_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "development")  # dev_settings() would leak it otherwise
    monkeypatch.delenv("RELOADER", raising=False)
    assert dev.reloader_type(dev.dev_settings()) == "watchdog"  # a dev dependency
    monkeypatch.setenv("RELOADER", "stat")
    current.cache_clear()
    assert dev.reloader_type(dev.dev_settings()) == "stat"


def test_dev_app_serves_the_app_in_debug_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # As the reloader's child sees it: the parent wrote APP_ENV down (dev_settings). Left to
    # the suite's order, it passed only after a test that leaked that variable.
    monkeypatch.setenv("APP_ENV", "development")
    wrapper = dev.DevApp()
    assert wrapper.error is None
    assert wrapper.app.debug
    assert Client(wrapper).get("/healthz").status_code == 200


def test_dev_app_raises_the_import_error_on_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(config: object = None) -> None:
        raise SyntaxError("invalid syntax (probe.py, line 1)")

    monkeypatch.setattr(app_module, "create_app", broken)
    wrapper = dev.DevApp()
    for _ in range(2):
        with pytest.raises(SyntaxError, match=r"probe\.py"):
            Client(wrapper).get("/healthz")


def test_main_runs_run_simple_with_reloader_and_debugger(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(dev, "run_simple", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    dev.main()
    assert calls[0]["use_reloader"] is True
    assert calls[0]["use_debugger"] is True
    assert calls[0]["extra_files"] == [str(dev.PACKAGE_DIR)]


def test_only_the_source_tree_is_watched() -> None:
    # The directories Werkzeug's watchdog reloader would watch recursively, given our settings.
    roots = _find_watchdog_paths({str(dev.PACKAGE_DIR)}, set(dev.EXCLUDE_PATTERNS))
    unchanging = [Path(sysconfig.get_path(name)) for name in ("stdlib", "purelib")]
    for root in roots:
        assert not any(path.is_relative_to(root) for path in [*unchanging, dev.PROJECT_DIR]), root
    assert any(dev.PACKAGE_DIR.is_relative_to(root) for root in roots)
    source = str(dev.PACKAGE_DIR / "app.py")
    assert not any(fnmatch.fnmatch(source, pattern) for pattern in dev.EXCLUDE_PATTERNS)


def test_the_published_address_is_shown_instead_of_the_container_s() -> None:
    lines = "WARNING: dev\n * Running on all addresses (0.0.0.0)\n * Running on http://127.0.0.1:80"
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, lines, (), None)
    assert dev.PublishedAddress("http://127.0.0.1:8081").filter(record)
    assert record.getMessage() == "WARNING: dev\n * Running on http://127.0.0.1:8081"
    other = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "GET / 200", (), None)
    assert dev.PublishedAddress("http://127.0.0.1:8081").filter(other)
    assert other.getMessage() == "GET / 200"
