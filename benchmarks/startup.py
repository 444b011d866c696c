"""Start-up (gunicorn, docker compose up) and the image's size on top of its base."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from .bake import Bake
from .common import BenchError, median, say
from .databases import sqlite_urls
from .servers import Command, free_port, start, stop, wait_for_ok
from .throughput import under_conf

MB = 1_000_000


# Prints, one per line, every module from outside the bake's own package that importing the
# app under gunicorn loaded, in the order they were loaded (a parent before its children).
LIBRARIES = """
import sys, gunicorn.app.wsgiapp, gunicorn.arbiter, gunicorn.workers.gthread, {package}.wsgi
for name, module in list(sys.modules.items()):
    where = getattr(module, "__file__", None) or ""
    if "site-packages" in where and not name.startswith("{package}"):
        print(name)
"""

# Imports those modules and nothing else: what any app on the same libraries pays at start-up.
# Without garbage collection, as gunicorn.conf.py imports the app.
IMPORT_ONLY = """
import gc, importlib, sys
gc.disable()
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:  # an alias that is not importable on its own (it came with its parent)
        pass
"""


def library_modules(command: Command, package: str) -> list[str]:
    """The third-party modules (gunicorn's included) that the service's start-up imports."""
    argv = (command.argv[0], "-c", LIBRARIES.format(package=package))
    result = subprocess.run(
        argv, cwd=command.cwd, env=dict(command.env), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BenchError(f"listing the start-up's imports failed: {result.stderr[-500:]}")
    return result.stdout.split()


def import_seconds(command: Command, modules: list[str]) -> float:
    """Wall seconds of a fresh interpreter importing `modules`, start-up and exit included."""
    started = time.perf_counter()
    subprocess.run(
        (command.argv[0], "-c", IMPORT_ONLY, *modules),
        cwd=command.cwd,
        env=dict(command.env),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def gunicorn_start(bake: Bake, workdir: Path, starts: int) -> dict[str, Any]:
    """Seconds from starting `gunicorn -c gunicorn.conf.py` to the first 200 from /healthz, and
    the floor under them: the same libraries imported with no app (alternating with the starts,
    so both see the same machine). What the starts take above the floor is the service's own."""
    seconds, floor, url = [], [], sqlite_urls(bake.path)["service"]
    modules = library_modules(under_conf(bake, free_port(), url), bake.package)
    for number in range(starts):
        port = free_port()
        log = workdir / "logs" / f"start-{number}.log"
        command = under_conf(bake, port, url)
        floor.append(import_seconds(command, modules))
        started = time.perf_counter()
        server = start(f"start-{number}", command, port, log)
        try:
            wait_for_ok(server)
            seconds.append(time.perf_counter() - started)
        finally:
            stop(server)
    return {
        "starts": starts,
        "median_s": round(median(seconds), 3),
        "worst_s": round(max(seconds), 3),
        "seconds": [round(s, 3) for s in seconds],
        "libraries": len(modules),
        "floor_median_s": round(median(floor), 3),
        "floor_worst_s": round(max(floor), 3),
    }


def docker_problem() -> str | None:
    """Why no Docker engine with Compose v2 answers here, or None when one does."""
    for argv in (["docker", "info"], ["docker", "compose", "version"]):
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(argv)}: {exc}"
        if result.returncode != 0:
            return f"{' '.join(argv)} failed: {result.stderr.strip()[:200]}"
    return None


def docker(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    """Run a docker command; its stdout, or BenchError with its stderr."""
    result = subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(
            f"{' '.join(argv[:4])} exited {result.returncode}: {result.stderr.strip()[-500:]}"
        )
    return result.stdout


def quietly(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run a clean-up command whatever happened before; its failure must not hide that."""
    subprocess.run(
        argv, cwd=cwd, env={**os.environ, **env}, capture_output=True, timeout=120, check=False
    )


def image_bytes(image: str, cwd: Path) -> int:
    """`docker image inspect` .Size of an image."""
    return int(docker(["docker", "image", "inspect", "--format", "{{.Size}}", image], cwd, {}, 60))


def base_image(bake: Bake) -> str:
    """The Python base image the build uses: PYTHON_IMAGE, else the bake's public default."""
    return os.environ.get("PYTHON_IMAGE") or f"python:{bake.python_version}-slim"


def base_image_problem(image: str) -> str | None:
    """Why the base image can be neither found locally nor pulled, or None when it is there."""
    try:
        docker(["docker", "image", "inspect", image], Path.cwd(), {}, 60)
        return None
    except BenchError:
        pass
    try:
        docker(["docker", "pull", "--quiet", image], Path.cwd(), {}, 300)
    except (BenchError, subprocess.TimeoutExpired) as exc:
        return f"base image {image} is not here and cannot be pulled: {str(exc)[:200]}"
    return None


def compose_up(bake: Bake) -> dict[str, Any]:
    """Build the image under a tag of its own, time `docker compose up` to healthy, tear down."""
    name = f"bench{uuid.uuid4().hex[:10]}"
    tag = f"{name}:latest"  # never the project's own tag, which tests may share
    base = base_image(bake)
    env = {
        "COMPOSE_PROJECT_NAME": name,
        "IMAGE_NAME": name,
        "HTTP_PORT": str(free_port()),
        "PYTHON_IMAGE": base,
    }
    compose = ["docker", "compose"]
    try:
        say(f"docker: building the image on {base}")
        started = time.perf_counter()
        docker([*compose, "build", "web"], bake.path, env, 1800)
        build_s = time.perf_counter() - started
        say("docker: compose up, waiting for healthy")
        started = time.perf_counter()
        docker([*compose, "up", "--detach", "--wait", "web"], bake.path, env, 300)
        up_s = time.perf_counter() - started
        size, base_size = image_bytes(tag, bake.path), image_bytes(base, bake.path)
    finally:
        down = ["down", "--volumes", "--timeout", "30", "--remove-orphans"]
        quietly([*compose, *down], bake.path, env)
        quietly(["docker", "image", "rm", tag], bake.path, env)
    return {
        "build_s": round(build_s, 2),
        "up_to_healthy_s": round(up_s, 2),
        "base_image": base,
        "image_bytes": size,
        "base_bytes": base_size,
        "added_mb": round((size - base_size) / MB, 1),
    }
