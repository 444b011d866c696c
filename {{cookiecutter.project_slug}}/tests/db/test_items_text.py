"""Names on each database: whatever the API admits is stored and read back unchanged, and what
one database could not hold (NUL, lone surrogates) is refused on all of them, with a 422."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from {{ cookiecutter.package_name }}.app import create_app

from .support import MERGE, create

ODD_NAMES = [
    "ok\x01\x1f\x7f",  # control characters other than NUL
    "\x85\u200b\u2060",  # space to Python, or zero-width, but not in JSON Schema's \s
    "🦄 \U0010ffff",  # beyond the BMP: four bytes in UTF-8, two UTF-16 units in JSON
    "é" * 100,  # the length limit counts characters, not bytes
    "a\u0301",  # a combining accent, stored as sent (no normalisation)
]


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The service on a migrated, empty database of each kind."""
    app = create_app({"APP_ENV": "development", "DATABASE_URL": database_url})
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a driver's error must answer as it would live
    yield app
    app.extensions["db"].kw["bind"].dispose()  # before the database is dropped


@pytest.mark.parametrize("name", ODD_NAMES, ids=range(len(ODD_NAMES)))
def test_an_admitted_name_is_stored_as_sent(app: Flask, name: str) -> None:
    client = app.test_client()
    created = create(client, name)
    assert client.get(f"/api/items/{created['id']}").get_json()["name"] == name
    assert client.delete(f"/api/items/{created['id']}").status_code == 204  # frees the name
    item = create(client, "other")
    patched = client.patch(f"/api/items/{item['id']}", json={"name": name}, content_type=MERGE)
    assert patched.status_code == 200, patched.get_json()
    assert client.get(f"/api/items/{item['id']}").get_json()["name"] == name


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('"a\\u0000"', "NUL"),  # PostgreSQL's text cannot hold it
        ('"\\u0000"', "NUL"),
        ('"\\ud800x"', "unicode"),  # a lone surrogate is no UTF-8
        ('"x\\udfff"', "unicode"),
    ],
)
def test_a_name_no_database_could_hold_is_422(app: Flask, raw: str, message: str) -> None:
    client = app.test_client()
    item = create(client, "kept")
    body = '{"name": ' + raw + "}"  # raw JSON: json.dumps() would not write a lone surrogate
    writes = [
        client.post("/api/items", data=body, content_type="application/json"),
        client.patch(f"/api/items/{item['id']}", data=body, content_type=MERGE),
    ]
    for response in writes:
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        [error] = response.get_json()["errors"]
        assert error["pointer"] == "/name"
        assert message in error["message"]
    assert client.get(f"/api/items/{item['id']}").get_json()["name"] == "kept"
