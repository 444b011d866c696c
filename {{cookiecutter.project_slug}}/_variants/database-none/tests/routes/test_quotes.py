"""The example endpoint: an order's lines are priced from the body alone; a body that breaks the
contract gets 422 pointing at each broken field, and nothing else is accepted."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.schemas import MAX_LINES, MAX_PRICE, MAX_QUANTITY

LINE = {"name": "widget", "quantity": 3, "unit_price": 250}


def test_prices_each_line_and_the_total(client: FlaskClient) -> None:
    lines = [{**LINE, "name": "  widget "}, {"name": "gadget", "unit_price": 1999}]
    response = client.post("/api/quotes", json={"lines": lines})
    assert response.status_code == 200
    assert response.json == {
        "lines": [
            {"name": "widget", "quantity": 3, "unit_price": 250, "amount": 750},
            {"name": "gadget", "quantity": 1, "unit_price": 1999, "amount": 1999},
        ],
        "total": 2749,
    }


def test_the_largest_order_is_priced_exactly(client: FlaskClient) -> None:
    line = {"name": "bulk", "quantity": MAX_QUANTITY, "unit_price": MAX_PRICE}
    response = client.post("/api/quotes", json={"lines": [line] * MAX_LINES})
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["total"] == MAX_LINES * MAX_QUANTITY * MAX_PRICE
    assert response.json["total"] < 2**53  # still exact in every client's JSON numbers


@pytest.mark.parametrize(
    ("payload", "pointers"),
    [
        ([LINE], {""}),
        ('{"lines": []}', {""}),  # a JSON string holding JSON is not an object
        ({}, {"/lines"}),
        ({"lines": []}, {"/lines"}),
        ({"lines": [LINE] * (MAX_LINES + 1)}, {"/lines"}),
        ({"lines": [LINE, {**LINE, "name": " "}]}, {"/lines/1/name"}),
        ({"lines": [{**LINE, "quantity": True}]}, {"/lines/0/quantity"}),
        ({"lines": [{**LINE, "quantity": 1.5}]}, {"/lines/0/quantity"}),
        ({"lines": [{**LINE, "unit_price": "2.50"}]}, {"/lines/0/unit_price"}),
        ({"lines": [{**LINE, "unit_price": MAX_PRICE + 1}]}, {"/lines/0/unit_price"}),
        ({"lines": [{"name": "widget"}]}, {"/lines/0/unit_price"}),
        ({"lines": [{**LINE, "extra": 1}]}, {"/lines/0/extra"}),
        ({"lines": [LINE], "currency": "EUR"}, {"/currency"}),
    ],
)
def test_invalid_payloads(client: FlaskClient, payload: object, pointers: set[str]) -> None:
    response = client.post("/api/quotes", json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json is not None
    assert {e["pointer"] for e in response.json["errors"]} == pointers


def test_a_whole_number_written_as_a_float_is_an_integer(client: FlaskClient) -> None:
    response = client.post("/api/quotes", json={"lines": [{**LINE, "quantity": 3.0}]})
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["total"] == 750


def test_get_is_not_allowed(client: FlaskClient) -> None:
    response = client.get("/api/quotes")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
