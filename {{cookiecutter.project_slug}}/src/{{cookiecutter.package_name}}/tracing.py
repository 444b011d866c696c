"""OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT (or its _TRACES_ variant) or
OTEL_TRACES_EXPORTER is set: then each request is a SERVER span that continues the caller's W3C
`traceparent`, and every log line of the request carries its trace id. Off, nothing is hooked
and OpenTelemetry is never imported (tests/test_tracing.py): each function imports it itself,
which costs a traced request a dictionary lookup and saves every untraced start its import.
The provider, whose span processor owns a thread, starts per worker (gunicorn's post_fork)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, g, request

if TYPE_CHECKING:  # imported only by a process that traces
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

from .context import TRACE_ID as TRACE_ID_ENVIRON
from .settings import Settings, current

SERVICE_NAME = {{ cookiecutter.project_slug | tojson }}


def exporter_from(settings: Settings) -> SpanExporter:
    """console, or OTLP over HTTP (which reads its endpoint and headers from OTEL_*)."""
    if settings.OTEL_TRACES_EXPORTER == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter  # noqa: PLC0415

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )

    return OTLPSpanExporter()


def start_provider(exporter: SpanExporter | None = None) -> TracerProvider:
    """Install this process's provider: in each worker after fork, never in gunicorn's master."""
    from opentelemetry import trace  # noqa: PLC0415
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    settings = current()
    name = settings.OTEL_SERVICE_NAME or SERVICE_NAME
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(exporter or exporter_from(settings)))
    trace.set_tracer_provider(provider)
    return provider


def stop_provider() -> None:
    """Flush and stop (gunicorn's worker_exit), so a recycled worker's last spans are sent."""
    from opentelemetry import trace  # noqa: PLC0415

    provider = trace.get_tracer_provider()
    if callable(shutdown := getattr(provider, "shutdown", None)):  # the SDK's, once started
        shutdown()


def start_span() -> None:
    """before_request: continue the caller's trace (or start one) and make it current."""
    from opentelemetry import context, propagate, trace  # noqa: PLC0415

    rule = request.url_rule.rule if request.url_rule is not None else request.path
    span = trace.get_tracer(__name__).start_span(
        f"{request.method} {rule}",
        context=propagate.extract(request.headers),
        kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": request.method, "http.route": rule},
    )
    g.trace_token = context.attach(trace.set_span_in_context(span))
    g.trace_span = span
    request.environ[TRACE_ID_ENVIRON] = f"{span.get_span_context().trace_id:032x}"


def record_status(response: Response) -> Response:
    """after_request: the status the client gets."""
    if (span := g.get("trace_span")) is not None:
        span.set_attribute("http.response.status_code", response.status_code)
    return response


def end_span(error: BaseException | None = None) -> None:
    """teardown_request: end the span, with the exception that escaped the view if any."""
    span = g.pop("trace_span", None)
    if span is None:
        return
    from opentelemetry import context, trace  # noqa: PLC0415

    if error is not None:
        span.record_exception(error)
        span.set_status(trace.StatusCode.ERROR)
    span.end()
    context.detach(g.pop("trace_token"))


def init_app(app: Flask, settings: Settings) -> None:
    """Trace requests when the OTEL_* settings ask for it."""
    if settings.tracing:
        app.before_request(start_span)
        app.after_request(record_status)
        app.teardown_request(end_span)
