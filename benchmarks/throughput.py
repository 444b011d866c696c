"""The HTTP rows: the same wrk load on the limit, bare Flask, the service and its alternatives."""

# All servers run at once and the load visits them in interleaved one-second slices, in a
# shuffled order, so a machine that gets busier mid-run shifts every row alike.

from __future__ import annotations

import json
import os
import random
import sys
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from . import auth, cpu, databases, scale
from .bake import Bake
from .common import HOST, TEMPLATE, BenchError, say
from .load import Load, run_wrk, write_script
from .servers import Command, Server, clean_env, free_port, request, serving

ITEM = {"name": "widget", "quantity": 2}
BARE_SQLA = "benchmarks.apps:bare_sqlalchemy()"
HAND, MODEL = "benchmarks.apps:hand_validated()", "benchmarks.apps:model_validated()"
IN_MIDDLEWARES = "benchmarks.apps:bare_flask_in_middlewares()"


@dataclass(frozen=True)
class Row:
    """One line of the HTTP part of the table: a server, a request, and the load's outcome."""

    key: str
    label: str
    method: str = "GET"
    path: str = "/healthz"
    script: str | None = None  # wrk Lua that sets the request up (method, body, headers)
    access_log: bool = True  # under gunicorn.conf.py: the JSON access log must hold every request
    server: str | None = None  # the server it loads, when rows share one (default: its key)
    table_rows: int = 0  # a scale row's: the items in its server's table

    @property
    def served_by(self) -> str:
        """The key of the server this row loads."""
        return self.server or self.key


def database_rows(suffix: str, database: str) -> tuple[Row, ...]:
    """The service's and the baseline's item rows on one database (each POST row before its
    GET row: the POST's answer check creates item 1, which the GET row reads)."""
    bare = "bare Flask+SQLAlchemy"
    return (
        Row(f"service_post_items{suffix}", f"service POST /api/items, {database}", "POST",
            "/api/items", "post_item.lua"),
        Row(f"service_get_item{suffix}", f"service GET /api/items/1, {database}", "GET",
            "/api/items/1"),
        Row(f"sqla_post_items{suffix}", f"{bare} POST /items, {database}", "POST", "/items",
            "post_item.lua"),
        Row(f"sqla_get_item{suffix}", f"{bare} GET /items/1, {database}", "GET", "/items/1"),
    )  # fmt: skip


ROWS = (
    Row("limit", "limit: bare WSGI, gunicorn.conf.py"),
    Row("bare_flask", "bare Flask, gunicorn.conf.py"),
    Row("bare_middlewares", "bare Flask inside the service's WSGI middlewares"),
    Row("service_healthz", "service GET /healthz, gunicorn.conf.py"),
    Row("metrics_off", "service GET /healthz, METRICS_PORT=0 (metrics off)"),
    *database_rows("", "SQLite"),
    Row(
        "hand_post_items",
        "bare Flask POST /items, validated by hand (before)",
        "POST",
        "/items",
        "post_item.lua",
    ),
    Row(
        "model_post_items",
        "flask-openapi3 POST /items, pydantic ItemIn (after)",
        "POST",
        "/items",
        "post_item.lua",
    ),
    Row("model_healthz", "flask-openapi3 GET /healthz, no model"),
    Row("plain_gunicorn", "service GET /healthz, plain gunicorn", access_log=False),
    Row("dev_server", "service GET /healthz, dev server", access_log=False),
)
POSTGRES_ROWS = database_rows("_pg", "PostgreSQL")
# The SQLite item read again with a bearer token checked on each request (the other rows run
# with AUTH_DISABLED=1); its server shares service_get_item's database.
AUTH_ROW = Row(auth.ROW, "service GET /api/items/1, SQLite, bearer token checked", "GET",
               "/api/items/1")  # fmt: skip
DATABASE_NAMES = {"": "SQLite", "_pg": "PostgreSQL"}
METHODS = {"post_items": "POST", "patch_item": "PATCH"}


def scale_rows(bake: Bake, workdir: Path, large: int, suffixes: tuple[str, ...]) -> tuple[Row, ...]:
    """Each item request on the large table and on the small one, per database; the two tables
    are two servers, each loaded by its five rows in turn."""
    return tuple(
        Row(
            scale.key(op, size, suffix),
            f"service {what}, {DATABASE_NAMES[suffix]}, {rows:,} rows",
            METHODS.get(op, "GET"),
            scale.path(bake, op, rows),
            scale.script(workdir, op, rows),
            server=scale.server_key(size, suffix),
            table_rows=rows,
        )
        for suffix in suffixes
        for op, what in scale.OPS.items()
        for size, rows in scale.counts(large).items()
    )


