"""Malformed HTTP/1.1 over raw sockets against real gunicorn: every request is answered with a
4xx or the connection closed, within seconds, never a 5xx, and the service answers after.

Who answers: gunicorn's parser rejects bad request lines, header syntax, size limits and
Content-Length / Transfer-Encoding conflicts itself, with its own text/html page (Flask never
sees the request, so it cannot be problem+json). What gunicorn parses lazily reaches the app
and its problem+json answers: the body (chunk sizes and extensions, a body shorter than
announced, JSON) and a Content-Length above MAX_CONTENT_LENGTH. X-Request-ID, which every
response of the app carries, tells the two apart (`RawResponse.layer`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from .raw import raw_exchange
from .running import production
from .servers import Server

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

PROBLEM_JSON = "application/problem+json"
MAX_CONTENT_LENGTH = 1024 * 1024  # the default
RAW_TIMEOUT = 5.0  # "never a hang beyond a few seconds"

GET = b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
POST = b"POST /test/things HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"
NESTED = b"[" * 100_000 + b"]" * 100_000


@dataclass(frozen=True)
class Case:
    """Bytes to send and who should reject them: "gunicorn", "flask" or "any"."""

    data: bytes
    layer: str
    half_close: bool = False
    pause: float = 0


# What was observed is noted where the answer is not gunicorn's plain 400.
RAW_CASES = {
    # Request line: gunicorn.
    "request-line-garbage": Case(b"GARBAGE\r\n\r\n", "gunicorn"),
    "request-line-without-version": Case(b"GET /healthz\r\n\r\n", "gunicorn"),
    "request-line-http-9.9": Case(b"GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n", "gunicorn"),
    "request-line-lowercase-method": Case(b"get /healthz HTTP/1.1\r\nHost: t\r\n\r\n", "gunicorn"),
    "request-line-nul-in-method": Case(b"G\x00T /healthz HTTP/1.1\r\nHost: t\r\n\r\n", "gunicorn"),
    "request-line-double-spaces": Case(b"GET  /healthz  HTTP/1.1\r\nHost: t\r\n\r\n", "gunicorn"),
    "request-line-bare-lf": Case(b"GET /healthz HTTP/1.1\nHost: t\n\n", "gunicorn"),
    "request-line-9000-byte-uri": Case(  # 414
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", "gunicorn"
    ),
    "path-raw-latin1-bytes": Case(b"GET /\xff\xfe HTTP/1.1\r\nHost: t\r\n\r\n", "gunicorn"),
    "path-raw-utf8-bytes": Case("GET /café HTTP/1.1\r\nHost: t\r\n\r\n".encode(), "gunicorn"),
    "path-control-byte": Case(b"GET /a\x01b HTTP/1.1\r\nHost: t\r\n\r\n", "gunicorn"),
    # Header section: gunicorn.
    "header-9000-byte-value": Case(GET + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", "gunicorn"),  # 431
    "headers-150-fields": Case(  # 431 (limit_request_fields: 100)
        GET + b"".join(b"X-H%d: v\r\n" % n for n in range(150)) + b"\r\n", "gunicorn"
    ),
    "header-obsolete-line-folding": Case(GET + b"X-Folded: a\r\n b\r\n\r\n", "gunicorn"),
    "header-without-colon": Case(GET + b"Broken\r\n\r\n", "gunicorn"),
    "header-space-before-colon": Case(GET + b"X-A : b\r\n\r\n", "gunicorn"),
    "header-nul-in-value": Case(GET + b"X-A: a\x00b\r\n\r\n", "gunicorn"),
    "host-duplicated": Case(GET + b"Host: u\r\n\r\n", "gunicorn"),
    # RFC 9112 3.2: a server MUST answer 400 to HTTP/1.1 without Host. Observed: 200.
    "host-missing-on-http11": Case(b"GET /healthz HTTP/1.1\r\n\r\n", "any"),
    "expect-unknown": Case(  # 417
        POST + b"Expect: bogus\r\nContent-Length: 2\r\n\r\n{}", "gunicorn"
    ),
    # Content-Length and Transfer-Encoding: gunicorn, but for the length check against the limit.
    "cl-and-te-both": Case(
        POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "gunicorn"
    ),
    "cl-negative": Case(POST + b"Content-Length: -1\r\n\r\n", "gunicorn"),
    "cl-non-numeric": Case(POST + b"Content-Length: abc\r\n\r\n", "gunicorn"),
    "cl-plus-sign": Case(POST + b"Content-Length: +2\r\n\r\n{}", "gunicorn"),
    "cl-duplicated-different-values": Case(
        POST + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", "gunicorn"
    ),
    "cl-duplicated-same-value": Case(
        POST + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", "gunicorn"
    ),
    "cl-comma-list": Case(POST + b"Content-Length: 2, 3\r\n\r\n{}x", "gunicorn"),
    "cl-24-digits": Case(POST + b"Content-Length: " + b"9" * 24 + b"\r\n\r\n", "flask"),  # 413
    "te-gzip": Case(POST + b"Transfer-Encoding: gzip\r\n\r\n", "gunicorn"),
    "te-chunked-then-gzip": Case(POST + b"Transfer-Encoding: chunked, gzip\r\n\r\n", "gunicorn"),
    "te-duplicated": Case(
        POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "gunicorn",
    ),
    "te-on-http10": Case(
        b"POST /test/things HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "gunicorn",
    ),
    "te-space-before-colon": Case(
        POST + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", "gunicorn"
    ),
    # Chunked bodies are parsed while Flask reads wsgi.input. Observed: the next four are 500.
    "chunk-size-not-hex": Case(CHUNKED + b"zz\r\n{}\r\n0\r\n\r\n", "flask"),
    "chunk-size-negative": Case(CHUNKED + b"-2\r\n{}\r\n0\r\n\r\n", "flask"),
    "chunk-extension-invalid": Case(CHUNKED + b'2;x="a\r\n{}\r\n0\r\n\r\n', "flask"),
    "chunk-longer-than-its-size": Case(CHUNKED + b"1\r\n{}\r\n0\r\n\r\n", "flask"),
    "chunk-size-2^80-then-eof": Case(CHUNKED + b"1" + b"0" * 20 + b"\r\n{}", "flask", True),
    "chunked-body-cut-short-then-eof": Case(CHUNKED + b"10\r\n{}", "flask", half_close=True),
    # A body shorter than its Content-Length.
    "cl-body-short-then-eof": Case(
        POST + b'Content-Length: 100\r\n\r\n{"name": "wid', "flask", half_close=True
    ),
    # Observed: 201 Created, the truncated body taken for the whole one.
    "cl-body-short-json-prefix-then-eof": Case(
        POST + b'Content-Length: 100\r\n\r\n{"name": "widget"}', "flask", half_close=True
    ),
    "cl-body-short-then-wait": Case(
        POST + b'Content-Length: 100\r\n\r\n{"name": "wid', "flask", half_close=True, pause=1.5
    ),
    # Well-formed HTTP, hostile JSON. Observed: 500 (RecursionError in json.loads).
    "json-nested-100000-deep": Case(
        POST + b"Content-Length: %d\r\n\r\n" % len(NESTED) + NESTED, "flask"
    ),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One production server for every case: each leaves it as it found it."""
    with production(tmp_path_factory.mktemp("raw")) as running:
        yield running


