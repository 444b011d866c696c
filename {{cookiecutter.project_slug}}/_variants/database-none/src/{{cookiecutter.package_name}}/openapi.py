"""The OpenAPI 3.1 document. flask-openapi3 collects paths, parameters and request bodies from
the routes' models; the helpers here describe responses (problem+json errors, headers, links),
and `document` finishes it (`python -m <package>.contract` prints it for `make openapi`)."""

from __future__ import annotations

import copy
from typing import Any

from flask_openapi3 import OpenAPI
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from werkzeug.http import HTTP_STATUS_CODES

from .errors import PROBLEM_JSON, Problem

COMPONENTS = "#/components/schemas/"
# gunicorn answers these itself, as text/html, before the app sees the request: a request line
# longer than limit_request_line (4094 bytes) or a header beyond limit_request_field_size.
SERVER_LIMITS = {
    "414": {"description": "URI Too Long (gunicorn)", "content": {"text/html": {}}},
    "431": {"description": "Header Fields Too Large (gunicorn)", "content": {"text/html": {}}},
}
# Models named by reference in responses and request bodies, with the mode to render them in.
_referenced: dict[type[BaseModel], JsonSchemaMode] = {}
# The security scheme, and the scopes each view's token needs, by view name (auth.requires).
BEARER: dict[str, Any] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
_scopes: dict[str, tuple[str, ...]] = {}


def secured(view_name: str, scopes: tuple[str, ...]) -> None:
    """Document that the view needs a bearer token granting `scopes` (401 and 403 if not)."""
    _scopes[view_name] = scopes


def operation_id(name: str, **_: str) -> str:
    """Name operations after their views (create_item): short names for links and clients."""
    return name


def ref(model: type[BaseModel], mode: JsonSchemaMode = "serialization") -> dict[str, str]:
    """A reference to the model's schema, which `document` adds to the components."""
    _referenced[model] = mode
    return {"$ref": COMPONENTS + model.__name__}


def returns(model: type[BaseModel], description: str, **extra: dict[str, Any]) -> dict[str, Any]:
    """A JSON response; `extra` adds headers or links."""
    content = {"application/json": {"schema": ref(model)}}
    return {"description": description, "content": content, **extra}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error responses, each application/problem+json."""
    content = {PROBLEM_JSON: {"schema": ref(Problem)}}
    return {code: {"description": HTTP_STATUS_CODES[code], "content": content} for code in statuses}


def document(app: OpenAPI) -> dict[str, Any]:
    """The finished document, built once per app."""
    if (finished := app.extensions.get("openapi")) is None:
        finished = copy.deepcopy(app.api_doc)
        for path_item in finished["paths"].values():
            for operation in path_item.values():
                # flask-openapi3 gives every operation without a 422 one of its own, a JSON
                # array; those with a body declare theirs as problem+json.
                if "application/json" in operation["responses"].get("422", {}).get("content", {}):
                    del operation["responses"]["422"]
                operation["responses"].update(copy.deepcopy(SERVER_LIMITS))
                if (scopes := _scopes.get(operation.get("operationId", ""))) is not None:
                    operation["security"] = [{"bearer": list(scopes)}]
                    refusals = problems(401, 403)
                    operation["responses"].update({str(k): v for k, v in refusals.items()})
        _, schemas = models_json_schema(
            list(_referenced.items()),
            ref_template=COMPONENTS + "{model}",
        )
        finished["components"]["schemas"].update(schemas.get("$defs", {}))
        app.extensions["openapi"] = finished
    return finished
