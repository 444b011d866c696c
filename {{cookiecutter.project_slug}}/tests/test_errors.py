"""Every error status as application/problem+json (RFC 9457), headers kept, nothing leaked."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_openapi3 import APIBlueprint
from pydantic import Field
from werkzeug.exceptions import TooManyRequests
from werkzeug.test import TestResponse

from {{ cookiecutter.package_name }} import errors
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.errors import PROBLEM_JSON
from {{ cookiecutter.package_name }}.shapes import Parameters

from .things import THINGS


def assert_problem(response: TestResponse, status: int) -> dict[str, object]:
    """The response is problem+json with the RFC 9457 members and the request id."""
    assert response.status_code == status
    assert response.mimetype == PROBLEM_JSON
    body = json.loads(response.get_data())
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body  # type: ignore[no-any-return]


def test_404(client: FlaskClient) -> None:
    body = assert_problem(client.get("/no/such/path"), 404)
    assert body["title"] == "Not Found"


def test_405_keeps_allow(client: FlaskClient) -> None:
    response = client.delete("/healthz")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_400_malformed_json(things_app: Flask) -> None:
    response = things_app.test_client().post(
        THINGS, data="{not json", content_type="application/json"
    )
    assert_problem(response, 400)


def test_415_wrong_content_type(things_app: Flask) -> None:
    response = things_app.test_client().post(THINGS, data="name=x", content_type="text/plain")
    assert_problem(response, 415)


def test_413_oversized_body(things_app: Flask) -> None:
    size = things_app.config["MAX_CONTENT_LENGTH"] + 1
    payload = json.dumps({"name": "x" * size})
    response = things_app.test_client().post(THINGS, data=payload, content_type="application/json")
    assert_problem(response, 413)


def test_422_lists_every_problem(things_app: Flask) -> None:
    client = things_app.test_client()
    response = client.post(THINGS, json={"name": "", "quantity": -1, "colour": "red"})
    body = assert_problem(response, 422)
    pointers = {e["pointer"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert pointers == {"/name", "/quantity", "/colour"}
    assert all(e["message"] for e in body["errors"])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("location", "pointer"),
    [((), ""), (("name",), "/name"), (("tags", 0), "/tags/0"), (("a/b", "c~d"), "/a~1b/c~0d")],
)
def test_pointers_follow_rfc_6901(location: tuple[int | str, ...], pointer: str) -> None:
    assert errors.pointer(location) == pointer


def test_500_leaks_nothing(prod_app: Flask) -> None:
    @prod_app.get("/boom")
    def boom() -> str:
        raise ValueError("password=hunter2 in /srv/app/secret.py")

    response = prod_app.test_client().get("/boom")
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "hunter2" not in text
    assert "Traceback" not in text
    assert "ValueError" not in text
    assert body["title"] == "Internal Server Error"


def test_http_exception_headers_survive(app: Flask) -> None:
    @app.get("/slow-down")
    def slow_down() -> str:
        raise TooManyRequests(retry_after=30)

    response = app.test_client().get("/slow-down")
    assert_problem(response, 429)
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize("path", ["/healthz/", "/no/such/path/"])
def test_error_bodies_are_json_for_any_path(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code >= 400
    assert response.mimetype == PROBLEM_JSON


class WidgetPath(Parameters):
    """A path model as a resource declares it."""

    widget_id: int = Field(ge=1)


class GadgetPath(WidgetPath):
    """One derived from another resource's: still parameters, though not a direct subclass."""


def test_a_bad_parameter_is_a_400_naming_it_whatever_its_model_derives_from() -> None:
    app = create_app({"APP_ENV": "testing"})
    bp = APIBlueprint("gadgets", __name__)

    @bp.get("/gadgets/<widget_id>")
    def gadget(path: GadgetPath) -> dict[str, int]:
        return {"id": path.widget_id}

    app.register_api(bp)
    client = app.test_client()
    assert client.get("/gadgets/7").get_json() == {"id": 7}
    body = assert_problem(client.get("/gadgets/0"), 400)
    assert body["errors"] == [
        {"parameter": "widget_id", "message": "Input should be greater than or equal to 1"}
    ]
