"""The worked example of a stateless service: price an order's lines. The body is checked
against its model (400, 413, 415 and 422 as problem+json) and the answer computed from it alone:
nothing is stored, so the same request always gets the same answer."""

from __future__ import annotations

from typing import Any

from flask_openapi3 import APIBlueprint, Tag

from ..auth import requires
from ..body import require_json_object
from ..openapi import operation_id, problems, returns
from ..schemas import Quote, QuoteIn

bp = APIBlueprint(
    "quotes",
    __name__,
    url_prefix="/api/quotes",
    abp_tags=[Tag(name="quotes")],
    operation_id_callback=operation_id,
)
# 415 for a non-JSON content type, 400 for malformed JSON, 422 for anything but an object;
# flask-openapi3 then validates the object against QuoteIn (422 pointing at each broken field).
bp.before_request(require_json_object)


@bp.post("", responses={200: returns(Quote, "The priced lines"), **problems(400, 413, 415, 422)})
@requires("quotes:create")
def create_quote(body: QuoteIn) -> dict[str, Any]:
    """Price each line (quantity times unit price, in cents) and the whole order."""
    lines = [line.model_dump() | {"amount": line.quantity * line.unit_price} for line in body.lines]
    return {"lines": lines, "total": sum(line["amount"] for line in lines)}
