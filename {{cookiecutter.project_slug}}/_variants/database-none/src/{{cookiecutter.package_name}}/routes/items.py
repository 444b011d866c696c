"""An example JSON endpoint showing request validation: 400, 413, 415 and 422 as problem+json."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, request

from ..errors import ValidationError

bp = Blueprint("items", __name__, url_prefix="/api/items")

MAX_NAME = 100
MAX_QUANTITY = 10_000


def validate_item(payload: Any) -> dict[str, Any]:
    """Return the clean item, or raise ValidationError listing every broken rule."""
    if not isinstance(payload, dict):
        raise ValidationError([{"field": "", "message": "expected a JSON object"}])
    errors = []
    name = payload.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= MAX_NAME:
        errors.append(
            {"field": "name", "message": f"expected a string of 1 to {MAX_NAME} characters"}
        )
    quantity = payload.get("quantity", 1)
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 0 <= quantity <= MAX_QUANTITY
    ):
        errors.append(
            {"field": "quantity", "message": f"expected an integer from 0 to {MAX_QUANTITY}"}
        )
    unknown = sorted(set(payload) - {"name", "quantity"})
    errors += [{"field": field, "message": "unknown field"} for field in unknown]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "quantity": quantity}


@bp.post("")
def create_item() -> tuple[dict[str, Any], int]:
    """Validate and echo an item with a new id (no storage: the example is the validation)."""
    # get_json raises 415 for a non-JSON content type, 400 for malformed JSON and 413 past
    # MAX_CONTENT_LENGTH; the error handlers turn each into problem+json.
    item = validate_item(request.get_json())
    return {"id": uuid.uuid4().hex, **item}, 201
