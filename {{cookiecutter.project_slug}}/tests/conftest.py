"""Fixtures: an app in testing mode and its client; the app factory is called fresh per test."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cpus import usable_cpus
from {{ cookiecutter.package_name }}.settings import current

from .things import add_things

# The suite's generic tests call the API without tokens: authentication is off by its one
# switch, inherited by the servers they start; tests/test_auth*.py turn it on against a real
# OpenID provider.
os.environ.setdefault("AUTH_DISABLED", "1")


def pytest_configure(config: pytest.Config) -> None:
    """Under `make test`'s workers, each worker tests on a PostgreSQL database of its own."""
    worker, url = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("TEST_DATABASE_URL", "")
    if worker and url.startswith("postgres") and (Path(__file__).parent / "db").is_dir():
        support = importlib.import_module(".db.support", __package__)  # a service with one
        os.environ["TEST_DATABASE_URL"] = support.worker_database(url, worker)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown where it is not loaded
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`make test`'s workers (`-n auto`): two per CPU this process may use. Most tests wait on
    a server they started, so one worker per CPU leaves the CPUs idle a third of the time."""
    cpus, _why = usable_cpus()
    return 2 * cpus


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that start a program run first: they are the long ones, and the many short
    ones then fill each worker's end instead of one long test finishing alone."""
    items.sort(key=lambda item: item.get_closest_marker("server") is None)


# `make test-fast` leaves out the tests marked `server`: those that start a program (gunicorn,
# the dev server, an interpreter, node, kubectl, promtool, a browser). A test that starts one
# unmarked fails here, naming it, so the edit loop stays free of start-ups. A fork of the test
# process itself is not a program: it runs the test's own code, in milliseconds.
STARTS = frozenset({"subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn", "os.system"})
_running: list[pytest.Item] = []  # the test being set up, run or torn down, if not marked


def refuse_unmarked_starts(event: str, args: tuple[object, ...]) -> None:
    if event in STARTS and _running:
        program = args[1] if len(args) > 1 else args[0]  # the command line, or the program
        raise RuntimeError(
            f"{_running[0].nodeid} starts a process ({program!r}): mark it "
            "@pytest.mark.server, or its module pytestmark = pytest.mark.server"
        )


sys.addaudithook(refuse_unmarked_starts)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    if item.get_closest_marker("server") is None:
        _running.append(item)
    try:
        return (yield)
    finally:
        _running.clear()


@pytest.fixture(autouse=True)
def fresh_settings() -> None:
    """Each test reads the environment anew: a process reads its settings once, and a test's
    monkeypatched variables would otherwise meet the first test's."""
    current.cache_clear()


@pytest.fixture
def app() -> Flask:
    """An app in testing mode: exceptions propagate to the test, as Flask does when TESTING."""
    return create_app({"APP_ENV": "testing"})


@pytest.fixture
def prod_app() -> Flask:
    """An app that handles unhandled errors as production does (500 problem+json)."""
    return create_app({"APP_ENV": "testing", "PROPAGATE_EXCEPTIONS": False})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the testing app."""
    return app.test_client()


@pytest.fixture
def things_app() -> Flask:
    """A production-like app (errors answered, not propagated) with the tests' own JSON write
    route, POST /test/things (things.py)."""
    return add_things(create_app({"APP_ENV": "testing", "PROPAGATE_EXCEPTIONS": False}))
