"""The items resource in-process: create, list by cursor, read, merge-patch, delete, and every
error as problem+json (real servers and concurrent writers: tests/db/)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.schemas import WHITESPACE

from ..db.support import create


def test_create_answers_201_with_location_and_etag(client: FlaskClient) -> None:
    response = client.post("/api/items", json={"name": "  widget ", "quantity": 3})
    assert response.status_code == 201
    assert response.json is not None
    assert response.json["name"] == "widget"
    assert response.json["quantity"] == 3
    assert response.headers["Location"] == f"/api/items/{response.json['id']}"
    assert response.headers["ETag"] == '"1"'
    assert client.get(response.headers["Location"]).json == response.json


def test_quantity_defaults_to_one(client: FlaskClient) -> None:
    assert create(client, "widget")["quantity"] == 1


def test_an_integral_float_is_an_integer_as_json_schema_says(client: FlaskClient) -> None:
    response = client.post("/api/items", json={"name": "widget", "quantity": 3.0})
    assert response.status_code == 201
    assert response.json is not None
    assert response.json["quantity"] == 3


def test_a_taken_name_is_a_409(client: FlaskClient) -> None:
    create(client, "widget")
    response = client.post("/api/items", json={"name": "widget"})
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "UNIQUE" not in response.get_data(as_text=True).upper()


@pytest.mark.parametrize(
    ("payload", "pointers"),
    [
        ([1, 2], {""}),
        ("widget", {""}),
        ('{"name": "smuggled"}', {""}),  # a JSON string holding JSON is not an object
        ({}, {"/name"}),
        ({"name": 5}, {"/name"}),
        ({"name": "   "}, {"/name"}),
        ({"name": "x" * 101}, {"/name"}),
        ({"name": " " + "x" * 100}, {"/name"}),  # the limit holds before stripping, as documented
        ({"name": " \u3000\ufeff "}, {"/name"}),  # whitespace to JSON Schema's \s
        ({"name": "ok", "quantity": True}, {"/quantity"}),
        ({"name": "ok", "quantity": "3"}, {"/quantity"}),
        ({"name": "ok", "quantity": 1.5}, {"/quantity"}),
        ({"name": "ok", "quantity": 10_001}, {"/quantity"}),
        ({"name": "ok", "extra": 1}, {"/extra"}),
    ],
)
def test_invalid_payloads_are_422(client: FlaskClient, payload: object, pointers: set[str]) -> None:
    response = client.post("/api/items", json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json is not None
    assert {e["pointer"] for e in response.json["errors"]} == pointers


@pytest.mark.parametrize("space", WHITESPACE)
def test_a_name_of_json_schemas_whitespace_is_blank(client: FlaskClient, space: str) -> None:
    assert client.post("/api/items", json={"name": space * 2}).status_code == 422


@pytest.mark.parametrize("other", ["\x1c", "\x1f", "\x85"])
def test_what_only_python_calls_whitespace_is_a_name(client: FlaskClient, other: str) -> None:
    """The document's pattern admits these, so the service must too (str.strip() would not)."""
    response = client.post("/api/items", json={"name": f" {other} "})
    assert response.status_code == 201
    assert response.json is not None
    assert response.json["name"] == other


def test_read_missing_is_404(client: FlaskClient) -> None:
    response = client.get("/api/items/999")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_read_honours_if_none_match(client: FlaskClient) -> None:
    item = create(client, "widget")
    assert (
        client.get(f"/api/items/{item['id']}", headers={"If-None-Match": '"1"'}).status_code == 304
    )


@pytest.mark.parametrize(
    ("tags", "status"),
    [('"1"', 304), ('W/"1"', 304), ('"0", "1"', 304), ("*", 304), ('"2"', 200), ("junk", 200)],
)
def test_if_none_match_compares_weakly(client: FlaskClient, tags: str, status: int) -> None:
    """RFC 9110, 13.1.2: a weak tag matches too, * matches any item; a 304 has no body."""
    item = create(client, "widget")
    response = client.get(f"/api/items/{item['id']}", headers={"If-None-Match": tags})
    assert response.status_code == status
    assert response.headers["ETag"] == '"1"'
    assert (response.get_data() == b"") is (status == 304)


def test_list_pages_with_an_opaque_cursor(client: FlaskClient) -> None:
    names = [f"item-{n:02d}" for n in range(7)]
    for name in names:
        create(client, name)
    seen, cursor = [], None
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/items", query_string=query).json
        assert page is not None
        assert len(page["items"]) <= 3
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert not cursor.isdigit()
    assert seen == names


def test_list_defaults_to_50(client: FlaskClient) -> None:
    for n in range(51):
        create(client, f"item-{n}")
    page = client.get("/api/items").json
    assert page is not None
    assert len(page["items"]) == 50
    assert page["next_cursor"]


@pytest.mark.parametrize(
    "query",
    [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"cursor": "garbage"}, {"cursor": "MQ.x"}],
)
def test_bad_paging_is_400(client: FlaskClient, query: dict[str, object]) -> None:
    response = client.get("/api/items", query_string=query)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("url", "parameter"), [("/api/items?limit=ten", "limit"), ("/api/items/0", "item_id")]
)
def test_a_bad_parameter_is_400_naming_it(client: FlaskClient, url: str, parameter: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json is not None
    assert [e["parameter"] for e in response.json["errors"]] == [parameter]


def test_a_tampered_cursor_is_400(client: FlaskClient) -> None:
    for n in range(3):
        create(client, f"item-{n}")
    cursor = client.get("/api/items?limit=1").json["next_cursor"]  # type: ignore[index]
    forged = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    assert client.get("/api/items", query_string={"cursor": forged}).status_code == 400
