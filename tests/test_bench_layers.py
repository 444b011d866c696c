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
    "overload.Shed",
    "body.GuardedBodies",
    "Flask.wsgi_app",
)


@pytest.mark.xdist_group("bench")
@pytest.mark.parametrize(
    ("route", "views", "baseline"),
    [
        ("healthz", ("/healthz", "/healthz"), "bare Flask"),
        ("item", ("/api/items/<int:item_id>", "/items/<int:item_id>"), "bare Flask+SQLAlchemy"),
        ("create", ("/api/items", "/items"), "bare Flask+SQLAlchemy"),
    ],
)
def test_layers_are_timed_inside_the_workers_of_both_apps(
    route: str, views: tuple[str, str], baseline: str
) -> None:
    require_wrk()
    result = run_module("benchmarks.layers", f"--route={route}", "--rounds=1", "--seconds=1")
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
    assert float(rows[f"view {views[0]}"][0]) > 0, "the service's view was not timed"
    for phase in ("Flask.wsgi_app", "Flask.dispatch_request", f"view {views[1]}"):
        assert float(rows[phase][1]) > 0, f"the baseline's {phase} was not timed"
    counted = re.search(rf"service ([\d,]+), {re.escape(baseline)} ([\d,]+)", result.stdout)
    assert counted is not None
    assert min(int(n.replace(",", "")) for n in counted.groups()) > 0
