"""Edit-reload latency of the dev entrypoint: save a view, time until its new answer is served."""

from __future__ import annotations

import http.client
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bake import Bake
from .common import HOST, BenchError, median, say, tail
from .servers import Command, Server, clean_env, free_port, request, start, stop, wait_for_ok

PROBE = "bench_probe"
PATH = f"/{PROBE}"
SAVE_TIMEOUT = 30.0  # seconds one save may take to be served before the bench gives up
POLL_INTERVAL = 0.005


@dataclass
class Reloads:
    """Seconds from each save to its first response, and the failed connections meanwhile."""

    seconds: list[float] = field(default_factory=list)
    refused: int = 0  # nothing listening: the reloader lost the socket
    dropped: int = 0  # a reply cut short by the child exiting mid-request

    def summary(self) -> dict[str, Any]:
        """The figures for the JSON report."""
        return {
            "saves": len(self.seconds),
            "median_s": round(median(self.seconds), 3),
            "worst_s": round(max(self.seconds), 3),
            "refused": self.refused,
            "dropped": self.dropped,
            "seconds": [round(s, 3) for s in self.seconds],
        }


def probe_source(version: int) -> str:
    """A route module whose single view answers with its version."""
    return (
        "from flask import Blueprint\n\n"
        f"bp = Blueprint({PROBE!r}, __name__)\n\n\n"
        f"@bp.get({PATH!r})\n"
        f"def view() -> str:\n    return 'version {version}.'\n"
    )


def copy_bake(bake: Bake, dest: Path) -> Path:
    """Copy the bake's source to dest and add the probe view; the probe module's path."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(bake.src, dest / "src", ignore=shutil.ignore_patterns("__pycache__"))
    probe = dest / "src" / bake.package / "routes" / f"{PROBE}.py"
    probe.write_text(probe_source(0))
    return probe


def dev_command(bake: Bake, copy: Path, port: int, reloader: str) -> Command:
    """The dev entrypoint on the copy, with the chosen reloader."""
    env = clean_env(
        APP_ENV="development",
        RELOADER=reloader,
        HOST=HOST,
        PORT=str(port),
        PYTHONPATH=str(copy / "src"),
    )
    return Command((sys.executable, "-m", bake.package), copy, env)


def poll_until(server: Server, needle: bytes, reloads: Reloads) -> float:
    """GET the probe on new connections until the body holds needle; when it first did."""
    deadline = time.perf_counter() + SAVE_TIMEOUT
    while time.perf_counter() < deadline:
        try:
            status, body = request(server.port, PATH, timeout=SAVE_TIMEOUT)
            if status == 200 and needle in body:
                return time.perf_counter()
        except ConnectionRefusedError:
            reloads.refused += 1
        except (OSError, http.client.HTTPException):
            reloads.dropped += 1
        time.sleep(POLL_INTERVAL)
    raise BenchError(
        f"{server.name}: {needle!r} not served within {SAVE_TIMEOUT:.0f} s:\n{tail(server.log)}"
    )


def measure_one(bake: Bake, workdir: Path, reloader: str, saves: int) -> Reloads:
    """Serve a copy with `reloader`, then save `saves` new versions of the view, one at a time."""
    copy = workdir / f"reload-{reloader}"
    probe = copy_bake(bake, copy)
    # Saves land at random points of the stat reloader's 1 s cycle, as a person's would.
    pause = random.Random(f"{reloader}-{saves}")
    reloads = Reloads()
    port = free_port()
    server = start(
        f"dev-{reloader}",
        dev_command(bake, copy, port, reloader),
        port,
        workdir / "logs" / f"reload-{reloader}.log",
    )
    try:
        wait_for_ok(server)
        poll_until(server, b"version 0.", reloads)
        for version in range(1, saves + 1):
            time.sleep(pause.uniform(0.25, 1.25))
            probe.write_text(probe_source(version))
            saved = time.perf_counter()
            reloads.seconds.append(
                poll_until(server, f"version {version}.".encode(), reloads) - saved
            )
    finally:
        stop(server)
    return reloads


def measure(bake: Bake, workdir: Path, saves: int) -> dict[str, dict[str, Any]]:
    """Reload latency with each reloader the dev entrypoint offers."""
    results = {}
    for reloader in ("watchdog", "stat"):
        say(f"reload: {saves} saves with the {reloader} reloader")
        results[reloader] = measure_one(bake, workdir, reloader, saves).summary()
    return results
