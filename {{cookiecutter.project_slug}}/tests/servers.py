"""Run the real servers (run_simple, gunicorn) as subprocesses on free ports, from a copy of the
source that a test may edit, and talk to them over loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

import {{ cookiecutter.package_name }} as package

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(package.__file__).resolve().parent
SECRET = "s" * 48


_GIVEN: set[int] = set()  # ports handed out already: a server may not have bound its own yet


def free_port() -> int:
    """A loopback port nothing listens on, that no other process gets from the kernel for a while.

    A port closed straight after `bind(0)` is free for anyone: another test process running
    beside this one could be handed it before our server binds it, and then talk to the wrong
    server. So the port is left in TIME_WAIT (the side that closes first keeps it for 60 s), where
    the kernel hands it to no `bind(0)` or outgoing connection, while a server that sets
    SO_REUSEADDR, as gunicorn, Werkzeug and Node do, still binds it.
    """
    while True:
        with socket.socket() as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            address = listener.getsockname()
            with socket.socket() as client:
                client.connect(address)
                accepted, _ = listener.accept()
                accepted.close()  # closed first: TIME_WAIT is on our port's side
        port = int(address[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def copy_project(dest: Path) -> Path:
    """Copy the package, gunicorn.conf.py and the migrations (if any: /readyz compares the
    database's revision with theirs) under dest; return the copied package directory."""
    target = dest / "src" / PACKAGE_DIR.name
    shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT / "gunicorn.conf.py", dest)
    if (PROJECT / "alembic.ini").is_file():
        shutil.copy(PROJECT / "alembic.ini", dest)
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(PROJECT / "migrations", dest / "migrations", ignore=ignore)
    return target


def add_route(package_dir: Path, name: str, body: str) -> Path:
    """Write routes/<name>.py with a blueprint whose single view returns `body` (Python code)."""
    path = package_dir / "routes" / f"{name}.py"
    source = (
        "from flask import Blueprint\n\n"
        f"bp = Blueprint({name!r}, __name__)\n\n\n"
        f"@bp.get('/{name}')\n"
        f"def view():\n    return {body}\n"
    )
    path.write_text(source)
    return path


@dataclass
class Server:
    """A server subprocess with its logs on disk."""

    process: subprocess.Popen[bytes]
    url: str
    stdout: Path
    stderr: Path

    def logs(self) -> tuple[str, str]:
        """Everything the process has written so far to stdout and stderr."""
        return self.stdout.read_text(), self.stderr.read_text()


@contextmanager
def serve(workdir: Path, args: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    """Start `python <args>` in workdir with PYTHONPATH on its src/, wait for /healthz, stop it."""
    full_env = {
        **os.environ,
        "PYTHONPATH": str(workdir / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "METRICS_PORT": str(free_port()),  # metrics on, as by default, without sharing a port
        # Production wants a database URL; a service without a database ignores it.
        "DATABASE_URL": f"sqlite:///{workdir / 'app.sqlite3'}",
        **env,
    }
    out, err = workdir / "stdout.log", workdir / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=workdir,
            env=full_env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", out, err)
    try:
        wait_until_up(server)
        yield server
    finally:
        stop(process)


def wait_until_up(server: Server, timeout: float = 30) -> None:
    """Poll /healthz until it answers; fail with the server's logs if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited {server.process.returncode}: {server.logs()}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # refused before the bind, or slow at first start
            pass
        time.sleep(0.05)
    raise AssertionError(f"server did not answer within {timeout}s: {server.logs()}")


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """SIGTERM the process group, as a container runtime would; SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


def run(
    workdir: Path, args: list[str], env: dict[str, str], timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run `python <args>` to completion (for start-up failures) and capture its output."""
    full_env = {
        **os.environ,
        "PYTHONPATH": str(workdir / "src"),
        "DATABASE_URL": f"sqlite:///{workdir / 'app.sqlite3'}",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=workdir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