@dataclass(frozen=True)
class LoadPlan:
    """How hard and how long: the same for every row."""

    duration: int
    connections: int
    slice: int
    warmup: int
    threads: int


def pythonpath(*paths: Path) -> str:
    """A PYTHONPATH value from directories."""
    return os.pathsep.join(str(p) for p in paths)


def under_conf(bake: Bake, port: int, url: str, app: str | None = None, **extra: str) -> Command:
    """`gunicorn -c gunicorn.conf.py [app]` in the bake, production settings, on `port`."""
    paths = (bake.src, TEMPLATE) if app else (bake.src,)
    env = clean_env(
        APP_ENV="production",
        SECRET_KEY=bake.secret,
        HOST=HOST,
        PORT=str(port),
        PYTHONPATH=pythonpath(*paths),
        DATABASE_URL=url,
        BENCH_PACKAGE=bake.package,
        **extra,
    )
    argv = (sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *([app] if app else []))
    return Command(argv, bake.path, env)


def plain_gunicorn(bake: Bake, port: int, url: str, workdir: Path) -> Command:
    """`gunicorn <package>.wsgi:app` with gunicorn's defaults, only the bind address given."""
    # Run where there is no gunicorn.conf.py: gunicorn would load ./gunicorn.conf.py by itself.
    workdir.mkdir(parents=True, exist_ok=True)
    env = clean_env(
        APP_ENV="production",
        SECRET_KEY=bake.secret,
        PYTHONPATH=str(bake.src),
        DATABASE_URL=url,
    )
    argv = (
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{HOST}:{port}",
        f"{bake.package}.wsgi:app",
    )
    return Command(argv, workdir, env)


def dev_server(bake: Bake, port: int) -> Command:
    """`python -m <package>`: run_simple with the reloader and the debugger, as `make dev` runs."""
    env = clean_env(APP_ENV="development", HOST=HOST, PORT=str(port), PYTHONPATH=str(bake.src))
    return Command((sys.executable, "-m", bake.package), bake.path, env)


def commands(
    bake: Bake, workdir: Path, urls: dict[str, str], token: auth.Auth | None = None
) -> dict[str, tuple[Command, int]]:
    """Every row's server command on its own free port; `urls` are the databases by role,
    `token` the provider's settings for the authenticated row."""
    service = urls["service"]
    builders: dict[str, Callable[[int], Command]] = {
        "limit": lambda port: under_conf(bake, port, service, "benchmarks.apps:bare_wsgi"),
        "bare_flask": lambda port: under_conf(bake, port, service, "benchmarks.apps:bare_flask"),
        "bare_middlewares": partial(under_conf, bake, url=service, app=IN_MIDDLEWARES),
        "service_healthz": lambda port: under_conf(bake, port, service),
        "metrics_off": lambda port: under_conf(bake, port, service, METRICS_PORT="0"),
        "hand_post_items": partial(under_conf, bake, url=service, app=HAND),
        "model_post_items": partial(under_conf, bake, url=service, app=MODEL),
        "model_healthz": partial(under_conf, bake, url=service, app=MODEL),
        "plain_gunicorn": lambda port: plain_gunicorn(bake, port, service, workdir / "plain"),
        "dev_server": lambda port: dev_server(bake, port),
    }
    for suffix in ("", "_pg"):
        if f"service{suffix}" in urls:
            mine, bare = urls[f"service{suffix}"], urls[f"bare{suffix}"]
            for key in (f"service_post_items{suffix}", f"service_get_item{suffix}"):
                builders[key] = partial(under_conf, bake, url=mine)
            for key in (f"sqla_post_items{suffix}", f"sqla_get_item{suffix}"):
                builders[key] = partial(under_conf, bake, url=bare, app=BARE_SQLA)
    if token is not None:
        builders[auth.ROW] = partial(under_conf, bake, url=service, **token.env)
    for name in (key for key in urls if key.startswith("scale_")):
        builders[name] = partial(under_conf, bake, url=urls[name])
    ports = {key: free_port() for key in builders}
    return {key: (build(ports[key]), ports[key]) for key, build in builders.items()}


