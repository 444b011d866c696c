"""Requests framed and bodies read defensively, so a broken request is the client's 4xx, never
a 500 or a silently truncated payload: gunicorn streams bodies and trusts the client's framing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

import pydantic
from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest, ClientDisconnected, HTTPException, RequestEntityTooLarge
from werkzeug.wsgi import get_content_length

from .context import CLOSE_CONNECTION, REQUEST_ID, new_request_id
from .errors import ValidationError, problem, reject

# What gunicorn drains of an unread body before the next request on the connection (its
# _DRAIN_MAX_BYTES): past it, it closes the connection instead.
DRAINED = 64 * 1024
HOST_REQUIRED = "An HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2)."


class GuardedInput:
    """wsgi.input that turns framing errors into 400, an early end into 400, and a chunked
    body past the limit into 413 (Werkzeug stops reading at the limit without checking)."""

    def __init__(self, stream: IO[bytes], content_length: int | None, limit: int | None) -> None:
        self.stream, self.content_length, self.limit = stream, content_length, limit
        self.seen, self.ended = 0, False

    def _read(self, method: str, size: int) -> bytes:
        try:
            data: bytes = getattr(self.stream, method)(size)
        except HTTPException:
            raise
        except Exception:  # gunicorn's InvalidChunkSize and friends, a reset connection
            raise BadRequest("The request body could not be read.") from None
        self.seen += len(data)
        self.ended = self.ended or (not data and size != 0)
        if self.content_length is not None:
            if not data and size != 0 and self.seen < self.content_length:
                raise ClientDisconnected("The request body ended before its Content-Length.")
        elif self.limit is not None and data and self.seen >= self.limit and self.stream.read(1):
            raise RequestEntityTooLarge()
        return data

    def read(self, size: int = -1) -> bytes:
        return self._read("read", size)

    def readline(self, size: int = -1) -> bytes:
        return self._read("readline", size)

    def unread(self) -> float:
        """How many bytes of the body the app left unread (a chunked one's: unknown, inf)."""
        if self.content_length is not None:
            return self.content_length - self.seen
        return 0 if self.ended else float("inf")


class GuardedBodies:
    """WSGI middleware installing GuardedInput before Flask builds the request (a request with
    neither Content-Length nor Transfer-Encoding has no body: RFC 9112, section 6.3), closing
    the connection after a body left unread, and refusing an HTTP/1.1 request without Host
    (out here it costs the others no Flask hook)."""

    def __init__(self, wsgi_app: Any, limit: int | None) -> None:
        self.wsgi_app, self.limit = wsgi_app, limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if "HTTP_HOST" not in environ and environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
            rid = environ.get(REQUEST_ID) or new_request_id()
            answer = problem(400, "Bad Request", HOST_REQUIRED, request_id=rid)
            return answer(environ, start_response)
        if "CONTENT_LENGTH" not in environ and "HTTP_TRANSFER_ENCODING" not in environ:
            return self.wsgi_app(environ, start_response)  # type: ignore[no-any-return]
        body = GuardedInput(environ["wsgi.input"], get_content_length(environ), self.limit)
        environ["wsgi.input"] = body

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            # An answer given without reading the body (413, 415, an early 4xx) ends the
            # connection, unless gunicorn can drain what is left before the next request: it
            # drains at most DRAINED bytes, then closes the connection it said it would keep,
            # and it drops an app's Connection header (worker.Worker.load_wsgi says why).
            if body.unread() >= DRAINED and (close := environ.get(CLOSE_CONNECTION)):
                close()
            return start_response(status, headers, *exc_info)

        return self.wsgi_app(environ, start)  # type: ignore[no-any-return]


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, but JSON nested too deeply for the parser is a 400, not a RecursionError."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def require_json_object() -> None:
    """A blueprint's before_request for JSON writes: 415 unless JSON, 400 if malformed, 422
    unless an object. flask-openapi3 would answer all three with a 422, and read a JSON string
    as the JSON inside it."""
    if request.method in ("POST", "PUT", "PATCH") and not isinstance(request.get_json(), dict):
        raise ValidationError([{"pointer": "", "message": "Input should be an object"}])


def merge_patch(model: type[BaseModel]) -> dict[str, Any]:
    """The request's JSON merge patch (RFC 7396) as the values it sets, each field validated as
    `model` validates it (else 422): null restores a field's default (one without a default
    cannot be null), an unknown field is refused. Field by field, so the row need not be read
    first; a model whose fields constrain each other would read it and validate the merge."""
    fields, values = model.model_fields, model.model_construct()
    for name, sent in request.get_json().items():
        restores = sent is None and name in fields and not fields[name].is_required()
        value = fields[name].get_default(call_default_factory=True) if restores else sent
        try:
            model.__pydantic_validator__.validate_assignment(values, name, value)
        except pydantic.ValidationError as error:
            reject(error)
    return {name: getattr(values, name) for name in values.model_fields_set}


def init_app(app: Flask) -> None:
    """Parse JSON bodies with the guards above (GuardedBodies is in app.middlewares)."""
    app.json = JSONProvider(app)
