"""The overload rows: the service's capacity on its first page of items (wrk, closed-loop, as
many connections as the HTTP rows), then an open-loop load (openloop.py) at 0.5x, 1x and 2x of
it: goodput, the accepted requests' p99, how many were shed (503 + Retry-After), the memory of
the master and its workers before and after, and the first request once the load stops.

`python -m benchmarks.overload --seconds 60` runs these rows alone (`make bench` runs them
with BENCH_OVERLOAD seconds per level)."""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import databases, openloop
from .bake import Bake, bake_defaults
from .common import TEMPLATE, BenchError, say
from .load import run_wrk, write_script
from .servers import Server, descendants, free_port, request, serving
from .throughput import under_conf

PATH = "/api/items"  # the first page: a query and a page of JSON, as most reads are
FACTORS = (0.5, 1.0, 2.0)
ITEMS = 20  # items made before the load, so the page is not empty


def memory(server: Server) -> dict[str, float]:
    """RSS and PSS of the master and its workers, in MiB (PSS shares pages fairly)."""
    totals = {"rss_mb": 0.0, "pss_mb": 0.0}
    pids = descendants(server.process.pid)
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:  # gone meanwhile (a recycled worker)
            continue
        for line in lines:
            name, _, value = line.partition(":")
            if name in ("Rss", "Pss"):
                totals[f"{name.lower()}_mb"] += int(value.split()[0]) / 1024
    return {key: round(value, 1) for key, value in totals.items()} | {"processes": len(pids)}


class PeakMemory(threading.Thread):
    """Samples memory() every half second until stopped; keeps the largest PSS seen."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server, self.stop, self.peak = server, threading.Event(), memory(server)

    def run(self) -> None:
        while not self.stop.wait(0.5):
            if (now := memory(self.server))["pss_mb"] > self.peak["pss_mb"]:
                self.peak = now


def seed(server: Server) -> None:
    """ITEMS items, through the API."""
    for n in range(ITEMS):
        body = json.dumps({"name": f"overload-{time.time_ns()}-{n}", "quantity": 1}).encode()
        status, answer = request(
            server.port, PATH, "POST", body, {"Content-Type": "application/json"}
        )
        if status != 201:
            raise BenchError(f"overload: POST {PATH} answered {status} {answer[:200]!r}")


def measure(
    bake: Bake, workdir: Path, url: str, seconds: int, connections: int, **env: str
) -> dict[str, Any]:
    """Capacity, then each load level for `seconds`; the figures for the JSON report. `env`:
    settings for the server (GUNICORN_QUEUE_TIMEOUT_MS=0 shows the queue without a bound)."""
    port = free_port()
    # Two workers of 4 threads, as a pod of 1 CPU runs them (on this machine's CPUs the bake
    # would start 2 per CPU).
    command = under_conf(bake, port, url, **({"WEB_CONCURRENCY": "2"} | env))
    with serving({"overload": (command, port)}, workdir / "logs") as running:
        server = running["overload"]
        seed(server)
        script = write_script(workdir / "wrk" / "overload.lua", None)
        say("overload: measuring capacity with wrk")
        run_wrk(server.url(PATH), 1, connections, 1, script)  # warm-up
        most = run_wrk(server.url(PATH), max(1, min(seconds, 5)), connections, 1, script)
        capacity = (most.requests - most.error_count) / (most.duration_us / 1e6)
        report: dict[str, Any] = {
            "request": f"GET {PATH}",
            "generator": "open loop: asyncio in 2 processes (benchmarks/openloop.py)",
            "capacity_rps": round(capacity, 1),
            "capacity_p99_ms": round(most.percentile_ms(99), 1),
            "capacity_connections": connections,
            "memory_before": memory(server),
        }
        for factor in FACTORS:
            time.sleep(1)  # whatever the last level left queued is answered by now
            say(f"overload: {factor:g}x capacity ({factor * capacity:.0f} req/s) for {seconds} s")
            sampler = PeakMemory(server)
            outcome = openloop.run(port, PATH, factor * capacity, seconds, sampler.start)
            sampler.stop.set()
            sampler.join()
            report[f"x{factor:g}"] = openloop.summary(outcome, capacity) | {
                "peak_memory": sampler.peak
            }
        started = time.perf_counter()
        status, _ = request(server.port, PATH)
        report["after"] = {"status": status, "ms": round((time.perf_counter() - started) * 1000, 1)}
        report["memory_after"] = memory(server)
    return report


def rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """The table's overload rows (runner's columns: req/s is goodput, errors are shed/failed)."""
    if "capacity_rps" not in report:
        why = report.get("skipped", "not run")
        return [("overload: 0.5x, 1x, 2x capacity", "", "skipped", "", "", "", "", "", why)]
    cap = report["capacity_rps"]
    lines = [(f"overload: capacity, wrk closed-loop, {report['request']}", f"{cap:,.0f}", "",
              f"{report['capacity_p99_ms']:.1f} ms", "", "", "", "", "")]  # fmt: skip
    for factor in FACTORS:
        level = report[f"x{factor:g}"]
        p50, p99 = level["p50_ms"], level["p99_ms"]
        lines.append((
            f"overload: {factor:g}x capacity, {level['offered_rps']:,.0f} req/s offered: goodput",
            f"{level['goodput_rps']:,.0f}",
            "" if p50 is None else f"{p50:.1f} ms",
            "" if p99 is None else f"{p99:.1f} ms",
            f"{level['shed']} shed, {level['failed']} failed",
            "", "", "",
            f"peak PSS {level['peak_memory']['pss_mb']:.0f} MiB",
        ))  # fmt: skip
    before, after = report["memory_before"], report["memory_after"]
    lines.append((
        "overload: memory (PSS, master + workers) before → after; first request after",
        "", f"{before['pss_mb']:.0f} → {after['pss_mb']:.0f} MiB", f"{report['after']['ms']} ms",
        f"status {report['after']['status']}", "", "", "", "",
    ))  # fmt: skip
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Bake the defaults and run only the overload rows (PostgreSQL when Docker or a URL)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overload")
    parser.add_argument("--seconds", type=int, default=60, help="per load level (default 60)")
    parser.add_argument("--connections", type=int, default=32, help="wrk's, for capacity")
    parser.add_argument("--postgres-url", default=None, help="as for python -m benchmarks")
    parser.add_argument("--output", type=Path, default=TEMPLATE / "build" / "overload.json")
    parser.add_argument(
        "--queue-timeout-ms", default=None, help="GUNICORN_QUEUE_TIMEOUT_MS (0: no bound)"
    )
    options = parser.parse_args(argv)
    env = (
        {}
        if options.queue_timeout_ms is None
        else {"GUNICORN_QUEUE_TIMEOUT_MS": options.queue_timeout_ms}
    )
    workdir = TEMPLATE / "build" / "bench-overload"
    bake, _ = bake_defaults(workdir / f"bake-{time.time_ns()}")
    with databases.postgres(options.postgres_url, True) as postgres:
        url = postgres["bench_service"] if postgres else databases.sqlite_urls(bake.path)["service"]
        databases.migrate(bake, [url])
        report = measure(bake, workdir, url, options.seconds, options.connections, **env)
    report["database"] = "PostgreSQL" if postgres else "SQLite"
    report["settings"] = env
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(report, indent=2) + "\n")
    for line in rows(report):
        print(" | ".join(cell for cell in line if cell))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
