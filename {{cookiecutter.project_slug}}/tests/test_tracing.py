"""Tracing in-process with an in-memory exporter: a request continues the caller's W3C trace,
its log lines carry the trace id, and with no OTEL_* variable nothing is hooked at all."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import requests
from flask import Flask
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from {{ cookiecutter.package_name }} import tracing
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.log import LogHandler

from .servers import SECRET, copy_project, free_port, serve

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
_provider: list[TracerProvider] = []  # OpenTelemetry's global provider is set once per process
_exporter = InMemorySpanExporter()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """The exporter the process's provider sends to, emptied for each test."""
    if not _provider:
        _provider.append(tracing.start_provider(_exporter))
    _exporter.clear()
    return _exporter


@pytest.fixture
def traced() -> Flask:
    """An app with tracing on, as OTEL_EXPORTER_OTLP_ENDPOINT would turn it."""
    return create_app({"APP_ENV": "testing", "TRACING": True})


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
    assert not app.config["TRACING"]
    assert tracing.start_span not in app.before_request_funcs.get(None, [])


def test_gunicorn_workers_export_spans_and_log_the_trace_id(tmp_path: Path) -> None:
    """The provider starts in each worker after fork and flushes when the worker stops."""
    copy_project(tmp_path)
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET, "OTEL_TRACES_EXPORTER": "console"}
    args = ["-m", "gunicorn", "-c", "gunicorn.conf.py"]
    with serve(tmp_path, args, env, free_port()) as server:
        headers = {"traceparent": TRACEPARENT}
        assert requests.get(f"{server.url}/healthz", headers=headers, timeout=5).ok
    stdout, stderr = server.logs()
    spans = [json.loads(s) for s in re.findall(r"^\{\n.*?^\}$", stdout, re.M | re.S)]
    traced = [s for s in spans if s["context"]["trace_id"] == f"0x{TRACE_ID}"]
    assert [s["name"] for s in traced] == ["GET /healthz"]
    access = [json.loads(line) for line in stdout.splitlines() if '"gunicorn.access"' in line]
    assert all(a["trace_id"] for a in access)  # the start-up probes each began a trace
    assert TRACE_ID in [a["trace_id"] for a in access]
    assert "Traceback" not in stderr


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: decodes each export and keeps its spans."""

    received: ClassVar[list[tuple[str, str]]] = []  # (trace id, span name)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        export = ExportTraceServiceRequest.FromString(body)
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                Collector.received += [(span.trace_id.hex(), span.name) for span in scope.spans]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(ExportTraceServiceResponse().SerializeToString())

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_spans_reach_an_otlp_receiver_over_http(tmp_path: Path) -> None:
    """The real exporter, protobuf over HTTP, from gunicorn workers to a receiver."""
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    copy_project(tmp_path)
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
    try:
        args = ["-m", "gunicorn", "-c", "gunicorn.conf.py"]
        with serve(tmp_path, args, env, free_port()) as server:
            headers = {"traceparent": TRACEPARENT}
            assert requests.get(f"{server.url}/healthz", headers=headers, timeout=5).ok
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert (TRACE_ID, "GET /healthz") in Collector.received
