"""Logs on stdout carrying the request id: JSON lines in production, readable text in dev."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from flask import has_request_context, request
from gunicorn import glogging

from .context import PROBE_AGENTS, REQUEST_ID, SUBJECT, TRACE_ID
from .settings import current

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Built once: json.dumps(..., default=str) would build a new encoder for every line.
_ENCODER = json.JSONEncoder(default=str)
_COLOURS = {"DEBUG": "2", "INFO": "32", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}


class RequestIdFilter(logging.Filter):
    """Stamp records made while a request is handled with its id (and trace id, if traced)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and has_request_context():
            environ = request.environ
            record.request_id = environ.get(REQUEST_ID)
            if (trace_id := environ.get(TRACE_ID)) is not None:
                record.trace_id = trace_id
        return True


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object; json.dumps escapes whatever a client sent."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


def _printable(text: str) -> str:
    """Text as is, or JSON-escaped when it holds a newline or control byte (no forged lines)."""
    return text if text.isprintable() else _ENCODER.encode(text)[1:-1]


class TextFormatter(logging.Formatter):
    """One line a person reads: time, level, logger, [request id], message, extra fields."""

    def __init__(self, *, colour: bool = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        time = dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        level = f"{record.levelname:<8}"
        if self.colour:
            level = f"\x1b[{_COLOURS.get(record.levelname, '0')}m{level}\x1b[0m"
        request_id = getattr(record, "request_id", None)
        parts = [time, level, record.name, f"[{request_id}]" if request_id else ""]
        parts.append(_printable(record.getMessage()))
        parts += [
            f"{key}={_printable(str(value))}"
            for key, value in vars(record).items()
            if key not in _STANDARD and key != "request_id" and value is not None
        ]
        line = " ".join(part for part in parts if part)
        return f"{line}\n{self.formatException(record.exc_info)}" if record.exc_info else line


def formatter(log_format: str | None, stream: Any, no_color: object = "") -> logging.Formatter:
    """LOG_FORMAT's formatter: JSON, or text in colour on a terminal (unless NO_COLOR is set)."""
    if log_format == "text":
        return TextFormatter(colour=stream.isatty() and not no_color)
    return JsonFormatter()


class LogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Write records with request ids to a stream (stdout by default) as JSON or text."""

    def __init__(self, stream: Any = None, log_format: str = "json", no_color: object = "") -> None:
        super().__init__(stream or sys.stdout)
        self.setFormatter(formatter(log_format, self.stream, no_color))
        self.addFilter(RequestIdFilter())


def init_app(app: Any) -> None:
    """Send the root logger, and so the app's, to stdout at LOG_LEVEL in LOG_FORMAT (idempotent)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, LogHandler)]:
        root.removeHandler(handler)
    root.addHandler(
        LogHandler(log_format=app.config["LOG_FORMAT"], no_color=app.config["NO_COLOR"])
    )
    root.setLevel(app.config["LOG_LEVEL"])


class GunicornLogger(glogging.Logger):  # type: ignore[misc]
    """Gunicorn's error and access logs in LOG_FORMAT; access fields are data, not a format."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        settings = current()
        for handler in self.error_log.handlers + self.access_log.handlers:
            handler.setFormatter(formatter(settings.LOG_FORMAT, handler.stream, settings.NO_COLOR))
        self.quiet_agents = () if settings.LOG_PROBES else PROBE_AGENTS  # startswith(()): False

    def access(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: dt.timedelta
    ) -> None:
        access_log = self.access_log
        if not self.access_log_enabled or not access_log.isEnabledFor(logging.INFO):
            return
        status, agent = int(str(resp.status).split(None, 1)[0]), environ.get("HTTP_USER_AGENT")
        if status < 400 and agent and agent.startswith(self.quiet_agents):
            return  # a health probe that passed: most of an idle service's lines otherwise
        fields = {
            "request_id": environ.get(REQUEST_ID),  # hooks.RequestEdges put it there
            "remote_addr": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "user_agent": agent,
            "subject": environ.get(SUBJECT),  # who, by the token; never the token
            **({"trace_id": trace_id} if (trace_id := environ.get(TRACE_ID)) else {}),
        }
        # What access_log.info() does, minus its walk up the stack for a caller's file and
        # line, which no access line shows: a tenth of the cost of logging each request.
        record = access_log.makeRecord(
            access_log.name, logging.INFO, __file__, 0, "request", (), None, extra=fields
        )
        access_log.handle(record)
