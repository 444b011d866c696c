"""Request bodies as gunicorn streams them: broken framing, early ends, chunked bodies past the
limit and absurdly nested JSON all become 4xx problem+json."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.test import EnvironBuilder, run_wsgi_app

from {{ cookiecutter.package_name }}.body import GuardedInput

from .things import THINGS

ITEM = b'{"name": "widget"}'


class BrokenStream(io.BytesIO):
    """A body whose framing the server cannot parse, as gunicorn's chunk parser raises."""

    def read(self, size: int | None = -1) -> bytes:
        raise RuntimeError("Invalid chunk size: 'zz'")


def post(app: Flask, stream: Any, **environ: Any) -> Any:
    """POST /test/things with a raw input stream and environ keys, as a WSGI server would."""
    return app.test_client().post(
        THINGS,
        input_stream=stream,
        content_type="application/json",
        environ_overrides=environ,
    )


def test_unreadable_body_is_400(things_app: Flask) -> None:
    response = post(things_app, BrokenStream(), **{"wsgi.input_terminated": True})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_body_shorter_than_content_length_is_400(things_app: Flask) -> None:
    stream = io.BytesIO(ITEM)
    response = post(
        things_app, stream, CONTENT_LENGTH=str(len(ITEM) + 50), **{"wsgi.input_terminated": True}
    )
    assert response.status_code == 400
    assert "ended before" in response.get_data(as_text=True)


def test_chunked_body_past_the_limit_is_413(things_app: Flask) -> None:
    limit = things_app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"name": "x", "pad": "y" * limit}).encode()
    response = post(things_app, io.BytesIO(body), **{"wsgi.input_terminated": True})
    assert response.status_code == 413


def test_chunked_body_within_the_limit_is_read_whole(things_app: Flask) -> None:
    response = post(things_app, io.BytesIO(ITEM), **{"wsgi.input_terminated": True})
    assert response.status_code == 201


def test_deeply_nested_json_is_400(things_app: Flask) -> None:
    depth = 100_000
    body = b"[" * depth + b"]" * depth
    response = things_app.test_client().post(THINGS, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("protocol", "status"), [("HTTP/1.1", 400), ("HTTP/1.0", 200)])
def test_host_is_required_on_http11_only(things_app: Flask, protocol: str, status: int) -> None:
    environ = EnvironBuilder(path="/healthz").get_environ()
    environ["SERVER_PROTOCOL"] = protocol
    del environ["HTTP_HOST"]
    _, status_line, _ = run_wsgi_app(things_app, environ, buffered=True)
    assert int(status_line.split()[0]) == status


@pytest.mark.parametrize("method", ["read", "readline"])
def test_guarded_input_passes_good_bodies_through(method: str) -> None:
    guarded = GuardedInput(io.BytesIO(ITEM), len(ITEM), limit=1024)
    assert getattr(guarded, method)(-1) == ITEM
    assert guarded.read(10) == b""


def test_guarded_input_refuses_a_chunked_body_past_the_limit() -> None:
    guarded = GuardedInput(io.BytesIO(b"x" * 20), None, limit=10)
    with pytest.raises(RequestEntityTooLarge):
        guarded.read(10)


def test_guarded_input_accepts_a_chunked_body_exactly_at_the_limit() -> None:
    guarded = GuardedInput(io.BytesIO(b"x" * 10), None, limit=10)
    assert guarded.read(10) == b"x" * 10


def test_guarded_input_lets_http_errors_through() -> None:
    class Disconnecting(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise ClientDisconnected()

    with pytest.raises(ClientDisconnected):
        GuardedInput(Disconnecting(), 5, limit=10).read(5)
