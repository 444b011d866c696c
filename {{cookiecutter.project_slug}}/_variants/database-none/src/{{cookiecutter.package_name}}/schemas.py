"""The API's shapes, declared once as pydantic models: flask-openapi3 validates requests with
them and writes them into /openapi.json."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from .shapes import Body, Model

NAME_LENGTH = 100
MAX_QUANTITY = 10_000
MAX_PRICE = 100_000_000  # cents
MAX_LINES = 100  # with the two above, every total stays an exact JSON number (below 2**53)


# Whitespace as JSON Schema's patterns know it (ECMA-262's \s), so that the service and its
# document agree on what a blank name is: str.strip() alone would also take \x1c-\x1f and \x85,
# and pydantic's own \S (Rust's) would still count \ufeff as a letter.
WHITESPACE = (
    "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
NUL = "\x00"  # few systems a name is passed on to (databases, logs) take it
_SPACES = "".join(f"\\u{ord(space):04x}" for space in WHITESPACE)
NAME_PATTERN = f"^[^\\u0000]*[^\\u0000{_SPACES}][^\\u0000]*$"  # no NUL, one non-space


def stripped(name: str) -> str:
    """The name as used, without surrounding whitespace; blank once stripped is no name."""
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
Cents = Annotated[int, Field(ge=0, le=MAX_PRICE), BeforeValidator(json_integer)]


class Line(Body):
    """One line of an order: what, how many, and the price of one in cents."""

    name: Name
    quantity: Quantity = 1
    unit_price: Cents


class QuoteIn(Body):
    """An order to price: its lines, in the order they should come back."""

    lines: Annotated[list[Line], Field(min_length=1, max_length=MAX_LINES)]


class PricedLine(Model):
    """A line as received (its name without surrounding whitespace), with its amount."""

    name: str
    quantity: int
    unit_price: int
    amount: int


class Quote(Model):
    """Every line priced, and the order's total in cents."""

    lines: list[PricedLine]
    total: int
