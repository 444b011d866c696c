"""`make layers`: the CPU time each layer of the service costs per request, read inside its
gunicorn workers, beside bare Flask's. A comparison of two servers' CPU (`make bench`) cannot
resolve one layer on a shared machine; a clock of the calling thread's CPU time
(`benchmarks/inworker.py`) leaves wrk, the other workers and the other threads out."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from . import databases
from .bake import bake_defaults, baked
from .common import BenchError, say
from .inworker import timed
from .load import run_wrk, write_script
from .servers import free_port, request, serving
from .throughput import under_conf

SERVICE = "benchmarks.inworker:service()"
ITEM = b'{"name": "layers", "quantity": 2}'
JSON = {"Content-Type": "application/json"}


class Route(NamedTuple):
    """What the service is asked, and the baseline that answers the same without the layers."""

    path: str
    baseline: str
    baseline_app: str
    baseline_path: str
    method: str = "GET"
    script: str | None = None  # the wrk Lua that sets the request up


ROUTES = {
    "healthz": Route("/healthz", "bare Flask", "benchmarks.inworker:bare_flask()", "/healthz"),
    "item": Route(
        "/api/items/1", "bare Flask+SQLAlchemy", "benchmarks.inworker:bare_sqlalchemy()", "/items/1"
    ),
    "create": Route(
        "/api/items",
        "bare Flask+SQLAlchemy",
        "benchmarks.inworker:bare_sqlalchemy()",
        "/items",
        "POST",
        "post_item.lua",
    ),
}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The route, the load and the bake."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__)
    parser.add_argument(
        "--route",
        choices=ROUTES,
        default="healthz",
        help="GET /healthz, GET one item or create items (SQLite)",
    )
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds per app")
    parser.add_argument("--seconds", type=int, default=2, help="seconds of load per round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--bake", type=Path, help="an existing bake of the defaults")
    return parser.parse_args(argv)


def totals(directory: Path) -> tuple[int, dict[str, int]]:
    """Requests and CPU nanoseconds per timed name, summed over the workers' reports."""
    requests, ns = 0, {}
    for report in directory.glob("[0-9]*.json"):
        figures = json.loads(report.read_text())
        requests += figures["requests"]
        for name, spent in figures["ns"].items():
            ns[name] = ns.get(name, 0) + spent
    if not requests:
        raise BenchError(f"no worker reported to {directory}")
    return requests, ns


def timer_cost() -> float:
    """µs one clock adds to the figure around it, measured here on a call that does nothing."""
    nothing = timed("calibration", lambda: None)
    started, calls = time.thread_time_ns(), 100_000
    for _ in range(calls):
        nothing()
    return (time.thread_time_ns() - started) / calls / 1000


def table(
    figures: dict[str, tuple[int, dict[str, int]]], options: argparse.Namespace, clock_us: float
) -> str:
    """µs per request of every timed name, outermost first, service beside its baseline."""
    route = ROUTES[options.route]
    baseline = route.baseline
    per_request = {
        app: {name: spent / requests / 1000 for name, spent in ns.items()}
        for app, (requests, ns) in figures.items()
    }
    service, bare = per_request["service"], per_request[baseline]
    names = sorted(service | bare, key=lambda name: -max(service.get(name, 0), bare.get(name, 0)))
    lines = [
        f"CPU time per request inside the workers, {route.method} {route.path} (baseline: "
        f"{baseline}, {route.method} {route.baseline_path}): {options.rounds} rounds x "
        f"{options.seconds} s per app, {options.connections} connections; a clock includes the "
        f"clocks inside it, each of which adds about {clock_us:.2f} µs.",
        "",
        f"| timed (with everything it calls) | service µs | {baseline} µs | difference µs |",
        "| --- | --- | --- | --- |",
    ]
    for name in names:
        mine, theirs = service.get(name), bare.get(name)
        cells = [f"{v:.1f}" if v is not None else "" for v in (mine, theirs)]
        difference = f"{mine - theirs:+.1f}" if mine is not None and theirs is not None else ""
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {difference} |")
    requests = ", ".join(f"{app} {count:,}" for app, (count, _) in figures.items())
    lines.append(f"\nRequests counted: {requests}.")
    return "\n".join(lines)


def measure(options: argparse.Namespace, work: Path) -> dict[str, tuple[int, dict[str, int]]]:
    """Serve both apps under gunicorn.conf.py, load them in turn, and read the workers' totals."""
    bake = baked(options.bake) if options.bake else bake_defaults(work / "bake")[0]
    route = ROUTES[options.route]
    apps = {
        "service": (SERVICE, route.path),
        route.baseline: (route.baseline_app, route.baseline_path),
    }
    urls = databases.sqlite_urls(work)
    databases.migrate(bake, urls.values())
    specs, reports = {}, {}
    for (name, (app, _)), url in zip(apps.items(), urls.values(), strict=True):
        reports[name] = work / f"report-{len(reports)}"
        reports[name].mkdir()
        port = free_port()
        command = under_conf(bake, port, url, app, BENCH_LAYERS_DIR=str(reports[name]))
        specs[name] = (command, port)
    script = write_script(work / "load.lua", route.script)
    with serving(specs, work / "logs") as servers:
        if options.route == "item":  # the item the GETs read: the first created, id 1
            for name, (_, target) in apps.items():
                collection = target.rsplit("/", 1)[0]
                status, _ = request(servers[name].port, collection, "POST", ITEM, JSON)
                if status != 201:
                    raise BenchError(f"{name}: POST {collection} answered {status}, not 201")
        for round_ in range(options.rounds):
            say(f"round {round_ + 1}/{options.rounds}: {options.seconds} s on each app")
            for name, (_, target) in apps.items():
                run_wrk(servers[name].url(target), options.seconds, options.connections, 1, script)
    return {name: totals(directory) for name, directory in reports.items()}  # after the exits


def main(argv: Sequence[str] | None = None) -> int:
    """Bake (unless given one), measure, print the table."""
    options = parse(argv)
    with tempfile.TemporaryDirectory(prefix="layers-") as scratch:
        try:
            figures = measure(options, Path(scratch))
        except BenchError as error:
            print(f"layers: {error}", file=sys.stderr)
            return 1
    print(table(figures, options, timer_cost()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
