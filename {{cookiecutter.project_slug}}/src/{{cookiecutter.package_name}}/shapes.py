"""The shapes every API model builds on: what a body, a parameter and a response model are."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

Absent = SkipJsonSchema[None]  # `T | Absent = None`: may be left out, but is never null


def _no_null_defaults(schema: dict[str, Any]) -> None:
    """A `T | Absent = None` field may be left out, but null is not one of its values."""
    for field in schema.get("properties", {}).values():
        if field.get("default", ...) is None:
            del field["default"]


class Model(BaseModel):
    """Every model here: documented without the null defaults of optional fields."""

    model_config = ConfigDict(json_schema_extra=_no_null_defaults)


class Body(Model):
    """A JSON request body: JSON's own types only (no "3" for 3), unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class InvalidParameters(Exception):
    """Parameters failed validation: raised instead of pydantic's ValidationError, so that the
    answer (400 naming the parameter) follows the model's type, subclasses included."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(error.title)
        self.errors = [(str(e["loc"][0]), e["msg"]) for e in error.errors(include_url=False)]


class Parameters(Model):
    """Path, query or header parameters (strings on the wire, so converted, not strict)."""

    @model_validator(mode="wrap")
    @classmethod
    def _as_parameters(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as error:
            raise InvalidParameters(error) from None

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """flask-openapi3 asks for the schema on every request it validates: build it once
        (tests/test_internals.py fails if it stops asking, or stops asking the model)."""
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        return _schema_of(cls)


@cache
def _schema_of(model: type[Parameters]) -> dict[str, Any]:
    return super(Parameters, model).model_json_schema()
