"""The items resource, the worked example: create, list by cursor, read, merge-patch, delete;
ETags on reads and If-Match on writes, every error as problem+json."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Response, current_app, jsonify, request, url_for
from flask_openapi3 import APIBlueprint, Tag
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import delete, select, update
from werkzeug.exceptions import BadRequest, NotFound, PreconditionFailed, UnsupportedMediaType

from .. import db, writes
from ..auth import requires
from ..body import merge_patch, require_json_object
from ..models import Item, utcnow
from ..openapi import operation_id, problems, reads_headers, request_body, response_header, returns
from ..schemas import (
    IdempotencyKeyHeader,
    IfMatch,
    IfNoneMatch,
    ItemIn,
    ItemPage,
    ItemPatch,
    ItemPath,
    ItemsQuery,
)
from ..schemas import Item as ItemOut

bp = APIBlueprint(
    "items",
    __name__,
    url_prefix="/api/items",
    abp_tags=[Tag(name="items")],
    operation_id_callback=operation_id,
)
bp.before_request(require_json_object)

MERGE_PATCH = ("application/merge-patch+json", "application/json")
ETAG = {"ETag": response_header("The item's version, for If-Match and If-None-Match")}
# Where a new item's id can go next; the stateful contract tests follow these links.
LINKS = {
    name: {"operationId": name, "parameters": {"item_id": "$response.body#/id"}}
    for name in ("get_item", "update_item", "delete_item")
}
CREATED = returns(
    ItemOut, "Created", headers=ETAG | {"Location": response_header("Its URL")}, links=LINKS
)
ITEM = returns(ItemOut, "The item", headers=ETAG)
NOT_MODIFIED = {"description": "The If-None-Match tag is current", "headers": ETAG}


def represent(item: Item, status: int = 200) -> Response:
    """The item as JSON with its ETag, which changes whenever the item does; a 304 has no body."""
    response = Response() if status == 304 else jsonify(item.to_dict())
    response.status_code = status
    response.set_etag(str(item.version))
    return response


def find(item_id: int) -> Item:
    """The item, or 404."""
    if (item := db.session().get(Item, item_id)) is None:
        raise NotFound(f"There is no item {item_id}.")
    return item


def unchanged(item_id: int) -> NoReturn:
    """A write matched no row: no such item (404), or its If-Match names a gone version (412)."""
    find(item_id)
    raise PreconditionFailed("The item has changed since that ETag was issued.")


@bp.post("", responses={201: CREATED, **problems(400, 409, 413, 415, 422, 503)})
@reads_headers(IdempotencyKeyHeader)
@writes.idempotent
@requires("items:write")
def create_item(body: ItemIn) -> Response:
    """Create an item: 201 with Location; a taken name is 409.

    With an Idempotency-Key, a retry is answered as the first request was and creates nothing.
    """
    item = Item(**body.model_dump())
    db.session().add(item)
    db.commit()  # a taken name fails here: db's handler answers 409
    response = represent(item, 201)
    response.headers["Location"] = url_for(".get_item", item_id=item.id)
    return response


@bp.get("", responses={200: returns(ItemPage, "A page of items"), **problems(400, 503)})
@requires("items:read")
def list_items(query: ItemsQuery) -> dict[str, Any]:
    """List items in id order, a page at a time (keyset pagination behind an opaque cursor)."""
    after, cursors = 0, URLSafeSerializer(current_app.config["SECRET_KEY"], salt="items-cursor")
    if query.cursor is not None:  # signed: opaque to clients, and a tampered one fails to load
        try:
            after = cursors.loads(query.cursor)
        except BadData:
            raise BadRequest("The cursor is malformed or was tampered with.") from None
    statement = select(Item).where(Item.id > after).order_by(Item.id).limit(query.limit + 1)
    items = list(db.session().scalars(statement))
    page = items[: query.limit]
    next_cursor = cursors.dumps(page[-1].id) if len(items) > query.limit else None
    return {"items": [item.to_dict() for item in page], "next_cursor": next_cursor}


@bp.get("/<int:item_id>", responses={200: ITEM, 304: NOT_MODIFIED, **problems(400, 404, 503)})
@reads_headers(IfNoneMatch)
@requires("items:read")
def get_item(path: ItemPath) -> Response:
    """Read an item with its ETag; If-None-Match with the current tag answers 304."""
    item = find(path.item_id)
    # Compared weakly (RFC 9110, 13.1.2), `*` matching any item: make_conditional minus Date.
    return represent(item, 304 if request.if_none_match.contains_weak(str(item.version)) else 200)


@bp.patch(
    "/<int:item_id>",
    responses={200: ITEM, **problems(400, 404, 409, 412, 413, 415, 422, 503)},
    openapi_extensions=request_body(ItemPatch, "application/merge-patch+json"),
)
@reads_headers(IfMatch)
@requires("items:write")
def update_item(path: ItemPath) -> Response:
    """Change an item with a JSON merge patch (RFC 7396); null restores a default."""
    if request.mimetype not in MERGE_PATCH:
        raise UnsupportedMediaType("Send application/merge-patch+json.")
    # One UPDATE, after the patch is validated (a bad one is 422 either way): writes.if_match.
    changes = merge_patch(ItemIn) | {"version": Item.version + 1, "updated_at": utcnow()}
    statement = update(Item).where(Item.id == path.item_id, *writes.if_match(Item.version))
    if (item := db.session().scalar(statement.values(changes).returning(Item))) is None:
        unchanged(path.item_id)
    db.commit()
    return represent(item)


@bp.delete("/<int:item_id>", responses={204: None, **problems(400, 404, 412, 503)})
@reads_headers(IfMatch)
@requires("items:write")
def delete_item(path: ItemPath) -> tuple[str, int]:
    """Delete an item; with If-Match, only if it is still the version the client saw."""
    statement = delete(Item).where(Item.id == path.item_id, *writes.if_match(Item.version))
    if db.session().scalar(statement.returning(Item.id)) is None:
        unchanged(path.item_id)
    db.commit()
    return "", 204
