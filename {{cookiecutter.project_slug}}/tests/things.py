"""A JSON write route of the tests' own: the tests of what every write meets (body limits, 415,
400, 422) use it rather than the example resource, which its owner replaces on day two."""

from __future__ import annotations

from typing import Annotated

from flask_openapi3 import APIBlueprint, OpenAPI
from pydantic import Field

from {{ cookiecutter.package_name }}.body import require_json_object
from {{ cookiecutter.package_name }}.shapes import Body

THINGS = "/test/things"


class Thing(Body):
    """A body with a bounded string, a bounded number, and no room for other fields."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    quantity: Annotated[int, Field(ge=0)] = 1


def add_things(app: OpenAPI) -> OpenAPI:
    """Register POST /test/things on `app`, as a resource module would declare it."""
    bp = APIBlueprint("things", __name__, url_prefix=THINGS)
    bp.before_request(require_json_object)

    @bp.post("")
    def create_thing(body: Thing) -> tuple[dict[str, object], int]:
        return body.model_dump(), 201

    app.register_api(bp)
    return app
