"""What the document says about items beyond their shapes: preconditions, pagination, links."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient


@pytest.fixture
def paths(client: FlaskClient) -> dict[str, Any]:
    """The document's paths."""
    document = client.get("/openapi.json").json
    assert document is not None
    return document["paths"]  # type: ignore[no-any-return]


def parameters(operation: dict[str, Any]) -> dict[str, str]:
    """Parameter name -> where it goes."""
    return {p["name"]: p["in"] for p in operation.get("parameters", [])}


def test_reads_and_writes_describe_their_preconditions(paths: dict[str, Any]) -> None:
    item = paths["/api/items/{item_id}"]
    assert parameters(item["get"]) == {"item_id": "path", "If-None-Match": "header"}
    assert "304" in item["get"]["responses"]
    assert "ETag" in item["get"]["responses"]["200"]["headers"]
    for method in ("patch", "delete"):
        assert parameters(item[method]) == {"item_id": "path", "If-Match": "header"}
        assert "412" in item[method]["responses"]


def test_the_list_describes_its_pagination(paths: dict[str, Any]) -> None:
    listing = paths["/api/items"]["get"]
    assert parameters(listing) == {"limit": "query", "cursor": "query"}
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 50)


def test_creation_links_to_the_new_item(paths: dict[str, Any]) -> None:
    created = paths["/api/items"]["post"]["responses"]["201"]
    assert {"ETag", "Location"} <= created["headers"].keys()
    assert {link["operationId"] for link in created["links"].values()} == {
        "get_item",
        "update_item",
        "delete_item",
    }


def test_the_patch_body_is_a_merge_patch(paths: dict[str, Any]) -> None:
    body = paths["/api/items/{item_id}"]["patch"]["requestBody"]["content"]
    assert list(body) == ["application/merge-patch+json"]
