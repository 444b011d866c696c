"""GET /docs in-process: Swagger UI from the service's own files, under a CSP with no inline
code allowed (tests/test_docs_browser.py renders it in a real browser)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.docs import CSP


def test_the_page_loads_only_its_own_files(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in CSP
    assert "unsafe-eval" not in CSP
    page = response.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(sources) == 4
    for source in sources:
        assert source.startswith("/docs/"), source
        with client.get(source) as asset:  # a static file: streamed, so closed here
            assert asset.status_code == 200, source
            assert asset.mimetype in ("text/css", "text/javascript", "image/svg+xml"), source
    assert re.search(r"<script>|<style|style=", page) is None  # nothing inline


def test_the_page_points_swagger_ui_at_the_contract(client: FlaskClient) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assert 'data-spec="/openapi.json"' in page
    script = client.get("/docs/start.js").get_data(as_text=True)
    assert "validatorUrl: null" in script  # else the page would fetch a badge from elsewhere


def test_the_other_routes_keep_the_strict_policy(client: FlaskClient) -> None:
    csp = client.get("/healthz").headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'")
