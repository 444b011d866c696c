"""`make bench` on a tiny budget: the runner bakes, loads every row, times reloads and
start-up, and writes every figure; the benchmark itself stays out of `make test`."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import auth, cpu, databases, runner, scale
from benchmarks.bake import Bake

from .docker_support import require_engine
from .helpers import TEMPLATE, require_wrk

# Every item request on the small and the large table (SQLite; PostgreSQL with a server).
SCALE_ROWS = tuple(f"scale_{op}_{size}" for op in scale.OPS for size in scale.SIZES)
HTTP_ROWS = (
    "limit",
    "bare_flask",
    "bare_middlewares",
    "service_healthz",
    "metrics_off",
    "service_post_items",
    "service_get_item",
    "sqla_post_items",
    "sqla_get_item",
    "hand_post_items",
    "model_post_items",
    "model_healthz",
    "plain_gunicorn",
    "dev_server",
    *SCALE_ROWS,
)
VALIDATION_ROWS = ("model_post_items", "model_healthz", "service_healthz")
DATABASE_ROWS = ("service_post_items", "service_get_item")
POSTGRES_ROWS = tuple(
    f"{key}_pg" for key in (*DATABASE_ROWS, "sqla_post_items", "sqla_get_item", *SCALE_ROWS)
)
LARGE_ROWS = tuple(key for key in SCALE_ROWS if key.endswith("_large"))
# Rows served under gunicorn.conf.py, whose JSON access log must hold every request.
LOGGED_ROWS = tuple(key for key in HTTP_ROWS if key not in ("plain_gunicorn", "dev_server"))
TINY_BUDGET = [
    "--duration=1",
    "--connections=2",
    "--warmup=0",
    "--saves=2",
    "--starts=1",
    "--no-docker",
    "--scale-rows=3000",  # `make bench` loads 10⁶; the rows and their ratios are the same
    "--overload=1",  # a second at each load level: the rows, not the figures
]


def bench(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m benchmarks` from the template's root."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=TEMPLATE,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def is_number(value: Any) -> bool:
    """A real number (bool is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.mark.xdist_group("bench")
def test_bench_on_a_tiny_budget_reports_every_row(tmp_path: Path) -> None:
    require_wrk()
    output = tmp_path / "bench.json"
    args = [*TINY_BUDGET, f"--output={output}", f"--workdir={tmp_path / 'work'}"]
    result = bench(args)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())

    for key in HTTP_ROWS:
        row = report["http"][key]
        for figure in ("rps", "p50_ms", "p99_ms", "vs_bare_flask", "vs_limit"):
            assert is_number(row[figure]), (key, figure, row[figure])
        assert row["requests"] > 0, key
        assert row["errors"] == 0, (key, row["errors_by_kind"])
        assert row["label"] in result.stdout, "every row is in the printed table"
    for key in LOGGED_ROWS:
        row = report["http"][key]
        assert row["access_log_lines"] >= row["requests"], f"{key}: the JSON access log was off"
    for key in DATABASE_ROWS:
        assert is_number(report["http"][key]["vs_bare_sqlalchemy"]), key
    for key in LARGE_ROWS:
        assert is_number(report["http"][key]["p99_vs_small"]), key
        assert "3,000 rows" in report["http"][key]["label"]
    check_auth_row(report, result.stdout)
    check_overload_rows(report["overload"], result.stdout)
    for comparison in cpu.COMPARISONS:
        if comparison.row not in (*POSTGRES_ROWS, auth.ROW):
            vs = report["http"][comparison.row]["cpu_vs"][comparison.baseline]
            assert is_number(vs["ratio"]), comparison
            assert is_number(vs["added_us"]), comparison
            assert vs["rounds"] == 1, comparison
            assert vs["iqr"] == [vs["ratio"]] * 2, "one round, no spread"
    for key in HTTP_ROWS:
        assert is_number(report["http"][key]["server_cpu"]["median_us"]), key
    assert report["machine"]["cpu_clock"] in ("cgroup", "ticks")
    assert "server CPU time: " in result.stdout
    assert not set(POSTGRES_ROWS) & set(report["http"]), "no PostgreSQL rows without Docker"

    for reloader in ("watchdog", "stat"):
        reloads = report["reload"][reloader]
        assert reloads["saves"] == 2
        assert is_number(reloads["median_s"])
        assert is_number(reloads["worst_s"])
        assert reloads["refused"] == 0, reloader
    gunicorn = report["startup"]["gunicorn"]
    assert is_number(gunicorn["median_s"])
    assert gunicorn["libraries"] > 100, "the floor imports flask, SQLAlchemy, pydantic, ..."
    assert 0 < gunicorn["floor_median_s"] < 10 * gunicorn["median_s"], gunicorn
    assert "start-up floor: a bare interpreter importing the same" in result.stdout
    assert is_number(report["generation"]["bake_s"])
    assert "skipped" in report["docker"]
    assert {t["row"] for t in report["targets"]} >= {"service_healthz", "reload_watchdog"}
    assert {t["row"] for t in report["targets"]} >= set(DATABASE_ROWS) | set(VALIDATION_ROWS)
    assert {t["row"] for t in report["targets"]} >= set(LARGE_ROWS), "CPU and p99 vs 10³ rows"
    assert result.stdout.count("\n| ") >= len(HTTP_ROWS) + 5, "one table, every row"