def check_answer(row: Row, server: Server, headers: dict[str, str] | None = None) -> None:
    """Before any load: the row's request gets the answer it should (same JSON everywhere);
    with `headers` (a token), the same request without them must be refused."""
    if headers and (status := request(server.port, row.path)[0]) != 401:
        raise BenchError(f"{row.label}: {status} without a token; token checks are off")
    if row.server:
        scale.check(row.key, row.path, server, row.table_rows)
        return
    if row.method == "POST":
        body = json.dumps({**ITEM, "name": f"check-{row.key}"}).encode()
        headers = {"Content-Type": "application/json"}
        status, answer = request(server.port, row.path, "POST", body, headers)
        ok = status == 201 and json.loads(answer)["quantity"] == ITEM["quantity"]
    elif "items" in row.path:  # the item a POST row's check created
        status, answer = request(server.port, row.path, headers=headers)
        ok = status == 200 and json.loads(answer)["id"] == 1
    else:
        status, answer = request(server.port, row.path)
        ok = status == 200 and json.loads(answer) == {"status": "ok"}
    if not ok:
        raise BenchError(f"{row.label}: unexpected answer {status} {answer[:200]!r}")


def slices(duration: int, size: int) -> list[int]:
    """Split a row's duration into slices of `size` seconds (the last one may be shorter)."""
    size = max(1, min(size, duration))
    return [size] * (duration // size) + ([duration % size] if duration % size else [])


def access_log_lines(log: Path) -> int:
    """How many JSON access-log lines a gunicorn log holds (proof the access log was on)."""
    count = 0
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("logger") == "gunicorn.access":
            count += 1
    return count


def load_once(row: Row, server: Server, script: Path, plan: LoadPlan, seconds: int) -> Load:
    """One wrk run of `seconds` on a row, with the CPU time the server spent meanwhile."""
    before = server.cpu_seconds()
    load = run_wrk(server.url(row.path), seconds, plan.connections, plan.threads, script)
    load.server_cpu_s = server.cpu_seconds() - before
    return load


def drive(
    rows: tuple[Row, ...], servers: dict[str, Server], scripts: dict[str, Path], plan: LoadPlan
) -> dict[str, Load]:
    """Warm every server up, then load each row one slice per round, in a seeded shuffled
    order that keeps each row beside the rows it is judged against (cpu.blocks)."""
    if plan.warmup:
        say(f"warming up each server for {plan.warmup} s")
        for row in rows:
            load_once(row, servers[row.key], scripts[row.key], plan, plan.warmup)
    loads = {row.key: Load() for row in rows}
    rounds, order = slices(plan.duration, plan.slice), random.Random(0)
    by_key = {row.key: row for row in rows}
    groups = cpu.blocks(list(by_key))
    for number, seconds in enumerate(rounds, 1):
        say(f"load round {number}/{len(rounds)}: {seconds} s on each of {len(rows)} rows")
        for group in order.sample(groups, len(groups)):
            for row in (by_key[key] for key in order.sample(group, len(group))):
                loads[row.key].add(
                    load_once(row, servers[row.key], scripts[row.key], plan, seconds)
                )
    return loads


def summarize(row: Row, load: Load, log: Path) -> dict[str, Any]:
    """A row's figures for the JSON report."""
    result: dict[str, Any] = {
        "label": row.label,
        "request": f"{row.method} {row.path}",
        "requests": load.requests,
        "duration_s": round(load.duration_us / 1e6, 3),
        "rps": round(load.rps, 1),
        "p50_ms": round(load.percentile_ms(50), 3),
        "p99_ms": round(load.percentile_ms(99), 3),
        "errors": load.error_count,
        "server_cpu_us_per_request": round(load.cpu_us_per_request),  # over all rounds
        "errors_by_kind": dict(load.errors),
    }
    if row.access_log:
        result["access_log_lines"] = access_log_lines(log)
    return result


def add_ratios(results: dict[str, dict[str, Any]]) -> None:
    """Each row's throughput against bare Flask and the limit, its p99 against bare Flask, and
    (on the same database) the service's item rows' throughput against bare Flask+SQLAlchemy."""
    flask, limit = results["bare_flask"], results["limit"]
    for result in results.values():
        result["vs_bare_flask"] = round(result["rps"] / flask["rps"], 3) if flask["rps"] else None
        result["vs_limit"] = round(result["rps"] / limit["rps"], 3) if limit["rps"] else None
        p99 = flask["p99_ms"]
        result["p99_vs_bare_flask"] = round(result["p99_ms"] / p99, 3) if p99 else None
    for key, result in results.items():
        small = results.get(key.replace("_large", "_small")) if "_large" in key else None
        if key.startswith("scale_") and small and small["p99_ms"]:
            result["p99_vs_small"] = round(result["p99_ms"] / small["p99_ms"], 3)
    for c in cpu.COMPARISONS:
        if c.row in results and c.baseline.startswith("sqla_") and results[c.baseline]["rps"]:
            ratio = results[c.row]["rps"] / results[c.baseline]["rps"]
            results[c.row]["vs_bare_sqlalchemy"] = round(ratio, 3)


def measure(
    bake: Bake,
    workdir: Path,
    plan: LoadPlan,
    postgres: dict[str, str] | None,
    scale_rows_: int = 0,
    with_auth: bool = False,
) -> dict[str, dict[str, Any]]:
    """Run every HTTP row under one plan (the PostgreSQL rows when `postgres` has the
    databases, the scale rows when `scale_rows_` gives the large table's size, the
    authenticated row `with_auth`); the figures per row key."""
    rows = ROWS + (AUTH_ROW,) * with_auth + (POSTGRES_ROWS if postgres else ())
    urls = databases.sqlite_urls(bake.path)
    if postgres:
        urls |= {"service_pg": postgres["bench_service"], "bare_pg": postgres["bench_bare"]}
    tables: dict[str, int] = {}
    if scale_rows_:
        suffixes = ("", "_pg") if postgres else ("",)
        rows += scale_rows(bake, workdir, scale_rows_, suffixes)
        for size, count in scale.counts(scale_rows_).items():
            tables[f"scale_{size}"] = count
            urls[f"scale_{size}"] = f"sqlite:///{bake.path / f'bench-scale-{size}.sqlite3'}"
            if postgres:
                tables[f"scale_{size}_pg"] = count
                urls[f"scale_{size}_pg"] = postgres[f"bench_scale_{size}"]
    databases.migrate(bake, urls.values())
    for name, count in tables.items():
        scale.fill(urls[name], count)
    with ExitStack() as stack:
        # The token must outlive every row's load, twice over, and the servers' start.
        lifetime = 2 * len(rows) * (plan.duration + plan.warmup) + 600
        token = stack.enter_context(auth.provider(bake, workdir, lifetime)) if with_auth else None
        if token is not None:  # its wrk script sends the token
            rows = tuple(replace(r, script=token.script) if r.key == auth.ROW else r for r in rows)
        scripts = {
            row.key: write_script(workdir / "wrk" / f"{row.key}.lua", row.script) for row in rows
        }
        logs = workdir / "logs"
        say(f"starting {len({row.served_by for row in rows})} servers")
        running = stack.enter_context(serving(commands(bake, workdir, urls, token), logs))
        servers = {row.key: running[row.served_by] for row in rows}
        for row in rows:
            headers = token.headers if token and row.key == auth.ROW else None
            check_answer(row, servers[row.key], headers)
        loads = drive(rows, servers, scripts, plan)
        clocks = {key: "cgroup" if server.cgroup else "ticks" for key, server in servers.items()}
    results = {
        row.key: summarize(row, loads[row.key], logs / f"{row.served_by}.log") for row in rows
    }
    for key, result in results.items():
        result["cpu_clock"] = clocks[key]  # cgroup: exact; ticks: sampled by the scheduler
    served = Counter[str]()  # requests per server: rows that share one share its access log
    for row in rows:
        served[row.served_by] += results[row.key]["requests"]
    for row in rows:
        require_access_log(row, results[row.key], served[row.served_by])
    add_ratios(results)
    cpu.add_comparisons(results, {key: load.cpu_rounds_us for key, load in loads.items()})
    return results


def require_access_log(row: Row, result: dict[str, Any], served: int) -> None:
    """A row under gunicorn.conf.py counts only with its JSON access log on, a line per request
    (`served`: the requests of every row on its server)."""
    lines = result.get("access_log_lines")
    if lines is not None and lines < served:
        raise BenchError(
            f"{row.label}: {lines} JSON access-log lines for {served} requests; "
            "the access log must stay on for this comparison"
        )
