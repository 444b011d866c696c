"""Run the whole suite and print one table; the knobs are options or BENCH_* variables."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import auth, databases, machine, overload, reload, scale, startup, table, throughput
from .bake import Bake, bake_defaults
from .common import TEMPLATE, BenchError, say
from .load import wrk_binary

MARKER = ".bench-workdir"


def env_int(name: str, default: int) -> int:
    """An integer knob from the environment."""
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"bench: {name} must be an integer, got {raw!r}") from None


# (option, default, what it sets); each also reads BENCH_<OPTION> from the environment.
KNOBS = (
    ("duration", 10, "seconds of load per HTTP row"),
    ("connections", 32, "wrk connections, the same for every row"),
    ("slice", 1, "seconds per interleaved slice of a row's load"),
    ("warmup", 1, "seconds of unmeasured load on each server first (0: none)"),
    ("threads", 1, "wrk threads (the rest of the CPU is the servers')"),
    ("saves", 10, "saves per reloader in the reload benchmark"),
    ("starts", 3, "gunicorn start-ups timed"),
    ("scale_rows", 1_000_000, "items in the scale rows' large table (0: no scale rows)"),
    ("overload", 10, "seconds at each of 0.5x, 1x and 2x capacity (0: no overload rows)"),
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options, each defaulting to its BENCH_* variable, then to the documented default."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Bake the template's defaults, load them on loopback, print one table.",
        epilog="Each option also reads a BENCH_* variable: `make bench BENCH_DURATION=30`.",
    )
    for name, default, what in KNOBS:
        variable = f"BENCH_{name.upper()}"
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=int,
            default=env_int(variable, default),
            help=f"{what} ({variable}, default {default})",
        )
    parser.add_argument(
        "--no-docker",
        dest="docker",
        action="store_false",
        default=os.environ.get("BENCH_DOCKER", "1") not in ("0", "no", "false"),
        help="skip the Docker rows (BENCH_DOCKER=0)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL") or None,
        help="a PostgreSQL server for the database rows, as a user who may create databases "
        "(BENCH_POSTGRES_URL; default: a throw-away container when Docker answers)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(os.environ.get("BENCH_OUTPUT") or TEMPLATE / "build" / "bench.json"),
        help="the JSON report (BENCH_OUTPUT, default build/bench.json)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(os.environ.get("BENCH_WORKDIR") or TEMPLATE / "build" / "bench"),
        help="the bake, logs and copies; cleared each run (BENCH_WORKDIR, default build/bench)",
    )
    options = parser.parse_args(argv)
    for name, _, _ in KNOBS:
        if getattr(options, name) < (0 if name in ("warmup", "scale_rows", "overload") else 1):
            parser.error(f"--{name} is too small: {getattr(options, name)}")
    if 0 < options.scale_rows <= scale.SMALL:
        parser.error(f"--scale-rows must be 0 or above {scale.SMALL:,}: {options.scale_rows}")
    return options


def fresh_workdir(path: Path) -> Path:
    """An empty work directory: one of ours is cleared, anything else is refused."""
    path = path.resolve()
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise BenchError(f"{path} is not empty and not a bench work directory; pick another")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("made by `make bench`; cleared on the next run\n")
    return path


def settings(options: argparse.Namespace) -> dict[str, Any]:
    """The knobs of this run, for the JSON report."""
    knobs = {name: getattr(options, name) for name, _, _ in KNOBS}
    return knobs | {"docker": options.docker, "postgres_url_given": bool(options.postgres_url)}


def docker_part(options: argparse.Namespace, bake: Bake) -> dict[str, Any]:
    """The Docker figures, or why there are none (no engine or base image: skipped; a failure:
    failed)."""
    if not options.docker:
        return {"skipped": "turned off (--no-docker / BENCH_DOCKER=0)"}
    problem = startup.docker_problem()
    if problem is not None:
        say(f"skipping the Docker rows: {problem}")
        return {"skipped": f"no Docker engine answers: {problem}"}
    problem = startup.base_image_problem(startup.base_image(bake))
    if problem is not None:
        say(f"skipping the Docker rows: {problem}")
        return {"skipped": problem}
    try:
        return startup.compose_up(bake)
    except (BenchError, OSError, subprocess.TimeoutExpired) as exc:
        say(f"Docker rows failed: {exc}")
        return {"failed": str(exc).splitlines()[0]}


def overload_part(
    options: argparse.Namespace, bake: Bake, workdir: Path, postgres: dict[str, str] | None
) -> dict[str, Any]:
    """The overload rows on the service's database (PostgreSQL when there is one)."""
    if not options.overload:
        return {"skipped": "turned off (--overload=0 / BENCH_OVERLOAD=0)"}
    url = postgres["bench_service"] if postgres else databases.sqlite_urls(bake.path)["service"]
    report = overload.measure(
        bake, workdir / "overload", url, options.overload, options.connections
    )
    return report | {"database": "PostgreSQL" if postgres else "SQLite"}


def run(options: argparse.Namespace) -> dict[str, Any]:
    """Every measurement, in order; the JSON report."""
    workdir = fresh_workdir(options.workdir)
    report: dict[str, Any] = {"settings": settings(options), "machine": machine.describe()}
    say("baking the defaults with cookiecutter")
    bake, bake_s = bake_defaults(workdir / "bake")
    report["generation"] = {"bake_s": round(bake_s, 3)}
    plan = throughput.LoadPlan(
        options.duration, options.connections, options.slice, options.warmup, options.threads
    )
    problem = auth.problem()
    if problem is not None:
        say(f"skipping the authenticated row: {problem}")
        report["auth"] = {"skipped": problem}
    with databases.postgres(options.postgres_url, options.docker) as postgres:
        report["http"] = throughput.measure(
            bake, workdir, plan, postgres, options.scale_rows, with_auth=problem is None
        )
        report["overload"] = overload_part(options, bake, workdir, postgres)
    report["reload"] = reload.measure(bake, workdir, options.saves)
    say(f"start-up: {options.starts} gunicorn starts")
    report["startup"] = {"gunicorn": startup.gunicorn_start(bake, workdir, options.starts)}
    report["docker"] = docker_part(options, bake)
    report["machine"]["load_average_end"] = round(os.getloadavg()[0], 2)
    clocks = {row["cpu_clock"] for row in report["http"].values()}
    report["machine"]["cpu_clock"] = clocks.pop() if len(clocks) == 1 else "mixed"
    report["targets"] = table.evaluate(report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite, write the JSON, print the machine line and the table; 1 on failure."""
    options = parse(argv)
    try:
        wrk_binary()  # before anything slow: a missing wrk is one line and a non-zero exit
        report = run(options)
    except (BenchError, subprocess.TimeoutExpired) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"machine: {machine.line(report['machine'])}")
    print(table.render(report))
    say(f"figures written to {options.output}")
    return 1 if "failed" in report["docker"] else 0
