"""Liveness (/healthz: the process answers) and readiness (/readyz: its dependencies do)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app
from flask_openapi3 import APIBlueprint, Tag

from ..errors import problem
from ..openapi import operation_id, problems, returns
from ..schemas import Model

log = logging.getLogger(__name__)
bp = APIBlueprint(
    "health", __name__, abp_tags=[Tag(name="health")], operation_id_callback=operation_id
)

ReadinessCheck = Callable[[], None]
CHECKS_KEY = "readiness_checks"


class Health(Model):
    """The process answers."""

    status: str


class Ready(Model):
    """Every readiness check passed."""

    status: str
    checks: dict[str, str]


def add_readiness_check(app: Flask, name: str, check: ReadinessCheck) -> None:
    """Register a check for /readyz; it signals failure by raising."""
    app.extensions.setdefault(CHECKS_KEY, {})[name] = check


@bp.get("/healthz", responses={200: returns(Health, "The process answers")})
def healthz() -> dict[str, str]:
    """Liveness: cheap and dependency-free, so a slow database never restarts the container."""
    return {"status": "ok"}


@bp.get("/readyz", responses={200: returns(Ready, "Every check passed"), **problems(503)})
def readyz() -> Response | dict[str, object]:
    """Readiness: run every registered check; 503 with the failures if any fails."""
    results: dict[str, str] = {}
    for name, check in current_app.extensions.get(CHECKS_KEY, {}).items():
        try:
            check()
        except Exception:
            log.warning("readiness check failed", extra={"check": name}, exc_info=True)
            results[name] = "failing"
        else:
            results[name] = "ok"
    if "failing" in results.values():
        return problem(503, "Service Unavailable", "A readiness check failed.", checks=results)
    return {"status": "ready", "checks": results}
