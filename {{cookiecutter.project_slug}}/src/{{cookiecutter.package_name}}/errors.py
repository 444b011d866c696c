"""Every HTTP error as application/problem+json (RFC 9457), without leaking internals."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import pydantic
from flask import Flask, Response
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, UnprocessableEntity

from .context import request_id
from .shapes import Absent, InvalidParameters, Model

PROBLEM_JSON = "application/problem+json"
# Headers of the HTML error response that describe its body rather than the error.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


class FieldError(Model):
    """What is wrong with one field: a JSON pointer into the body, or a parameter's name."""

    pointer: str | Absent = None
    parameter: str | Absent = None
    message: str


class Problem(Model):
    """An error (RFC 9457); extensions such as `errors` and `checks` may follow."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    request_id: str
    errors: list[FieldError] | Absent = None


class ValidationError(UnprocessableEntity):
    """A well-formed payload that breaks the rules: 422 with the list of what is wrong."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("The request payload is invalid.")
        self.errors = errors


class ParameterError(BadRequest):
    """A path, query or header parameter out of its range: 400 naming each parameter."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("A request parameter is invalid.")
        self.errors = errors


def pointer(location: tuple[int | str, ...]) -> str:
    """A pydantic error location as a JSON pointer (RFC 6901) into the request body."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def reject(error: pydantic.ValidationError) -> NoReturn:
    """flask-openapi3's validation_error_callback, for bodies (parameters raise
    InvalidParameters instead): raise, so the handler below answers."""
    raise ValidationError(
        [{"pointer": pointer(e["loc"]), "message": e["msg"]} for e in error.errors()]
    )


def init_app(app: Flask) -> None:
    """Handle every HTTPException; Flask wraps unhandled errors in InternalServerError first."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InvalidParameters, reject_parameters)


def reject_parameters(error: InvalidParameters) -> Response:
    """A path, query or header model failed: 400 naming each parameter."""
    named = [{"parameter": name, "message": message} for name, message in error.errors]
    return handle_http_exception(ParameterError(named))


def problem(status: int, title: str, detail: str, headers: Any = (), **extensions: Any) -> Response:
    """Build a problem+json response carrying the request id (given, or the request's)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update(extensions)
    if "request_id" not in body:  # WSGI middleware passes it: no request context out there
        body["request_id"] = request_id()
    return Response(json.dumps(body), status, headers=headers, mimetype=PROBLEM_JSON)


def handle_http_exception(error: HTTPException) -> Response:
    """Keep the error's own headers (Allow on 405, Retry-After, Location) but replace its body."""
    headers = [(k, v) for k, v in error.get_response().headers if k.lower() not in _BODY_HEADERS]
    extensions = {}
    if isinstance(error, ValidationError | ParameterError):
        extensions["errors"] = error.errors
    if isinstance(error, InternalServerError):
        detail = InternalServerError.description  # never the exception's own text
    else:
        detail = error.description or ""
    return problem(error.code or 500, error.name, detail, headers, **extensions)
