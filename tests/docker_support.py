"""Docker helpers: find an engine (skip, or fail where CI provisioned one), drive compose."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from benchmarks.servers import free_port

from .helpers import require, run

BASE_IMAGE = os.environ.get("PYTHON_IMAGE", "")
POSTGRES_IMAGE = os.environ.get("POSTGRES_IMAGE", "")


def engine_problem() -> str | None:
    """Why no Docker engine with Compose v2 answers here, or None when one does."""
    for command in (["docker", "info"], ["docker", "compose", "version"]):
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(command)}: {exc}"
        if result.returncode != 0:
            return f"{' '.join(command)} failed: {result.stderr.strip()[:200]}"
    return None


DOCKER_INSTALL = (
    "install Docker Engine with the Compose v2 plugin (https://docs.docker.com/engine/install/) "
    "and start it"
)


def require_engine() -> None:
    """Skip with the reason where no engine answers; fail instead where CI provisioned one."""
    problem = engine_problem()
    require(problem and f"no Docker engine: {problem}", DOCKER_INSTALL, "REQUIRE_DOCKER")


@dataclass
class Stack:
    """A baked project under docker compose, with its own project name and host ports."""

    project: Path
    name: str
    http_port: int
    dev_port: int
    provider_port: int = field(default_factory=free_port)
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {
            "COMPOSE_PROJECT_NAME": self.name,
            "IMAGE_NAME": self.name,  # stacks built side by side never share a tag
            "HTTP_PORT": str(self.http_port),
            "DEV_PORT": str(self.dev_port),
            "PROVIDER_PORT": str(self.provider_port),
        }
        if BASE_IMAGE:
            env["PYTHON_IMAGE"] = BASE_IMAGE
        if POSTGRES_IMAGE:
            env["POSTGRES_IMAGE"] = POSTGRES_IMAGE
        return env

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run `docker compose <args>` in the project; fail with its output on error."""
        return run(["docker", "compose", *args], self.project, env=self.env, timeout=timeout)

    def timed(self, label: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a compose command and keep how long it took as a figure."""
        started = time.monotonic()
        result = self.compose(*args)
        self.figures[label] = round(time.monotonic() - started, 2)
        return result

    def tear_down(self) -> None:
        """Containers, volumes and this stack's own images go; shared base images stay."""
        self.compose("--profile", "*", "down", "--volumes", "--remove-orphans", timeout=120)
        tags = [f"{self.name}:latest", f"{self.name}:dev"] + [
            f"{self.name}-{part}:latest" for part in ("provider", "pooler")
        ]
        subprocess.run(["docker", "image", "rm", *tags], capture_output=True, check=False)

    def container(self, service: str) -> str:
        """The container id of a service."""
        return self.compose("ps", "--all", "--quiet", service).stdout.strip()

    def inspect(self, service: str, template: str) -> str:
        """`docker inspect --format` on a service's container."""
        return run(
            ["docker", "inspect", "--format", template, self.container(service)], self.project
        ).stdout.strip()


class Poller:
    """GET a URL in a loop from a thread, keeping bodies and counting refused connections."""

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
            time.sleep(0.05)

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in body for body in self.bodies[-5:]):
                return
            time.sleep(0.1)
        raise AssertionError(f"never saw {needle!r}; last: {self.bodies[-1:]!r}")

    def stop(self) -> None:
        self.running = False
        self.thread.join()


def wait_for_http(url: str, timeout: float = 60) -> requests.Response:
    """Poll a URL until it answers at all. A read timeout is no answer yet: the dev server's
    reloader holds the socket while its child imports the app, so a connection can wait there for
    a few seconds on a busy machine before it is served."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=5)
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def image_size(image: str) -> int:
    """An image's size in bytes."""
    result = run(["docker", "image", "inspect", "--format", "{{.Size}}", image], Path.cwd())
    return int(result.stdout.strip())
