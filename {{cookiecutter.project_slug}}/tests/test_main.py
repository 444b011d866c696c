"""The dev entrypoint for real: `python -m <package>` runs run_simple with reloader and debugger."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .clients import tcp_listeners
from .servers import PACKAGE_DIR, SECRET, Server, add_route, copy_project, free_port, run, serve

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

PACKAGE = PACKAGE_DIR.name
DEV_ENV = {"APP_ENV": "development", "RELOADER": "stat"}


class Poller:
    """Request a path in a loop from a thread, noting bodies and counting failed connections:
    refused (nothing listening: the socket hand-over failed) apart from dropped (a request in
    flight in the child at the instant it exits to reload)."""

    def __init__(self, url: str) -> None:
        self.url, self.refused, self.dropped = url, 0, 0
        self.bodies: list[str] = []
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self) -> None:
        while self.running:
            try:
                self.bodies.append(requests.get(self.url, timeout=10).text)
            except requests.RequestException as exc:  # a refusal, or a reply cut by the reload
                if "refused" in str(exc).lower():
                    self.refused += 1
                else:
                    self.dropped += 1
            time.sleep(0.02)

    def wait_for(self, needle: str, timeout: float = 20) -> None:
        """Block until a response containing needle arrives."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in body for body in self.bodies[-5:]):
                return
            time.sleep(0.05)
        raise AssertionError(f"never saw {needle!r}; last: {self.bodies[-1:]!r}")

    def stop(self) -> None:
        self.running = False
        self.thread.join()


@pytest.fixture(params=["stat", "watchdog"])
def dev_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """The dev server on a free port, serving a copy of the package with a /probe route."""
    package_dir = copy_project(tmp_path)
    add_route(package_dir, "probe", "'probe-v1'")
    add_route(package_dir, "boom", "1 / 0")
    env = {**DEV_ENV, "RELOADER": request.param}
    with serve(tmp_path, ["-m", PACKAGE], env, free_port()) as server:
        yield server, package_dir


def test_reload_serves_new_code_on_the_same_port_and_survives_a_syntax_error(
    dev_server: tuple[Server, Path],
) -> None:
    server, package_dir = dev_server
    poller = Poller(f"{server.url}/probe")
    try:
        poller.wait_for("probe-v1")
        time.sleep(1.1)  # the stat reloader compares mtimes at 1 s resolution on some filesystems
        add_route(package_dir, "probe", "'probe-v2'")
        poller.wait_for("probe-v2")

        (package_dir / "routes" / "probe.py").write_text("def broken(:\n")
        poller.wait_for("SyntaxError")
        assert server.process.poll() is None, "a syntax error must not end the dev server"

        add_route(package_dir, "probe", "'probe-v3'")
        poller.wait_for("probe-v3")
    finally:
        poller.stop()
    # Each phase above was answered through the same socket; a count of answers would only
    # measure how fast this machine re-imports the app (it failed at 19 on a loaded CI box).
    assert poller.refused == 0


def test_debugger_answers_a_failing_request_only_for_trusted_hosts(
    dev_server: tuple[Server, Path],
) -> None:
    server, _ = dev_server
    local = requests.get(f"{server.url}/boom", timeout=10)
    assert local.status_code == 500
    assert "Werkzeug Debugger" in local.text
    assert "ZeroDivisionError" in local.text
    assert "EVALEX = true" in local.text
    remote = requests.get(f"{server.url}/boom", headers={"Host": "evil.example"}, timeout=10)
    assert "EVALEX = false" in remote.text  # no console for a host the debugger does not trust


def test_dev_server_hooks_still_apply(dev_server: tuple[Server, Path]) -> None:
    server, _ = dev_server
    response = requests.get(f"{server.url}/nope", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["X-Request-ID"]


def test_listens_on_loopback_only_without_host(tmp_path: Path) -> None:
    """No HOST (blank is unset): the dev server, debugger and all, binds 127.0.0.1 alone."""
    copy_project(tmp_path)
    port = free_port()
    with serve(tmp_path, ["-m", PACKAGE], {**DEV_ENV, "HOST": ""}, port):
        assert set(tcp_listeners(port)) == {"127.0.0.1"}


def test_refuses_to_run_in_production(tmp_path: Path) -> None:
    copy_project(tmp_path)
    result = run(tmp_path, ["-m", PACKAGE], {"APP_ENV": "production", "SECRET_KEY": SECRET})
    assert result.returncode != 0
    assert "refusing to start the dev server" in result.stderr


def test_bad_port_fails_fast_naming_the_variable(tmp_path: Path) -> None:
    copy_project(tmp_path)
    result = run(tmp_path, ["-m", PACKAGE], {"APP_ENV": "development", "PORT": "eighty"})
    assert result.returncode != 0
    assert (
        result.stderr.strip().splitlines()[-1]
        == "configuration error: PORT: Input should be a valid integer, unable to parse string "
        "as an integer, got 'eighty'"
    )
