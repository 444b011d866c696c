"""Liveness (/healthz: the process answers) and readiness (/readyz: its dependencies do)."""

from __future__ import annotations

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, Tag

from ..errors import problem
from ..openapi import operation_id, problems, returns
from ..readiness import run_checks
from ..shapes import Model

bp = APIBlueprint(
    "health", __name__, abp_tags=[Tag(name="health")], operation_id_callback=operation_id
)


class Health(Model):
    """The process answers."""

    status: str


class Ready(Model):
    """Every readiness check passed."""

    status: str
    checks: dict[str, str]


@bp.get("/healthz", responses={200: returns(Health, "The process answers")})
def healthz() -> dict[str, str]:
    """Liveness: cheap and dependency-free, so a slow database never restarts the container."""
    return {"status": "ok"}


@bp.get("/readyz", responses={200: returns(Ready, "Every check passed"), **problems(503)})
def readyz() -> Response | dict[str, object]:
    """Readiness: run every registered check; 503 with the failures if any fails (each says
    "failing", or why, as "schema not migrated: ...")."""
    results = run_checks(current_app)
    if set(results.values()) - {"ok"}:
        return problem(503, "Service Unavailable", "A readiness check failed.", checks=results)
    return {"status": "ready", "checks": results}
