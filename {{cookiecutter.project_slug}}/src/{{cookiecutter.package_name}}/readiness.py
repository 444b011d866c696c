"""Readiness checks: each component that depends on something outside the process (a
database, a queue) registers a check for it when it wires itself into the app; /readyz runs
them all. A check signals failure by raising."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

log = logging.getLogger(__name__)
Check = Callable[[], None]
EXTENSION = "readiness_checks"


def add_check(app: Flask, name: str, check: Check) -> None:
    """Register `check` under `name` (the key /readyz reports it by)."""
    app.extensions.setdefault(EXTENSION, {})[name] = check


def run_checks(app: Flask) -> dict[str, str]:
    """Every registered check's result: "ok", or "failing" (logged with the check's name)."""
    results: dict[str, str] = {}
    for name, check in app.extensions.get(EXTENSION, {}).items():
        try:
            check()
        except Exception:
            log.warning("readiness check failed", extra={"check": name}, exc_info=True)
            results[name] = "failing"
        else:
            results[name] = "ok"
    return results
