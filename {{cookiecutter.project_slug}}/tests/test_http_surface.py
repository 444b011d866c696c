"""Property-based tests over the HTTP surface: whatever a client sends, the answer is designed.

Invariants: no 5xx, every error is problem+json with the right status, no traceback or
exception text in a response, and the request id never carries client bytes that are unsafe in
a header or a log line.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.headers import SECURITY_HEADERS
from {{ cookiecutter.package_name }}.hooks import VALID_REQUEST_ID
from {{ cookiecutter.package_name }}.log import LogHandler

from .things import THINGS, add_things

METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"])
PATHS = st.one_of(
    st.sampled_from(["/", "/healthz", "/readyz", THINGS, f"{THINGS}/", "/healthz/x"]),
    # No leading "//": the test client would read what follows as a host name, not a path.
    st.text(max_size=40).map(lambda text: "/" + quote(text.lstrip("/"), safe="/")),
)
HEADER_TEXT = st.text(
    alphabet=st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=300
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        ["application/json", "application/json; charset=utf-8", "text/plain", "", "*/*"]
    ),
    HEADER_TEXT,
)
BODIES = st.one_of(
    st.binary(max_size=2000),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=20,
    ).map(lambda value: json.dumps(value).encode()),
)
LEAKS = ("Traceback", 'File "', "Error:", "Exception")


@pytest.fixture(scope="module")
def surface() -> Iterator[tuple[Flask, io.StringIO]]:
    """A production-like app (errors handled, not propagated) whose logs go to a buffer."""
    app = add_things(create_app({"APP_ENV": "testing", "PROPAGATE_EXCEPTIONS": False}))
    buffer = io.StringIO()
    handler = LogHandler(buffer)
    logging.getLogger().addHandler(handler)
    yield app, buffer
    logging.getLogger().removeHandler(handler)


REQUESTS = st.fixed_dictionaries(
    {
        "method": METHODS,
        "path": PATHS,
        "query": st.text(max_size=60),
        "request_id": HEADER_TEXT,
        "content_type": CONTENT_TYPES,
        "body": BODIES,
    }
)


@settings(max_examples=300, deadline=None)
@given(sent=REQUESTS)
def test_every_answer_is_designed(surface: tuple[Flask, io.StringIO], sent: dict[str, Any]) -> None:
    app, logs = surface
    logs.truncate(0)
    logs.seek(0)
    method, request_id = sent["method"], sent["request_id"]
    response = app.test_client().open(
        sent["path"],
        method=method,
        query_string=quote(sent["query"], safe="=&"),
        headers={"X-Request-ID": request_id, "Content-Type": sent["content_type"]},
        data=sent["body"],
    )
    assert response.status_code < 500, response.get_data(as_text=True)
    echoed = response.headers["X-Request-ID"]
    assert VALID_REQUEST_ID.fullmatch(echoed)
    assert echoed == request_id or not VALID_REQUEST_ID.fullmatch(request_id)
    for name in SECURITY_HEADERS:
        assert name in response.headers
    text = response.get_data(as_text=True)
    assert not any(leak in text for leak in LEAKS)
    if response.status_code >= 400 and method != "HEAD":
        assert response.mimetype == "application/problem+json"
        assert json.loads(text)["status"] == response.status_code
    for line in logs.getvalue().splitlines():
        record = json.loads(line)  # one JSON object per line, whatever the client sent
        assert record.get("request_id") in (None, echoed)
