"""Tokens under real gunicorn (two workers, as in production) from the real local provider:
the API answers a client-credentials token and refuses the rest (every forged and malformed
token of tests/test_auth.py, and two Authorization headers), the access log names the token's
subject and never the token, and the refusals are counted (tests/test_contract.py fuzzes the
contract with a token)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from .provider import AUDIENCE, Provider, new_key, node_modules
from .servers import PROJECT, SECRET, Server, copy_project, free_port, serve
from .test_auth import FORGED, MALFORMED, forged

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

# A route declared as the example's are (which the README's first-day steps replace).
PROBE_ROUTE = """from flask import Blueprint

from ..auth import requires

bp = Blueprint("authprobe", __name__)


@bp.post("/test/auth")
@requires("items:write")
def write_probe():
    return {"written": True}, 201
"""


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    node_modules()
    running = Provider(tmp_path_factory.mktemp("provider"), [new_key()]).start()
    yield running
    running.stop()


@pytest.fixture
def live(tmp_path: Path, provider: Provider) -> Iterator[tuple[Server, str]]:
    """gunicorn as in production, trusting the provider's tokens; and its metrics URL."""
    (copy_project(tmp_path) / "routes" / "authprobe.py").write_text(PROBE_ROUTE)
    config = PROJECT / "alembic.ini"
    if config.exists():  # a service with a database: migrate it first
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(config), "upgrade", "head"],
            env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}"},
            check=True,
            capture_output=True,
        )
    metrics = free_port()
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "API_DOCS": "1",
        "WEB_CONCURRENCY": "2",
        "METRICS_PORT": str(metrics),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "AUTH_DISABLED": "",  # conftest's switch, off: blank is unset
        "OIDC_ISSUER": provider.issuer,
        "OIDC_AUDIENCE": AUDIENCE,
    }
    (tmp_path / "metrics").mkdir()
    with serve(tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env, free_port()) as server:
        yield server, f"http://127.0.0.1:{metrics}/metrics"


def test_tokens_under_gunicorn(live: tuple[Server, str], provider: Provider) -> None:
    server, metrics = live
    token = provider.token()
    auth = {"Authorization": f"Bearer {token}"}
    items = f"{server.url}/test/auth"
    for n in range(4):  # both workers fetch the keys and answer (creating: every bake can)
        created = requests.post(items, json={"name": f"a{n}"}, headers=auth, timeout=10)
        assert created.status_code == 201, created.text
        assert requests.post(items, json={"name": f"b{n}"}, timeout=10).status_code == 401
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    wrong = {case: f"Bearer {forged(provider, case)}" for case in FORGED} | MALFORMED
    # gunicorn itself refuses a header line past limit_request_field_size (8190 bytes): 431,
    # before the app, so it is not counted.
    oversized = requests.post(
        items, json={}, headers={"Authorization": wrong.pop("ten_kilobytes")}, timeout=10
    )
    assert oversized.status_code == 431
    for case, header in wrong.items():
        refused = requests.post(items, json={}, headers={"Authorization": header}, timeout=10)
        assert (refused.status_code, refused.headers["Content-Type"]) == (
            401,
            "application/problem+json",
        ), (case, refused.text)

    stdout, stderr = server.logs()
    access = [json.loads(line) for line in (stdout + stderr).splitlines() if '"path"' in line]
    answered = [line for line in access if line.get("path") == "/test/auth"]
    assert {line["subject"] for line in answered if line["status"] in (200, 201)} == {"dev-client"}
    assert {line["subject"] for line in answered if line["status"] == 401} == {None}
    assert token not in stdout + stderr
    assert token.split(".")[2] not in stdout + stderr

    families = text_string_to_metric_families(requests.get(metrics, timeout=10).text)
    family = next(f for f in families if f.name == "auth_failures")
    counted = {s.labels["reason"]: s.value for s in family.samples if s.name.endswith("_total")}
    expected = Counter(FORGED.values())
    assert {reason: counted.get(reason, 0) for reason in expected} == expected
    assert counted["missing"] >= 4
    assert sum(counted.values()) == 4 + len(wrong)
    assert twice_authorized(server, token) == 400


def twice_authorized(server: Server, token: str) -> int:
    """The status of a request with two Authorization headers (requests sends one)."""
    connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    try:
        connection.putrequest("POST", "/test/auth")
        for _ in range(2):
            connection.putheader("Authorization", f"Bearer {token}")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", "2")
        connection.endheaders(b"{}")
        return connection.getresponse().status
    finally:
        connection.close()
