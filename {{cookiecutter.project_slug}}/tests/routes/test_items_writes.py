"""Writes to existing items: merge patches, deletes, and If-Match against concurrent change."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ..db.support import MERGE, create


def test_merge_patch_changes_only_what_it_names(client: FlaskClient) -> None:
    item = create(client, "widget", 5)
    url = f"/api/items/{item['id']}"
    response = client.patch(url, json={"quantity": 7}, content_type=MERGE)
    assert response.status_code == 200
    assert response.json is not None
    assert (response.json["name"], response.json["quantity"]) == ("widget", 7)
    assert response.headers["ETag"] == '"2"'
    restored = client.patch(url, json={"quantity": None}, content_type=MERGE).json
    assert restored is not None
    assert restored["quantity"] == 1


@pytest.mark.parametrize(
    ("patch", "status"),
    [
        ({"name": None}, 422),
        ({"name": ""}, 422),
        ({"colour": "red"}, 422),
        ({"colour": None}, 422),
        ([1], 422),
        ('{"quantity": 2}', 422),
    ],
)
def test_invalid_patches(client: FlaskClient, patch: object, status: int) -> None:
    item = create(client, "widget")
    response = client.patch(f"/api/items/{item['id']}", json=patch, content_type=MERGE)
    assert response.status_code == status


def test_patch_wants_a_json_media_type(client: FlaskClient) -> None:
    item = create(client, "widget")
    response = client.patch(f"/api/items/{item['id']}", data="quantity=2")
    assert response.status_code == 415


def test_patch_to_a_taken_name_is_409(client: FlaskClient) -> None:
    create(client, "taken")
    item = create(client, "widget")
    response = client.patch(f"/api/items/{item['id']}", json={"name": "taken"}, content_type=MERGE)
    assert response.status_code == 409


def test_a_stale_if_match_is_412_and_changes_nothing(client: FlaskClient) -> None:
    item = create(client, "widget")
    url = f"/api/items/{item['id']}"
    assert client.patch(url, json={"quantity": 2}, headers={"If-Match": '"1"'}).status_code == 200
    stale = client.patch(url, json={"quantity": 3}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    assert client.delete(url, headers={"If-Match": '"1"'}).status_code == 412
    assert client.get(url).json["quantity"] == 2  # type: ignore[index]


def test_delete_is_204_then_404(client: FlaskClient) -> None:
    item = create(client, "widget")
    url = f"/api/items/{item['id']}"
    assert client.delete(url, headers={"If-Match": '"1"'}).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404


def test_a_deleted_items_id_is_never_reused(client: FlaskClient) -> None:
    first = create(client, "first")
    client.delete(f"/api/items/{first['id']}")
    assert create(client, "second")["id"] > first["id"]
