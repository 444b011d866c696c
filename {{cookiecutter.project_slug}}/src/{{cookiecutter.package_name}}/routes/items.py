"""The items resource, the worked example: create, list by cursor, read, merge-patch, delete;
ETags on reads and If-Match on writes, every error as problem+json."""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, jsonify, request, url_for
from flask.blueprints import BlueprintSetupState
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import BadRequest, NotFound, PreconditionFailed, UnsupportedMediaType

from .. import db
from ..errors import ValidationError
from ..models import Item, utcnow
from ..schemas import FIELDS, validate_item

bp = Blueprint("items", __name__, url_prefix="/api/items")

DEFAULT_LIMIT, MAX_LIMIT = 50, 100
MERGE_PATCH = ("application/merge-patch+json", "application/json")


@bp.record_once
def setup_database(state: BlueprintSetupState) -> None:
    """The database comes with the first blueprint that uses it."""
    db.init_app(cast(Flask, state.app))


def cursors() -> URLSafeSerializer:
    """Signed cursors: opaque to clients, and a tampered one fails to load."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="items-cursor")


def represent(item: Item, status: int = 200) -> Response:
    """The item as JSON with its ETag, which changes whenever the item does."""
    response = jsonify(item.to_dict())
    response.status_code = status
    response.set_etag(str(item.version))
    return response


def find(item_id: int) -> Item:
    """The item, or 404."""
    item = db.session().get(Item, item_id)
    if item is None:
        raise NotFound(f"There is no item {item_id}.")
    return item


def check_if_match(item: Item) -> None:
    """A write that names the version it read fails with 412 once that version is gone."""
    if request.if_match and not request.if_match.contains(str(item.version)):
        raise PreconditionFailed("The item has changed since that ETag was issued.")


def flush_or_412() -> None:
    """Write now: a concurrent writer got there first when no row has the version we read."""
    try:
        db.session().flush()
    except StaleDataError:
        raise PreconditionFailed("The item was changed by another request.") from None


@bp.post("")
def create_item() -> Response:
    """201 with Location; a taken name is a 409 (the unique constraint, via db's handler)."""
    item = Item(**validate_item(request.get_json()))
    db.session().add(item)
    db.session().flush()
    response = represent(item, 201)
    response.headers["Location"] = url_for(".get_item", item_id=item.id)
    return response


@bp.get("")
def list_items() -> dict[str, Any]:
    """A page of items in id order; `next_cursor` continues after its last item (keyset)."""
    limit = request.args.get("limit", str(DEFAULT_LIMIT))
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}.")
    after = 0
    if cursor := request.args.get("cursor"):
        try:
            after = cursors().loads(cursor)
        except BadData:
            raise BadRequest("The cursor is malformed or was tampered with.") from None
    size = int(limit)
    query = select(Item).where(Item.id > after).order_by(Item.id).limit(size + 1)
    items = list(db.session().scalars(query))
    more = len(items) > size
    page = items[:size]
    next_cursor = cursors().dumps(page[-1].id) if more else None
    return {"items": [item.to_dict() for item in page], "next_cursor": next_cursor}


@bp.get("/<int:item_id>")
def get_item(item_id: int) -> Response:
    """The item with its ETag; If-None-Match with the current tag answers 304."""
    response = represent(find(item_id))
    response.make_conditional(request)  # in place
    return response


@bp.patch("/<int:item_id>")
def update_item(item_id: int) -> Response:
    """JSON merge patch (RFC 7396): present fields replace, null restores the default."""
    if request.mimetype not in MERGE_PATCH:
        raise UnsupportedMediaType("Send application/merge-patch+json.")
    patch = request.get_json(force=True)
    item = find(item_id)
    check_if_match(item)
    if not isinstance(patch, dict):
        raise ValidationError([{"field": "", "message": "expected a JSON object"}])
    merged = {field: getattr(item, field) for field in FIELDS}
    merged.update({k: FIELDS.get(k) if v is None else v for k, v in patch.items()})
    for field, value in validate_item(merged).items():
        setattr(item, field, value)
    item.updated_at = utcnow()  # always an UPDATE, so even a no-op patch checks the version
    flush_or_412()
    return represent(item)


@bp.delete("/<int:item_id>")
def delete_item(item_id: int) -> tuple[str, int]:
    """204; with If-Match, only if the item is still the version the client saw."""
    item = find(item_id)
    check_if_match(item)
    db.session().delete(item)
    flush_or_412()
    return "", 204
