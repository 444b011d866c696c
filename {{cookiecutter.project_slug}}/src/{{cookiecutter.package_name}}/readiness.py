"""Readiness checks: each component that depends on something outside the process (a
database, a queue) registers a check for it when it wires itself into the app; /readyz runs
them all. A check signals failure by raising.

An outage is logged twice, when a check starts failing and when it passes again (with how long
it failed), not once per probe: every pod's probe would otherwise log it every few seconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask

log = logging.getLogger(__name__)
Check = Callable[[], None]
EXTENSION = "readiness_checks"
FAILING_SINCE = "readiness_failing_since"  # check name -> when it started failing (monotonic)


def add_check(app: Flask, name: str, check: Check) -> None:
    """Register `check` under `name` (the key /readyz reports it by)."""
    app.extensions.setdefault(EXTENSION, {})[name] = check


def run_checks(app: Flask) -> dict[str, str]:
    """Every registered check's result: "ok", or "failing"."""
    results: dict[str, str] = {}
    failing_since: dict[str, float] = app.extensions.setdefault(FAILING_SINCE, {})
    for name, check in app.extensions.get(EXTENSION, {}).items():
        try:
            check()
        except Exception as error:
            results[name] = "failing"
            if name not in failing_since:  # the error's class only: its text may hold secrets
                failing_since[name] = time.monotonic()
                log.warning(
                    "readiness check failing", extra={"check": name, "error": type(error).__name__}
                )
        else:
            results[name] = "ok"
            if (since := failing_since.pop(name, None)) is not None:
                failed_for = round(time.monotonic() - since, 1)
                log.warning(
                    "readiness check passing again",
                    extra={"check": name, "failed_for_s": failed_for},
                )
    return results
