"""Schemathesis hooks (tests/test_contract.py loads them): a valid Idempotency-Key becomes one
of its own per generated request, as a client makes one per create. The generator would send
one key with many bodies, which the service answers 422 by design; invalid keys stay as
generated, to be refused."""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

from {{ cookiecutter.package_name }}.schemas import IDEMPOTENCY_KEY


@schemathesis.hook
def before_call(_context: Any, case: Any, _kwargs: dict[str, Any]) -> None:
    """Every phase's requests pass here (map_headers misses the coverage phase's)."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and re.fullmatch(IDEMPOTENCY_KEY, key):
        case.headers["Idempotency-Key"] = f'"{uuid.uuid4()}"'
