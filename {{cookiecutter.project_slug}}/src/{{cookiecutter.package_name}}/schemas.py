"""What a valid item is: the rules every write checks, each broken one reported by field."""

from __future__ import annotations

from typing import Any

from .errors import ValidationError

NAME_LENGTH = 100  # models.Item.name holds as many
MAX_QUANTITY = 10_000
FIELDS = {"name": None, "quantity": 1}  # a field's default; None means required


def validate_item(payload: Any) -> dict[str, Any]:
    """Return the clean item, or raise ValidationError listing every broken rule."""
    if not isinstance(payload, dict):
        raise ValidationError([{"field": "", "message": "expected a JSON object"}])
    errors = []
    name = payload.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= NAME_LENGTH:
        errors.append(
            {"field": "name", "message": f"expected a string of 1 to {NAME_LENGTH} characters"}
        )
    quantity = payload.get("quantity", FIELDS["quantity"])
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        quantity = -1
    if not 0 <= quantity <= MAX_QUANTITY:
        errors.append(
            {"field": "quantity", "message": f"expected an integer from 0 to {MAX_QUANTITY}"}
        )
    unknown = sorted(payload.keys() - FIELDS.keys())
    errors += [{"field": field, "message": "unknown field"} for field in unknown]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "quantity": quantity}
