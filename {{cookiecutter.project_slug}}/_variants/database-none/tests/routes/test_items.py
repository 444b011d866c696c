"""The example endpoint: a valid item is echoed with an id; invalid payloads get 422."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


def test_creates_an_item(client: FlaskClient) -> None:
    response = client.post("/api/items", json={"name": "  widget ", "quantity": 3})
    assert response.status_code == 201
    assert response.json is not None
    assert response.json["name"] == "widget"
    assert response.json["quantity"] == 3
    assert len(response.json["id"]) == 32


def test_quantity_defaults_to_one(client: FlaskClient) -> None:
    response = client.post("/api/items", json={"name": "widget"})
    assert response.json is not None
    assert response.json["quantity"] == 1


@pytest.mark.parametrize(
    ("payload", "pointers"),
    [
        ([1, 2], {""}),
        ("widget", {""}),
        ('{"name": "smuggled"}', {""}),  # a JSON string holding JSON is not an object
        (0, {""}),
        ({}, {"/name"}),
        ({"name": 5}, {"/name"}),
        ({"name": "x" * 101}, {"/name"}),
        ({"name": "ok", "quantity": True}, {"/quantity"}),
        ({"name": "ok", "quantity": 1.5}, {"/quantity"}),
        ({"name": "ok", "quantity": 10_001}, {"/quantity"}),
        ({"name": "ok", "extra": 1}, {"/extra"}),
    ],
)
def test_invalid_payloads(client: FlaskClient, payload: object, pointers: set[str]) -> None:
    response = client.post("/api/items", json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json is not None
    assert {e["pointer"] for e in response.json["errors"]} == pointers


def test_get_is_not_allowed(client: FlaskClient) -> None:
    response = client.get("/api/items")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
