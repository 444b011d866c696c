"""RED metrics in-process: the labels, the in-flight gauge, and a bounded route label (the
multiprocess files and the metrics port under real gunicorn: test_metrics_gunicorn.py)."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }} import metrics
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import ConfigError, Settings


def count(route: str, status: str, method: str = "GET") -> float:
    """The counter's value for one label set (0 before the first request)."""
    labels = {"method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


def routes_counted() -> set[str]:
    """Every route label value the counter has."""
    family = next(m for m in REGISTRY.collect() if m.name == "http_requests")
    return {s.labels["route"] for s in family.samples if s.name == "http_requests_total"}


def test_requests_are_counted_by_url_rule(app: Flask) -> None:
    before = count("/healthz", "200"), count(metrics.UNMATCHED, "404")
    client = app.test_client()
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/path")
    assert count("/healthz", "200") == before[0] + 2
    assert count(metrics.UNMATCHED, "404") == before[1] + 1


def test_durations_are_observed_and_nothing_stays_in_flight(app: Flask) -> None:
    labels = {"method": "GET", "route": "/healthz"}
    before = REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) or 0.0
    app.test_client().get("/healthz")
    assert REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) == before + 1
    assert REGISTRY.get_sample_value("http_requests_in_progress") == 0


def test_a_thousand_unknown_paths_add_one_route_label(app: Flask) -> None:
    client = app.test_client()
    client.get("/warm-up-the-unmatched-label")
    before = routes_counted()
    for _ in range(1000):
        client.get(f"/{uuid.uuid4().hex}/{uuid.uuid4().hex}")
    assert routes_counted() == before
    assert metrics.UNMATCHED in before


def test_metrics_port_0_turns_the_middleware_off() -> None:
    assert isinstance(create_app({"APP_ENV": "testing"}).wsgi_app, metrics.Metrics)
    app = create_app({"APP_ENV": "testing", "METRICS_PORT": 0})
    assert not isinstance(app.wsgi_app, metrics.Metrics)


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"METRICS_PORT": "8000", "PORT": "8000"}, "METRICS_PORT"),
        ({"METRICS_PORT": "x"}, "METRICS_PORT"),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
    ],
)
def test_bad_observability_settings_name_the_variable(
    environ: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({"APP_ENV": "testing", **environ})
