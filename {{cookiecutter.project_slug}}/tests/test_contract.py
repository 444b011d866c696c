"""The contract against the live service: Schemathesis drives gunicorn (not the test client)
from the served /openapi.json with every check on, through its four phases; the stateful phase
follows the document's links from a created item to reading, changing and deleting it. It
calls with a token from the real local provider; its ignored_auth check also calls without."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from {{ cookiecutter.package_name }}.schemas import NAME_PATTERN

from .provider import AUDIENCE, Provider, declared_scopes, new_key, node_modules
from .servers import PROJECT, SECRET, Server, copy_project, free_port, serve

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

SCHEMATHESIS = Path(sys.executable).parent / "st"
# Request hooks, where the project has any (one Idempotency-Key per create; none stores nothing).
HOOKS = Path(__file__).with_name("contract_hooks.py")
# Examples per operation and phase; `make contract` raises it (CONTRACT_EXAMPLES=500).
EXAMPLES = os.environ.get("CONTRACT_EXAMPLES", "60")


def run_schemathesis(*args: str) -> subprocess.CompletedProcess[str]:
    """`st run` with the project's schemathesis.toml, returning its report."""
    hooks = {"SCHEMATHESIS_HOOKS": str(HOOKS)} if HOOKS.exists() else {}
    return subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(PROJECT / "schemathesis.toml"), "run", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "NO_COLOR": "1", **hooks},
    )


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    node_modules()
    scopes = " ".join(declared_scopes()) or "items:read"
    running = Provider(tmp_path_factory.mktemp("provider"), [new_key()], scopes).start()
    yield running
    running.stop()


@pytest.fixture
def token(provider: Provider) -> str:
    """`--header` for Schemathesis: a token granting every scope (valid for 5 minutes)."""
    return f"Authorization: Bearer {provider.token()}"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[Server]:
    """gunicorn as in production, with the contract served (API_DOCS=1), on a fresh database,
    trusting the provider's tokens; one for the module, as no test depends on what another
    wrote and each start costs seconds."""
    tmp_path = tmp_path_factory.mktemp("live")
    copy_project(tmp_path)
    config = PROJECT / "alembic.ini"
    if config.exists():  # a service with a database: migrate it first
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(config), "upgrade", "head"],
            env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}"},
            check=True,
            capture_output=True,
        )
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET, "API_DOCS": "1", "WEB_CONCURRENCY": "2"}
    # conftest's AUTH_DISABLED, off (blank is unset): the document's security is checked too.
    env |= {"AUTH_DISABLED": "", "OIDC_ISSUER": provider.issuer, "OIDC_AUDIENCE": AUDIENCE}
    args = ["-m", "gunicorn", "-c", "gunicorn.conf.py"]
    with serve(tmp_path, args, env, free_port()) as server:
        yield server


def test_the_live_service_keeps_its_contract(live: Server, token: str) -> None:
    result = run_schemathesis(
        f"{live.url}/openapi.json",
        "--checks=all",
        # Authorization is the one required header, and --header's token is also attached to
        # the case meant to omit it (schemathesis#2898); the 401 test below checks it instead.
        "--exclude-checks=missing_required_header",
        "--phases=examples,coverage,fuzzing,stateful",
        f"--max-examples={EXAMPLES}",
        f"--header={token}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Stateful" in result.stdout
    stdout, stderr = live.logs()
    assert "Traceback" not in stdout + stderr


def test_the_servers_own_limits_are_answered_as_documented(live: Server) -> None:
    """gunicorn refuses an over-long request line itself: the document says so, and how."""
    document = requests.get(f"{live.url}/openapi.json", timeout=10).json()
    documented = document["paths"]["/healthz"]["get"]["responses"]["414"]
    answer = requests.get(f"{live.url}/healthz", params={"pad": "x" * 5000}, timeout=10)
    assert answer.status_code == 414
    assert answer.headers["Content-Type"] in documented["content"]


def test_a_broken_promise_is_caught(live: Server, tmp_path: Path, token: str) -> None:
    """The same run fails once the document promises what the service does not do."""
    # A blank name is refused, but without its pattern the document would admit one.
    pattern = f'"pattern": {json.dumps(NAME_PATTERN)}'
    promise = (PROJECT / "openapi.json").read_text().replace(pattern, '"pattern": ""')
    (tmp_path / "openapi.json").write_text(promise)
    result = run_schemathesis(
        str(tmp_path / "openapi.json"),
        f"--url={live.url}",
        "--checks=positive_data_acceptance",
        "--phases=coverage",
        f"--header={token}",
    )
    assert result.returncode != 0, result.stdout
    assert "Schema-valid request rejected" in result.stdout


def test_every_secured_operation_answers_401_without_a_token(live: Server) -> None:
    document = requests.get(f"{live.url}/openapi.json", timeout=10).json()
    secured = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if operation.get("security"):  # each documents its 401, and answers one untokened
                secured += 1
                assert "401" in operation["responses"]
                url = live.url + re.sub(r"\{[^}]+\}", "1", path)
                answer = requests.request(method, url, json={"name": "x"}, timeout=10)
                assert answer.status_code == 401, (method, path)
                assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert secured >= 1
