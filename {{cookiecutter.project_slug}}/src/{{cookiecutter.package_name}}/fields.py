"""What settings.py declares its settings with: the field (default, meaning, bounds), the
validators that fold case, the secret-key rule, and a validation error as one line."""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator, Field, ValidationError

KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'  # how to make one
PLACEHOLDER_SECRETS = frozenset({"change-me", "changeme", "secret", "dev", "development", "test"})

Lower = BeforeValidator(lambda value: value.lower() if isinstance(value, str) else value)
Upper = BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value)


def setting(default: Any, meaning: str, *, ge: int | None = None, le: int | None = None) -> Any:
    """A field: its default, its one-line meaning (the README's), its bounds (counts are >= 0)."""
    counts = isinstance(default, int) and not isinstance(default, bool)
    return Field(default, description=meaning, ge=0 if ge is None and counts else ge, le=le)


def weak(key: str) -> bool:
    """Too short, or a placeholder, to sign anything in production."""
    return key.strip() in PLACEHOLDER_SECRETS or len(key.strip()) < 32


def one_line(error: ValidationError) -> str:
    """The first problem: the variable, what is wrong, what was given."""
    first = error.errors(include_url=False)[0]
    message = first["msg"].removeprefix("Value error, ")
    if first["loc"]:  # a rule spanning several settings names them itself
        message = f"{first['loc'][0]}: {message}, got {first['input']!r}"
    return message