def check_overload_rows(overload: dict[str, Any], stdout: str) -> None:
    """Capacity, then each open-loop level: every request answered (200 or a shed 503 with
    Retry-After), goodput and p99 figures, memory before and after, and a 200 after the load."""
    assert is_number(overload["capacity_rps"])
    assert overload["capacity_rps"] > 0
    for level in ("x0.5", "x1", "x2"):
        figures = overload[level]
        assert figures["failed"] == 0, (level, figures["statuses"])
        assert figures["ok"] > 0, level
        assert set(figures["retry_after"]) <= {"1"}, level
        assert is_number(figures["goodput_rps"]), level
        assert is_number(figures["p99_ms"]), level
    assert overload["after"]["status"] == 200
    assert overload["memory_before"]["pss_mb"] > 0
    assert overload["memory_after"]["pss_mb"] > 0
    assert stdout.count("| overload: ") == 5, "capacity, three levels, memory"


def check_auth_row(report: dict[str, Any], stdout: str) -> None:
    """The authenticated item read, timed beside the open one in the same rounds, with its CPU
    ratio printed; without Node.js the table says why, and CI (REQUIRE_PROVIDER=1) fails."""
    if auth.ROW not in report["http"]:
        if os.environ.get("REQUIRE_PROVIDER") == "1":
            pytest.fail(f"REQUIRE_PROVIDER=1 but no authenticated row: {report.get('auth')}")
        assert "needs Node.js" in report["auth"]["skipped"]
        assert report["auth"]["skipped"] in stdout
        return
    row = report["http"][auth.ROW]
    assert row["requests"] > 0
    assert row["errors"] == 0, ("every request accepted: the token lived", row["errors_by_kind"])
    assert row["access_log_lines"] >= row["requests"]
    assert row["label"] in stdout
    vs = row["cpu_vs"][auth.OPEN_ROW]
    assert is_number(vs["ratio"])
    assert vs["rounds"] == 1
    assert is_number(vs["added_us"])
    (target,) = [t for t in report["targets"] if t["row"] == auth.ROW]
    assert target["value"] == vs["ratio"]
    assert (
        f"CPU/req ≤ 1.10x auth off: {'met' if target['met'] else 'MISSED'} ({vs['ratio']:g}"
        in stdout
    )


@pytest.mark.xdist_group("bench")
def test_bench_without_wrk_says_how_to_install_it(tmp_path: Path) -> None:
    empty = tmp_path / "bin"  # a PATH without wrk (the runner is started by full path)
    empty.mkdir()
    result = bench([*TINY_BUDGET, f"--workdir={tmp_path / 'work'}"], {"PATH": str(empty)})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "bench: wrk is not installed; install it with: apt-get install wrk"
    ]
    assert not (tmp_path / "work").exists(), "nothing slow ran before the check"


@pytest.mark.docker
@pytest.mark.xdist_group("bench")
def test_bench_adds_postgresql_rows_on_a_server_it_is_given(tmp_path: Path) -> None:
    require_engine()
    require_wrk()
    output = tmp_path / "bench.json"
    args = [*TINY_BUDGET, f"--output={output}", f"--workdir={tmp_path / 'work'}"]
    with databases.container() as admin_url:  # the bench's own throw-away server
        result = bench([*args, f"--postgres-url={admin_url}"])
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())

    for key in POSTGRES_ROWS:
        row = report["http"][key]
        assert row["requests"] > 0, key
        assert row["errors"] == 0, (key, row["errors_by_kind"])
        assert row["access_log_lines"] >= row["requests"], key
        assert row["label"] in result.stdout
    for key in DATABASE_ROWS:
        assert is_number(report["http"][f"{key}_pg"]["vs_bare_sqlalchemy"]), key
    assert {f"{key}_pg" for key in DATABASE_ROWS} <= {t["row"] for t in report["targets"]}
    for key in LARGE_ROWS:
        assert is_number(
            report["http"][f"{key}_pg"]["cpu_vs"][key.replace("_large", "_small") + "_pg"]["ratio"]
        )
        assert is_number(report["http"][f"{key}_pg"]["p99_vs_small"]), key


@pytest.mark.docker
def test_an_unreachable_base_image_skips_the_docker_rows_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_engine()
    monkeypatch.setenv("PYTHON_IMAGE", "registry.invalid/python:0-slim")
    bake = Bake(TEMPLATE, "unused", "3.13", "unused")
    docker = runner.docker_part(argparse.Namespace(docker=True), bake)
    assert set(docker) == {"skipped"}, docker
    assert "registry.invalid/python:0-slim" in docker["skipped"]
    assert "cannot be pulled" in docker["skipped"]
