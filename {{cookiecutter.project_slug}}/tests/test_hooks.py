"""Request hooks in Flask's lifecycle order, request ids and timing."""

from __future__ import annotations

import os
import re
import warnings
from typing import NoReturn

import pytest
from flask import Flask, Response, abort
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.context import new_request_id

HEX_ID = re.compile(r"[0-9a-f]{32}")


def record_lifecycle(app: Flask, events: list[str]) -> None:
    """Add hooks after the service's own and a view, each noting when it ran."""

    @app.before_request
    def before() -> None:
        events.append("before_request")

    @app.after_request
    def after(response: Response) -> Response:
        events.append("after_request")
        return response

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        events.append(f"teardown:{type(error).__name__ if error else None}")

    @app.get("/probe/ok")
    def ok() -> dict[str, bool]:
        events.append("view")
        return {"ok": True}

    @app.get("/probe/abort")
    def aborts() -> NoReturn:
        events.append("view")
        abort(409)

    @app.get("/probe/crash")
    def crash() -> NoReturn:
        events.append("view")
        raise RuntimeError("secret internals")


def test_hook_order_on_success(app: Flask) -> None:
    events: list[str] = []
    record_lifecycle(app, events)
    response = app.test_client().get("/probe/ok")
    assert response.status_code == 200
    assert events == ["before_request", "view", "after_request", "teardown:None"]
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_before_request_short_circuit_skips_the_view_not_after_request(app: Flask) -> None:
    events: list[str] = []
    record_lifecycle(app, events)
    app.before_request_funcs[None].append(lambda: ({"short": "circuit"}, 202))
    response = app.test_client().get("/probe/ok")
    assert response.status_code == 202
    assert response.json == {"short": "circuit"}
    assert events == ["before_request", "after_request", "teardown:None"]
    assert "X-Request-ID" in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_after_request_runs_on_handled_http_errors(app: Flask) -> None:
    events: list[str] = []
    record_lifecycle(app, events)
    response = app.test_client().get("/probe/abort")
    assert response.status_code == 409
    assert events == ["before_request", "view", "after_request", "teardown:None"]
    assert "X-Request-ID" in response.headers


def test_handled_500_runs_after_request_and_teardown_sees_the_exception(
    prod_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[str] = []
    record_lifecycle(prod_app, events)
    response = prod_app.test_client().get("/probe/crash")
    assert response.status_code == 500
    assert events == ["before_request", "view", "after_request", "teardown:RuntimeError"]
    failure = next(r for r in caplog.records if r.getMessage() == "request failed")
    assert failure.request_id == response.headers["X-Request-ID"]  # type: ignore[attr-defined]
    assert failure.error == "RuntimeError"  # type: ignore[attr-defined]


def test_propagated_exception_skips_after_request_but_not_teardown(app: Flask) -> None:
    events: list[str] = []
    record_lifecycle(app, events)
    with pytest.raises(RuntimeError, match="secret internals"):
        app.test_client().get("/probe/crash")
    assert events == ["before_request", "view", "teardown:RuntimeError"]


@pytest.mark.parametrize(
    "incoming", ["abc-123", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "req.1:part_2"]
)
def test_well_formed_request_id_is_echoed(app: Flask, incoming: str) -> None:
    response = app.test_client().get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["", "has space", "x" * 129, "-leading-dash", "semi;colon", "caf\u00e9", "a\tb", "<script>"],
)
def test_malformed_request_id_is_replaced(app: Flask, incoming: str) -> None:
    response = app.test_client().get("/healthz", headers={"X-Request-ID": incoming})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_each_request_gets_its_own_id(client: FlaskClient) -> None:
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


def test_forked_workers_do_not_repeat_ids() -> None:
    """gunicorn forks its workers from one master: each must draw its own ids."""
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded pytest
        pid = os.fork()
    if pid == 0:  # the child writes one id and leaves at once
        os.write(write_end, new_request_id().encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as child:
        assert HEX_ID.fullmatch(child_id := child.read())
    assert child_id != new_request_id()


def test_server_timing(client: FlaskClient) -> None:
    timing = client.get("/healthz").headers["Server-Timing"]
    assert re.fullmatch(r"app;dur=\d+\.\d{2}", timing)
