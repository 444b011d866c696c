"""`python -m benchmarks.versus REF`: this template's service against the one an earlier commit
bakes, route by route, by server CPU per request; judged against the 5 % a change may cost.

Both bakes serve at once under their own `gunicorn.conf.py`, with the same production settings;
each route of the two is loaded back to back in every round (in a shuffled order), so a pair is
measured about a second apart and each round gives one ratio, as `make bench` judges its rows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import cpu, databases
from .bake import Bake, bake_defaults
from .common import TEMPLATE, BenchError, say
from .load import Load, write_script, wrk_binary
from .runner import fresh_workdir
from .servers import free_port, serving
from .throughput import LoadPlan, Row, check_answer, load_once, slices, under_conf

LIMIT = 1.05
ROUTES = (
    Row("healthz", "GET /healthz"),
    Row("post_items", "POST /api/items, SQLite", "POST", "/api/items", "post_item.lua"),
    Row("get_item", "GET /api/items/1, SQLite", "GET", "/api/items/1"),
)
POSTGRES_ROUTES = (
    Row("post_items_pg", "POST /api/items, PostgreSQL", "POST", "/api/items", "post_item.lua"),
    Row("get_item_pg", "GET /api/items/1, PostgreSQL", "GET", "/api/items/1"),
    Row(
        "patch_item_pg", "PATCH /api/items/1, PostgreSQL", "PATCH", "/api/items/1", "patch_item.lua"
    ),
)
SIDES = ("after", "before")


def checkout(ref: str, into: Path) -> Path:
    """The template as commit `ref` has it (`git archive`), in a directory of its own."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(TEMPLATE), "archive", ref], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise BenchError(f"git archive {ref}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def measure(bakes: dict[str, Bake], workdir: Path, plan: LoadPlan, pg: dict[str, str] | None):
    """Each route's rounds of CPU per request on both sides: {side: {route key: Load}}."""
    routes = ROUTES + (POSTGRES_ROUTES if pg else ())
    urls = {side: databases.sqlite_urls(bakes[side].path)["service"] for side in SIDES}
    pg_urls = dict(zip(SIDES, (pg or {}).values(), strict=False))
    for side in SIDES:
        databases.migrate(bakes[side], [urls[side], *([pg_urls[side]] if pg else [])])
    specs = {}
    for side in SIDES:
        for row in routes:
            url = pg_urls[side] if row.key.endswith("_pg") else urls[side]
            port = free_port()
            specs[f"{side}_{row.key}"] = (under_conf(bakes[side], port, url), port)
    script = {r.key: write_script(workdir / "wrk" / f"{r.key}.lua", r.script) for r in routes}
    loads = {key: Load() for key in specs}
    with serving(specs, workdir / "logs") as servers:
        for row in routes:  # the POST check creates item 1, which the GET row reads
            for side in SIDES:
                check_answer(row, servers[f"{side}_{row.key}"])
        for key, server in servers.items():  # unmeasured: imports, caches, pools warm up
            row = next(row for row in routes if key.endswith(f"_{row.key}"))
            load_once(row, server, script[row.key], plan, 1)
        order = random.Random(0)
        for number, seconds in enumerate(slices(plan.duration, plan.slice), 1):
            say(f"round {number}/{plan.duration // plan.slice}: {len(specs)} servers")
            for row in order.sample(routes, len(routes)):
                for side in order.sample(SIDES, 2):
                    key = f"{side}_{row.key}"
                    loads[key].add(load_once(row, servers[key], script[row.key], plan, seconds))
    return {row.key: (row, loads[f"after_{row.key}"], loads[f"before_{row.key}"]) for row in routes}


def report(measured: dict[str, Any]) -> dict[str, Any]:
    """Per route: each side's CPU per request and the after/before ratio over the rounds."""
    return {
        key: {
            "route": row.label,
            "after": cpu.summary(after.cpu_rounds_us),
            "before": cpu.summary(before.cpu_rounds_us),
            "errors": {"after": after.error_count, "before": before.error_count},
            "after_vs_before": cpu.compare(after.cpu_rounds_us, before.cpu_rounds_us),
            "rounds_us": {"after": after.cpu_rounds_us, "before": before.cpu_rounds_us},
            "latency_ms": {  # under the same load on both sides: wrk's, over every round
                side: {"p50": load.percentile_ms(50), "p99": load.percentile_ms(99)}
                for side, load in (("after", after), ("before", before))
            },
        }
        for key, (row, after, before) in measured.items()
    }


def render(results: dict[str, Any], ref: str) -> str:
    """A Markdown table: route, µs per request on each side, the ratio and its verdict."""
    lines = [
        f"| route | after: CPU µs/req | before ({ref}) | after/before (IQR) | ≤ {LIMIT} "
        "| p50 ms after/before | p99 ms after/before |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results.values():
        ratio = result["after_vs_before"]
        low, high = ratio["iqr"]
        verdict = "met" if ratio["ratio"] <= LIMIT else "MISSED"
        ms = result["latency_ms"]
        lines.append(
            f"| {result['route']} | {result['after']['median_us']} | "
            f"{result['before']['median_us']} | {ratio['ratio']:.3f} ({low:.2f}-{high:.2f}) | "
            f"{verdict} | {ms['after']['p50']:.2f} / {ms['before']['p50']:.2f} | "
            f"{ms['after']['p99']:.2f} / {ms['before']['p99']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Bake both, load both, print the table; the figures go to build/versus.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.versus", description=__doc__)
    parser.add_argument("ref", help="the earlier commit (anything `git archive` takes)")
    parser.add_argument("--duration", type=int, default=30, help="rounds of --slice seconds")
    parser.add_argument("--slice", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-docker", dest="docker", action="store_false")
    parser.add_argument("--postgres-url")
    parser.add_argument("--workdir", type=Path, default=TEMPLATE / "build" / "versus")
    options = parser.parse_args(argv)
    load_start = os.getloadavg()[0]
    try:
        wrk_binary()
        workdir = fresh_workdir(options.workdir)
        bakes = {
            "after": bake_defaults(workdir / "after")[0],
            "before": bake_defaults(workdir / "before", checkout(options.ref, workdir / "old"))[0],
        }
        plan = LoadPlan(options.duration, options.connections, options.slice, 0, 1)
        with databases.postgres(options.postgres_url, options.docker) as pg:
            results = report(measure(bakes, workdir, plan, pg))
    except (BenchError, subprocess.TimeoutExpired) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    load_end = os.getloadavg()[0]
    load = {"load_average_start": load_start, "load_average_end": load_end}
    (workdir / "versus.json").write_text(json.dumps(results | load, indent=2) + "\n")
    print(f"load average (1 min): {load_start:.1f} at the start, {load_end:.1f} at the end")
    print(render(results, options.ref))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
