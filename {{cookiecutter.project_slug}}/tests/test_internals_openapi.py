"""flask-openapi3's undocumented utils.parse_header, through which openapi.document lists the
headers of openapi.reads_headers views (a service without a database has none, nor this test)."""

from __future__ import annotations

from flask_openapi3.utils import parse_header

from .test_internals import Probe


def test_flask_openapi3_parse_header_documents_header_models() -> None:
    params = [p.model_dump(by_alias=True, exclude_none=True) for p in parse_header(Probe)[0]]
    assert ("If-Match", "header") in [(p.get("name"), p.get("in")) for p in params], (
        "flask-openapi3's utils.parse_header no longer turns a model into header parameters: "
        "openapi.document cannot list the headers of openapi.reads_headers views"
    )
