"""Views flask-openapi3 has nothing to validate for are served without its wrapper; every
other view keeps it, and with it its validation."""

from __future__ import annotations

from flask import Flask
from flask_openapi3 import APIBlueprint, OpenAPI
from pydantic import BaseModel

from {{ cookiecutter.package_name }} import openapi
from {{ cookiecutter.package_name }}.routes import health


class Query(BaseModel):
    """A query model: its view must keep the wrapper that validates it."""

    limit: int


def views(*, validate_response: bool | None = None) -> OpenAPI:
    """An app with a model-less view, a validated one and one that validates its response."""
    app = OpenAPI(__name__, validate_response=validate_response)
    bp = APIBlueprint("demo", __name__)

    @bp.get("/plain")
    def plain() -> dict[str, str]:
        return {"status": "ok"}

    @bp.get("/queried")
    def queried(query: Query) -> dict[str, int]:
        return {"limit": query.limit}

    @bp.get("/checked", validate_response=True, responses={200: Query})
    def checked() -> dict[str, int]:
        return {"limit": 1}

    app.register_api(bp)
    openapi.init_app(app)
    return app


def test_the_health_views_run_as_written(app: Flask) -> None:
    assert app.view_functions["health.healthz"] is health.healthz
    assert app.view_functions["health.readyz"] is health.readyz


def test_only_views_with_nothing_to_validate_lose_the_wrapper() -> None:
    app = views()
    assert not hasattr(app.view_functions["demo.plain"], "__wrapped__")
    assert hasattr(app.view_functions["demo.queried"], "__wrapped__")
    assert hasattr(app.view_functions["demo.checked"], "__wrapped__")
    client = app.test_client()
    assert client.get("/plain").json == {"status": "ok"}
    assert client.get("/queried?limit=x").status_code == 422  # still validated
    assert client.get("/queried?limit=3").json == {"limit": 3}


def test_an_app_that_validates_responses_keeps_every_wrapper() -> None:
    app = views(validate_response=True)
    assert hasattr(app.view_functions["demo.plain"], "__wrapped__")
