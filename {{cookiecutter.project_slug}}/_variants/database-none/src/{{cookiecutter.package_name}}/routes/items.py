"""An example JSON endpoint showing request validation: 400, 413, 415 and 422 as problem+json."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, request

from ..schemas import validate_item

bp = Blueprint("items", __name__, url_prefix="/api/items")


@bp.post("")
def create_item() -> tuple[dict[str, Any], int]:
    """Validate and echo an item with a new id (no storage: the example is the validation)."""
    # get_json raises 415 for a non-JSON content type, 400 for malformed JSON and 413 past
    # MAX_CONTENT_LENGTH; the error handlers turn each into problem+json.
    item = validate_item(request.get_json())
    return {"id": uuid.uuid4().hex, **item}, 201
