"""`python -m benchmarks.versus REF` on a tiny budget: both the working tree's bake and REF's are
served, every route is loaded on both sides each round, and each gets a ratio and a verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import versus

from .helpers import TEMPLATE, require_wrk


@pytest.mark.xdist_group("bench")
def test_versus_a_commit_prices_every_route_on_both_sides(tmp_path: Path) -> None:
    require_wrk()
    work = tmp_path / "work"
    args = ["HEAD", "--duration=2", "--connections=2", "--no-docker", f"--workdir={work}"]
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.versus", *args],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((work / "versus.json").read_text())
    assert report["load_average_start"] >= 0
    for row in versus.ROUTES:
        figures = report[row.key]
        assert figures["errors"] == {"after": 0, "before": 0}, row.key
        assert figures["after"]["median_us"] > 0, row.key
        assert figures["before"]["median_us"] > 0, row.key
        assert figures["after_vs_before"]["rounds"] == 2, row.key
        ratio = figures["after_vs_before"]["ratio"]
        verdict = "met" if ratio <= versus.LIMIT else "MISSED"
        assert f"| {row.label} | " in result.stdout
        assert f"| {verdict} |" in result.stdout
