"""An example JSON endpoint showing request validation: 400, 413, 415 and 422 as problem+json."""

from __future__ import annotations

import uuid
from typing import Any

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from ..auth import requires
from ..body import require_json_object
from ..openapi import operation_id, problems, returns
from ..schemas import ItemIn

bp = APIBlueprint(
    "items",
    __name__,
    url_prefix="/api/items",
    abp_tags=[Tag(name="items")],
    operation_id_callback=operation_id,
)
# 415 for a non-JSON content type, 400 for malformed JSON, 422 for anything but an object;
# flask-openapi3 then validates the object against ItemIn (422 naming each broken field).
bp.before_request(require_json_object)


class CreatedItem(BaseModel):
    """The item as received, with a new id."""

    id: str
    name: str
    quantity: int


@bp.post("", responses={201: returns(CreatedItem, "Created"), **problems(400, 413, 415, 422)})
@requires("items:write")
def create_item(body: ItemIn) -> tuple[dict[str, Any], int]:
    """Validate and echo an item with a new id (no storage: the example is the validation)."""
    return {"id": uuid.uuid4().hex, **body.model_dump()}, 201
