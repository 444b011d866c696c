"""`make flamegraph`: py-spy samples the baked service's workers while wrk loads /healthz."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import require_wrk, run_module


@pytest.mark.xdist_group("bench")
def test_flamegraph_samples_the_service_under_load(tmp_path: Path) -> None:
    require_wrk()
    svg = tmp_path / "healthz.svg"
    result = run_module("benchmarks.flame", "--duration=2", f"--output={svg}")
    assert result.returncode == 0, result.stderr[-3000:]
    drawing = svg.read_text()
    assert "<svg" in drawing
    for frame in ("wsgi_app", "full_dispatch_request", "healthz"):
        assert frame in drawing, f"no {frame} frame: the workers were not sampled under load"