@pytest.mark.parametrize("case", [pytest.param(c, id=name) for name, c in RAW_CASES.items()])
def test_malformed_request_gets_4xx_or_close(server: Server, case: Case) -> None:
    port = int(server.url.rpartition(":")[2])
    response = raw_exchange(
        port, case.data, half_close=case.half_close, pause=case.pause, timeout=RAW_TIMEOUT
    )
    assert response.outcome != "timeout", f"neither answered nor closed: {response.head[:200]!r}"
    if response.outcome == "response":
        assert response.status is not None, response.head
        assert 400 <= response.status < 500, (
            f"{response.head.splitlines()[0]!r} from {response.layer}: {server.logs()[0][-2000:]}"
        )
        if case.layer != "any":
            assert response.layer == case.layer
        if response.layer == "flask":
            assert response.headers["content-type"] == PROBLEM_JSON
        else:  # gunicorn's own error page: not problem+json, and it cannot be
            assert response.headers["content-type"].startswith("text/html")
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    assert "Traceback" not in "".join(server.logs())


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_above_max_content_length_gets_413(server: Server, framing: str) -> None:
    """MAX_CONTENT_LENGTH holds on real gunicorn, whether the body is sized or chunked."""
    body = b'{"name": "widget"}' + b" " * MAX_CONTENT_LENGTH  # valid JSON, over the limit
    data = body if framing == "content-length" else iter([body[:65536], body[65536:]])
    response = requests.post(
        f"{server.url}/test/things",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413, f"{response.status_code}: {response.text[:200]}"
    assert response.headers["Content-Type"] == PROBLEM_JSON
