"""Log lines, JSON or text: one per record, request id attached, client bytes escaped."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import sys
from types import SimpleNamespace

import pytest
from flask import Flask
from gunicorn.config import Config

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.context import REQUEST_ID
from {{ cookiecutter.package_name }}.log import (
    GunicornLogger,
    JsonFormatter,
    LogHandler,
    TextFormatter,
)


def capture(app: Flask, path: str, headers: dict[str, str]) -> tuple[list[dict[str, object]], str]:
    """Log inside a request to a LogHandler on a buffer; return the parsed lines and the id."""
    buffer = io.StringIO()
    logger = logging.getLogger("capture.test")
    logger.addHandler(LogHandler(buffer))
    logger.setLevel(logging.INFO)

    @app.get(path)
    def view() -> dict[str, bool]:
        logger.info("inside %s", "view", extra={"user_input": headers.get("X-Note", "")})
        return {"ok": True}

    response = app.test_client().get(path, headers=headers)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    return lines, response.headers["X-Request-ID"]


def test_lines_carry_the_request_id(app: Flask) -> None:
    lines, request_id = capture(app, "/log-probe", {"X-Request-ID": "trace-42"})
    assert request_id == "trace-42"
    assert lines[-1]["request_id"] == "trace-42"
    assert lines[-1]["message"] == "inside view"
    assert lines[-1]["level"] == "INFO"
    assert lines[-1]["user_input"] == ""


def test_hostile_bytes_stay_inside_one_json_string(app: Flask) -> None:
    note = 'evil"\n{"level": "CRITICAL"}\x1b[31m'
    lines, _ = capture(app, "/log-probe-2", {"X-Note": note.replace("\n", " ")})
    assert len(lines) == 1
    assert lines[0]["user_input"] == note.replace("\n", " ")


def test_formatter_outside_a_request_and_with_an_exception() -> None:
    try:
        raise KeyError("boom")
    except KeyError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %d", (3,), None)
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed 3"
    assert "KeyError" in line["exc_info"]
    assert "request_id" not in line


def test_init_app_is_idempotent(app: Flask) -> None:
    create_app({"APP_ENV": "testing"})
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, LogHandler)]
    assert len(handlers) == 1


def access_logger(monkeypatch: pytest.MonkeyPatch) -> tuple[GunicornLogger, io.StringIO]:
    """gunicorn's logger as gunicorn.conf.py sets it up, its access lines going to a buffer."""
    monkeypatch.setenv("APP_ENV", "testing")  # it reads the settings, which want no database
    logging.getLogger("gunicorn.access").handlers.clear()  # another test's gunicorn Logger's
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = GunicornLogger(cfg)
    buffer = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(buffer)
    return logger, buffer


def test_gunicorn_access_line_is_escaped_json(monkeypatch: pytest.MonkeyPatch) -> None:
    logger, buffer = access_logger(monkeypatch)
    response = SimpleNamespace(status="404 NOT FOUND", headers=[("X-Request-ID", "r-1")], sent=9)
    environ = {
        REQUEST_ID: "r-1",  # where hooks.RequestEdges keeps the id it also sent
        "REQUEST_METHOD": "GET",
        "PATH_INFO": '/a"b',
        "QUERY_STRING": "",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": 'ua"\n{"x":1}',
    }
    logger.access(response, None, environ, dt.timedelta(milliseconds=2.5))
    line = json.loads(buffer.getvalue())
    assert line["logger"] == "gunicorn.access"
    assert line["request_id"] == "r-1"
    assert line["status"] == 404
    assert line["path"] == '/a"b'
    assert line["user_agent"] == 'ua"\n{"x":1}'
    assert line["duration_ms"] == 2.5
    assert line["query"] is None


class Terminal(io.StringIO):
    """A buffer that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_text_lines_carry_the_request_id_and_fields(app: Flask) -> None:
    buffer = io.StringIO()
    logger = logging.getLogger("capture.text")
    logger.addHandler(LogHandler(buffer, log_format="text"))
    logger.setLevel(logging.INFO)

    @app.get("/text")
    def view() -> dict[str, bool]:
        logger.info("saw %s", "it", extra={"note": 'two\nlines "quoted"'})
        return {"ok": True}

    request_id = app.test_client().get("/text").headers["X-Request-ID"]
    (line,) = buffer.getvalue().splitlines()
    assert f"INFO     capture.text [{request_id}] saw it" in line
    assert 'note=two\\nlines \\"quoted\\"' in line, "a client's newline cannot forge a line"
    assert "\x1b[" not in line, "no colour when the stream is not a terminal"


def test_text_is_coloured_on_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    record = logging.makeLogRecord({"levelname": "ERROR", "msg": "boom", "name": "x"})
    assert "\x1b[31mERROR" in LogHandler(Terminal(), log_format="text").format(record)
    assert "\x1b[" not in LogHandler(Terminal(), log_format="text", no_color="1").format(record)


def test_text_keeps_the_traceback_below_the_line() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
    first, *rest = TextFormatter().format(record).splitlines()
    assert first.endswith("failed")
    assert rest[-1] == "ValueError: bad"


def test_gunicorn_logs_text_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "text")
    logger, buffer = access_logger(monkeypatch)
    response = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "r-2")], sent=2)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz", REQUEST_ID: "r-2"}
    logger.access(response, None, environ, dt.timedelta(milliseconds=1))
    line = buffer.getvalue().strip()
    assert "gunicorn.access [r-2] request" in line
    assert "method=GET path=/healthz status=200" in line
