"""Tracing in-process with an in-memory exporter: a request continues the caller's W3C trace,
its log lines carry the trace id, and with no OTEL_* variable nothing is hooked at all."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from flask import Flask
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from {{ cookiecutter.package_name }} import tracing
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.log import LogHandler

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
_provider: list[TracerProvider] = []  # OpenTelemetry's global provider is set once per process
_exporter = InMemorySpanExporter()


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """The exporter the process's provider sends to, emptied for each test."""
    monkeypatch.setenv("APP_ENV", "testing")  # the provider reads the settings
    if not _provider:
        _provider.append(tracing.start_provider(_exporter))
    _exporter.clear()
    return _exporter


@pytest.fixture
def traced() -> Flask:
    """An app with tracing on, as OTEL_EXPORTER_OTLP_ENDPOINT would turn it."""
    return create_app({"APP_ENV": "testing", "OTEL_TRACES_EXPORTER": "console"})


def test_a_request_continues_the_callers_trace(traced: Flask, spans: InMemorySpanExporter) -> None:
    response = traced.test_client().get("/healthz", headers={"traceparent": TRACEPARENT})
    assert response.status_code == 200
    _provider[0].force_flush()
    (span,) = spans.get_finished_spans()
    assert span.name == "GET /healthz"
    assert span.kind is SpanKind.SERVER
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == PARENT_ID
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/healthz"
    assert span.attributes["http.response.status_code"] == 200


def test_without_a_caller_a_new_trace_starts(traced: Flask, spans: InMemorySpanExporter) -> None:
    traced.test_client().get("/no/such/path")
    _provider[0].force_flush()
    (span,) = spans.get_finished_spans()
    assert span.parent is None
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 404


def test_log_lines_of_the_request_carry_the_trace_id(
    traced: Flask, spans: InMemorySpanExporter
) -> None:
    stream = io.StringIO()
    handler = LogHandler(stream, "json")
    logger = logging.getLogger("probe")

    @traced.get("/logs")
    def logs() -> str:
        logger.warning("inside the view")
        return "ok"

    logging.getLogger().addHandler(handler)
    try:
        traced.test_client().get("/logs", headers={"traceparent": TRACEPARENT})
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    (line,) = [entry for entry in lines if entry["message"] == "inside the view"]
    assert line["trace_id"] == TRACE_ID
    assert line["request_id"]


def test_tracing_off_hooks_nothing(app: Flask) -> None:
    assert not app.extensions["settings"].tracing
    assert tracing.start_span not in app.before_request_funcs.get(None, [])


@pytest.mark.server  # a fresh interpreter
def test_an_untraced_process_never_imports_opentelemetry() -> None:
    """Tracing off, OpenTelemetry's import is not paid for at start (gunicorn's, each reload)."""
    code = (
        "import sys\n"
        f"from {create_app.__module__} import create_app\n"
        "create_app({'APP_ENV': 'testing'})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'opentelemetry'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
