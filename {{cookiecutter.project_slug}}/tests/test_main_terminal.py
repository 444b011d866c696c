"""The dev server on a real terminal, where its logs are coloured: `python -m <package>` under a
pseudo-terminal, read as a person reads it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .servers import PACKAGE_DIR, add_route, copy_project, free_port, stop

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out


class Terminal:
    """A process whose stdin, stdout and stderr are a pseudo-terminal; what it shows is kept."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        primary, secondary = pty.openpty()
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=secondary, stdout=secondary, stderr=secondary,
            start_new_session=True,
        )  # fmt: skip
        os.close(secondary)
        self.primary, self.shown = primary, b""
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self) -> None:
        try:
            while self.process.poll() is None or select.select([self.primary], [], [], 0.2)[0]:
                if select.select([self.primary], [], [], 0.2)[0]:
                    self.shown += os.read(self.primary, 65536)
        except OSError:  # the process closed the terminal
            return

    def close(self) -> None:
        """Close the terminal once its reader is done: a descriptor closed under the reader
        would fail its select(), or read whatever file next takes that number."""
        stop(self.process)
        self.thread.join(10)
        os.close(self.primary)

    def text(self) -> str:
        return self.shown.decode(errors="replace")

    def wait_for(self, needle: str, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.text().count(needle) < count:
            assert time.monotonic() < deadline, f"never shown {count}x {needle!r}:\n{self.text()}"
            time.sleep(0.05)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[tuple[Terminal, str, Path]]:
    """The dev server (watchdog reloader, colours on) on a pseudo-terminal; its URL."""
    package_dir = copy_project(tmp_path)
    probe = add_route(package_dir, "probe", "'probe-v1'")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    env.update(
        PYTHONPATH=str(tmp_path / "src"), PYTHONDONTWRITEBYTECODE="1", TERM="xterm",
        APP_ENV="development", RELOADER="watchdog", LOG_FORMAT="text", HOST="127.0.0.1",
        PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite3'}",
    )  # fmt: skip
    shown = Terminal([sys.executable, "-m", PACKAGE_DIR.name], tmp_path, env)
    try:
        yield shown, f"http://127.0.0.1:{port}", probe
    finally:
        shown.close()


def wait_for_body(url: str, needle: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if needle in requests.get(url, timeout=5).text:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} never answered {needle!r}")


def test_request_lines_show_no_escaped_colour_codes(terminal: tuple[Terminal, str, Path]) -> None:
    shown, url, _ = terminal
    wait_for_body(f"{url}/probe", "probe-v1")
    assert requests.get(f"{url}/missing", timeout=5).status_code == 404  # werkzeug styles it
    assert requests.post(f"{url}/api/items", data="{", timeout=5).status_code >= 400
    shown.wait_for('"POST /api/items HTTP/1.1" 4')
    text = shown.text()
    assert '"GET /missing HTTP/1.1" 404' in text
    assert "\x1b[32mINFO" in text  # a terminal: the formatter colours each level
    assert "\\u001b" not in text  # no ANSI code escaped into a line
    assert "\\x1b" not in text


def save(path: Path, text: str) -> None:
    """Save as a person with format-on-save does: the file written a few times in a burst.
    watchdog reports each write, and werkzeug logged each as a reload while the child exited;
    a burst makes several likely, not certain (tests/test_reloading.py pins the rule itself)."""
    for _ in range(5):
        path.write_text(text)
        time.sleep(0.002)


def test_a_saved_file_is_logged_once_and_served(terminal: tuple[Terminal, str, Path]) -> None:
    shown, url, probe = terminal
    wait_for_body(f"{url}/probe", "probe-v1")
    save(probe, probe.read_text().replace("probe-v1", "probe-v2"))
    wait_for_body(f"{url}/probe", "probe-v2")
    shown.wait_for("Debugger PIN", count=2)
    time.sleep(0.5)  # a second line for the same save would follow the first at once
    assert shown.text().count("Detected change in") == 1, shown.text()
    assert shown.text().count(" * Restarting with watchdog") == 2, shown.text()
