"""The API's shapes, declared once as pydantic models: flask-openapi3 validates requests with
them and writes them into /openapi.json."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from .shapes import Absent, Body, Model, Parameters

NAME_LENGTH = 100  # at most models.NAME_LENGTH, what the column holds
MAX_QUANTITY = 10_000
MAX_ID = 2**31 - 1  # the id column is a 32-bit integer on every database
DEFAULT_LIMIT, MAX_LIMIT = 50, 100


# Whitespace as JSON Schema's patterns know it (ECMA-262's \s), so that the service and its
# document agree on what a blank name is: str.strip() alone would also take \x1c-\x1f and \x85,
# and pydantic's own \S (Rust's) would still count \ufeff as a letter.
WHITESPACE = (
    "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
NUL = "\x00"  # no PostgreSQL text can hold it, so no database here is asked to
_SPACES = "".join(f"\\u{ord(space):04x}" for space in WHITESPACE)
NAME_PATTERN = f"^[^\\u0000]*[^\\u0000{_SPACES}][^\\u0000]*$"  # no NUL, one non-space


def stripped(name: str) -> str:
    """The name as stored, without surrounding whitespace; blank once stripped is no name."""
    if NUL in name:
        raise ValueError("String should not contain NUL (U+0000)")
    if not (name := name.strip(WHITESPACE)):
        raise ValueError("String should not be blank")
    return name


# The limits hold for the name as sent, as the document says (JSON Schema cannot strip first):
# at most NAME_LENGTH characters, one of them not whitespace, none of them NUL. stripped() checks
# the pattern's two rules itself, to say which one a name broke.
Name = Annotated[
    str,
    Field(max_length=NAME_LENGTH, json_schema_extra={"pattern": NAME_PATTERN}),
    AfterValidator(stripped),
]


def json_integer(value: object) -> object:
    """JSON Schema's integer: 3.0 is one (clients' encoders write it), true and "3" are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY), BeforeValidator(json_integer)]
# A row's id, or a reference to one.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(json_integer)]


class ItemIn(Body):
    """A new item; the name is stored without surrounding whitespace."""

    name: Name
    quantity: Quantity = 1


class ItemPatch(Body):
    """A JSON merge patch (RFC 7396): named fields change, a null quantity restores 1."""

    name: Name | Absent = None
    quantity: Quantity | None = None


class Item(Model):
    """An item as the API shows it; its ETag is the version, bumped by every change."""

    id: int
    name: str
    quantity: int
    created_at: datetime
    updated_at: datetime


class ItemPage(Model):
    """One page of items in id order; pass `next_cursor` as `cursor` for the next (null: done)."""

    items: list[Item]
    next_cursor: str | None


class ItemPath(Parameters):
    """The item addressed by the URL."""

    item_id: Id


class ItemsQuery(Parameters):
    """Cursor pagination."""

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    cursor: Annotated[
        str | Absent, Field(min_length=1, description="`next_cursor` of the previous page")
    ] = None


class IfMatch(Parameters):
    """A write that names the ETag it read fails with 412 once the item has changed."""

    if_match: str | Absent = Field(None, alias="If-Match", description="ETags, or *")


class IfNoneMatch(Parameters):
    """A read that names the current ETag is answered 304 without a body."""

    if_none_match: str | Absent = Field(None, alias="If-None-Match", description="ETags, or *")


# 1 to 255 visible ASCII characters, spaces inside: the draft's quoted string, quotes and all,
# or any token a client makes up (a UUID).
IDEMPOTENCY_KEY = r"^[!-~](?:[ -~]{0,253}[!-~])?$"


class IdempotencyKeyHeader(Parameters):
    """A create sent again with the same key and body is answered as the first, not repeated."""

    idempotency_key: Annotated[str, Field(pattern=IDEMPOTENCY_KEY)] | Absent = Field(
        None,
        alias="Idempotency-Key",
        description="Makes a retry safe: the first outcome is replayed to a retry with the same"
        " key and body for IDEMPOTENCY_KEY_TTL seconds; another body is 422, a retry while the"
        " first is in flight 409",
    )
