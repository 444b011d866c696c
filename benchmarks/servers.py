"""Servers as subprocesses on free loopback ports: start, wait for a 200, talk to, stop."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import cpuclock
from .common import HOST, BenchError, tail

# The bench measures the defaults: none of the service's variables may leak in from the shell.
SCRUBBED = frozenset(
    {
        "APP_ENV",
        "SECRET_KEY",
        "LOG_LEVEL",
        "HOST",
        "PORT",
        "WEB_CONCURRENCY",
        "MAX_CONTENT_LENGTH",
        "TRUSTED_PROXY_COUNT",
        "FORWARDED_ALLOW_IPS",
        "RELOADER",
        "PYTHONPATH",
        "METRICS_PORT",
        "PROMETHEUS_MULTIPROC_DIR",
    }
)
SCRUBBED_PREFIXES = ("GUNICORN_", "WERKZEUG_", "OTEL_")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the service's variables, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SCRUBBED and not key.startswith(SCRUBBED_PREFIXES)
    }
    env["METRICS_PORT"] = str(free_port())  # metrics on, as by default, a port per server
    env["AUTH_DISABLED"] = "1"  # tokens off by their switch, as behind a gateway; auth rows: on
    env.update(extra)
    return env


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
            listener.bind((HOST, 0))
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


@dataclass(frozen=True)
class Command:
    """A server's command line, working directory and full environment."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]


@dataclass
class Server:
    """A running server: its process group, port and log file."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    cgroup: Path | None = None  # its own, where the bench may make one: exact CPU time

    def url(self, path: str) -> str:
        """The loopback URL of a path on this server."""
        return f"http://{HOST}:{self.port}{path}"

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server, its live children and the children it reaped."""
        if self.cgroup is not None:
            return cpuclock.usage_seconds(self.cgroup)
        return process_ticks(self.process.pid) / CLOCK_TICKS


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def descendants(pid: int) -> list[int]:
    """A process and its live descendants (zombies included until reaped), parents first."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid, *(p for child in children for p in descendants(int(child)))]


def own_ticks(pid: int) -> int:
    """CPU clock ticks of a process plus those of the children it has reaped; 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    # After the command: utime, stime, cutime and cstime are the 12th to 15th fields.
    return sum(int(field) for field in fields[11:15])


def process_ticks(pid: int) -> int:
    """CPU clock ticks of a server's whole tree, recycled workers included, read consistently."""
    # A worker reaped between two reads would be counted twice or not at all: read again
    # until the tree is the same before and after.
    for _ in range(50):
        tree = descendants(pid)
        ticks = sum(own_ticks(p) for p in tree)
        if descendants(pid) == tree:
            return ticks
    return ticks


def start(name: str, command: Command, port: int, log: Path) -> Server:
    """Start a server in its own session, stdout and stderr to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command.argv,
            cwd=command.cwd,
            env=dict(command.env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(name, process, port, log, cpuclock.own_cgroup(name, process.pid))


def stop(server: Server, timeout: float = 30) -> None:
    """SIGTERM the server's process group (as a container runtime would), SIGKILL if it lingers."""
    process = server.process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    cpuclock.remove(server.cgroup)


def request(
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    """One request on a new loopback connection: the status and the body."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_for_ok(server: Server, path: str = "/healthz", timeout: float = 60) -> float:
    """Poll `path` until it answers 200; the seconds that took, or BenchError with the log."""
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"{server.name} exited {server.process.returncode}:\n{tail(server.log)}"
            )
        try:
            if (
                request(server.port, path, timeout=max(deadline - time.perf_counter(), 0.1))[0]
                == 200
            ):
                return time.perf_counter() - started
        except (OSError, http.client.HTTPException):  # not bound yet, or a worker still booting
            pass
        time.sleep(0.01)
    raise BenchError(
        f"{server.name} gave no 200 on {path} within {timeout:.0f} s:\n{tail(server.log)}"
    )


@contextmanager
def serving(specs: Mapping[str, tuple[Command, int]], logs: Path) -> Iterator[dict[str, Server]]:
    """Start every server at once, wait until each answers, and stop them all afterwards."""
    servers: dict[str, Server] = {}
    try:
        for name, (command, port) in specs.items():
            servers[name] = start(name, command, port, logs / f"{name}.log")
        for server in servers.values():
            wait_for_ok(server)
        yield servers
    finally:
        for server in servers.values():
            stop(server)
