"""`make layers`: each layer's CPU per request, read inside the workers of a real gunicorn."""

from __future__ import annotations

import re

import pytest

from .helpers import require_wrk, run_module

# The service's WSGI layers, outermost first: each clock includes the ones inside it.
NESTED = (
    "metrics.Metrics",
    "hooks.RequestEdges",
    "headers.SecurityHeaders",
    "body.GuardedBodies",
    "Flask.wsgi_app",
)


@pytest.mark.xdist_group("bench")
def test_layers_are_timed_inside_the_workers_of_both_apps() -> None:
    require_wrk()
    result = run_module("benchmarks.layers", "--rounds=1", "--seconds=1")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {
        cells[0]: cells[1:]
        for line in result.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| ---")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    service = [float(rows[name][0]) for name in NESTED]
    assert service == sorted(service, reverse=True), f"not nested: {service}"
    assert 0 < service[-1] < service[0]
    for phase in ("Flask.wsgi_app", "Flask.dispatch_request", "view /healthz"):
        assert float(rows[phase][1]) > 0, f"bare Flask's {phase} was not timed"
    counted = re.search(r"service ([\d,]+), bare Flask ([\d,]+)", result.stdout)
    assert counted is not None
    assert min(int(n.replace(",", "")) for n in counted.groups()) > 0
