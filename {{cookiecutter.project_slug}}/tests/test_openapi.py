"""The OpenAPI document: valid 3.1, covering every route with its errors as problem+json, and
the same as the committed openapi.json (`make openapi` after changing a route or a model)."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from openapi_spec_validator import validate

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.errors import PROBLEM_JSON
from {{ cookiecutter.package_name }}.openapi import SERVER_LIMITS

from .servers import PROJECT, SECRET

PROBLEM = {"schema": {"$ref": "#/components/schemas/Problem"}}
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture
def document(app: Flask) -> dict[str, object]:
    """The document as the service serves it."""
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.json is not None
    return response.json  # type: ignore[no-any-return]


def operations(document: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    """(path, method, operation) for every operation in the document."""
    paths: dict[str, dict[str, dict[str, object]]] = document["paths"]  # type: ignore[assignment]
    return [(p, m, op) for p, item in paths.items() for m, op in item.items() if m in METHODS]


def test_it_is_valid_openapi_3_1(document: dict[str, object]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_it_matches_the_committed_openapi_json(document: dict[str, object]) -> None:
    committed = json.loads((PROJECT / "openapi.json").read_text())
    assert document == committed, "the contract changed: run `make openapi` and commit the diff"


def test_every_route_is_in_it(app: Flask, document: dict[str, object]) -> None:
    documented = {(path, method) for path, method, _ in operations(document)}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("docs."):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
            assert (path, method.lower()) in documented


def test_every_error_is_problem_json(document: dict[str, object]) -> None:
    for path, method, operation in operations(document):
        responses: dict[str, dict[str, object]] = operation["responses"]  # type: ignore[assignment]
        assert any(status.startswith("2") for status in responses), (path, method)
        for status, response in responses.items():
            if status in SERVER_LIMITS:  # gunicorn's own page, before the app
                assert response == SERVER_LIMITS[status], (path, method, status)
            elif int(status) >= 400:
                assert response["content"] == {PROBLEM_JSON: PROBLEM}, (path, method, status)


def test_validation_errors_are_described_with_pointers(document: dict[str, object]) -> None:
    schemas: dict[str, dict[str, dict[str, object]]] = document["components"]["schemas"]  # type: ignore[index]
    assert {"pointer", "parameter", "message"} <= schemas["FieldError"]["properties"].keys()
    assert "errors" in schemas["Problem"]["properties"]


@pytest.mark.parametrize(("value", "served"), [(None, False), ("0", False), ("1", True)])
def test_production_serves_the_contract_only_with_api_docs(value: str | None, served: bool) -> None:
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": "sqlite://"}
    if value is not None:
        env["API_DOCS"] = value
    app = create_app(env)
    client = app.test_client()
    for path in ("/openapi.json", "/docs", "/docs/start.js"):
        assert client.get(path).status_code == (200 if served else 404)
