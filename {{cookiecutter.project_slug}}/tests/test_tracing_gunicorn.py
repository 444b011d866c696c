"""Tracing under real gunicorn: each worker starts its provider after the fork and flushes it
when it stops; spans go to the console exporter and, over OTLP/HTTP, to a real receiver."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from .servers import SECRET, copy_project, free_port, serve
from .test_tracing import TRACE_ID, TRACEPARENT

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out


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
