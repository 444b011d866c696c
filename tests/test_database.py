"""The database promises on a real engine: the baked suite against a real PostgreSQL through the
bake's own `make test-postgres`, and compose's db -> migrate -> web round trip, with the data
surviving `down`/`up`, and a database outage that restarts nothing and is recovered from (what
the service answers during one is the bake's own tests/db/test_faults.py)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from benchmarks.servers import free_port

from .docker_support import Stack, require_engine
from .helpers import BIN, bake, borrow_template_venv, run

pytestmark = pytest.mark.docker


# The SQLite bake keeps psycopg and the PostgreSQL tests (a URL switches), so its skips point to
# `make test-postgres` too: there, the database tests alone (the rest is the default bake's).
SUITES = {"postgresql": "", "sqlite": "--cov-fail-under=0 tests/db"}


@pytest.mark.parametrize(("database", "args"), SUITES.items(), ids=SUITES.keys())
@pytest.mark.xdist_group("database-postgres-suite")
def test_baked_suite_passes_on_postgresql(
    tmp_path: Path, record_property: pytest.RecordProperty, database: str, args: str
) -> None:
    require_engine()
    project = bake(tmp_path, database=database)
    (project / ".env").unlink()  # as in a fresh clone: compose must not need it for test-db
    borrow_template_venv(project)
    env = {
        "COMPOSE_PROJECT_NAME": f"tpl{uuid.uuid4().hex[:8]}",
        "TEST_DB_PORT": str(free_port()),
        "PYTHONPATH": str(project / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "REQUIRE_POSTGRES": "1",  # a PostgreSQL test that would skip fails instead
        # The browser test has nothing to do with the database, and may lack its browser here.
        "PYTEST_ADDOPTS": f"--ignore=tests/test_docs_browser.py {args}",
        **{k: v for k in ("POSTGRES_IMAGE",) if (v := os.environ.get(k))},
    }
    started = time.monotonic()
    result = run(["make", "test-postgres"], project, env=env, timeout=1200)
    record_property("pg_suite_s", round(time.monotonic() - started, 1))
    (summary,) = [
        line for line in result.stdout.splitlines() if " passed" in line and " in " in line
    ]
    assert "skipped" not in summary
    assert "failed" not in summary


@pytest.fixture(params=["postgresql", "sqlite"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """A bake with that database under compose, torn down with its volumes."""
    require_engine()
    project = bake(tmp_path, database=request.param)
    stack = Stack(project, f"tpl{uuid.uuid4().hex[:8]}", free_port(), free_port())
    try:
        yield stack
    finally:
        stack.tear_down()


def bearer(stack: Stack) -> dict[str, str]:
    """The README's `make token` from compose's provider, as an Authorization header."""
    token = run(["make", "--no-print-directory", "token"], stack.project, env=stack.env)
    return {"Authorization": f"Bearer {token.stdout.strip()}"}


def create_item(url: str, name: str, auth: dict[str, str]) -> str:
    """POST an item; its Location."""
    response = requests.post(f"{url}/api/items", json={"name": name}, headers=auth, timeout=10)
    assert response.status_code == 201, response.text
    return f"{url}{response.headers['Location']}"


@pytest.mark.xdist_group("database")
def test_compose_round_trip_keeps_data_until_down_volumes(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.http_port}"
    stack.timed("db_up_s", "up", "--build", "--detach", "--wait")
    assert stack.inspect("migrate", "{{.State.ExitCode}}") == "0"
    migrated = stack.inspect("migrate", "{{.State.FinishedAt}}")
    assert stack.inspect("web", "{{.State.StartedAt}}") > migrated  # web waited for migrate
    auth = bearer(stack)
    item = create_item(url, "survivor", auth)
    stack.compose("down")
    stack.compose("up", "--detach", "--wait")
    auth = bearer(stack)  # the provider keeps its keys in memory: a restart makes new ones
    assert requests.get(item, headers=auth, timeout=10).json()["name"] == "survivor"
    stack.compose("down", "--volumes")
    stack.compose("up", "--detach", "--wait")
    assert requests.get(item, headers=bearer(stack), timeout=10).status_code == 404


@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
@pytest.mark.xdist_group("database")
def test_the_compose_stack_keeps_the_committed_contract_on_postgresql(stack: Stack) -> None:
    """Schemathesis from the bake's openapi.json (production serves no /openapi.json) against
    compose's gunicorn and PostgreSQL: every check, the stateful phase included."""
    stack.compose("up", "--build", "--detach", "--wait")
    result = run(
        [
            str(BIN / "st"),
            "--config-file",
            str(stack.project / "schemathesis.toml"),
            "run",
            str(stack.project / "openapi.json"),
            f"--url=http://127.0.0.1:{stack.http_port}",
            "--checks=all",
            # As the bake's contract test: the token rides on every case (schemathesis#2898).
            "--exclude-checks=missing_required_header",
            f"--header=Authorization: {bearer(stack)['Authorization']}",
            "--max-examples=30",
        ],
        stack.project,
        # The bake's hooks give each create an Idempotency-Key of its own, as its own run does.
        env={
            "NO_COLOR": "1",
            "SCHEMATHESIS_HOOKS": str(stack.project / "tests" / "contract_hooks.py"),
            "PYTHONPATH": str(stack.project / "src"),
        },
        timeout=600,
    )  # fails with Schemathesis's report unless every check passed
    assert "Stateful" in result.stdout
    assert "Traceback" not in stack.compose("logs", "web").stdout


@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
@pytest.mark.xdist_group("database")
def test_a_database_outage_leaves_web_running_and_ready_again_after(stack: Stack) -> None:
    """Compose's side of an outage: web's healthcheck is liveness, so stopping db restarts
    nothing, and readiness comes back with db. What the service answers meanwhile (503 with
    Retry-After) and that it returns its connections are the bake's tests/db/test_faults.py."""
    url = f"http://127.0.0.1:{stack.http_port}"
    stack.compose("up", "--build", "--detach", "--wait")
    auth = bearer(stack)
    create_item(url, "before", auth)
    web_started = stack.inspect("web", "{{.State.StartedAt}}")
    stack.compose("stop", "db")
    assert requests.get(f"{url}/readyz", timeout=30).status_code == 503
    assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
    stack.compose("start", "db")
    deadline = time.monotonic() + 60
    while requests.get(f"{url}/readyz", timeout=30).status_code != 200:
        assert time.monotonic() < deadline, "readiness never came back"
        time.sleep(0.5)
    time.sleep(1.5)  # a worker that saw the outage tries the database again within a second
    create_item(url, "after", auth)
    assert stack.inspect("web", "{{.State.StartedAt}}") == web_started  # no restart
    assert stack.inspect("web", "{{.State.Health.Status}}") == "healthy"
