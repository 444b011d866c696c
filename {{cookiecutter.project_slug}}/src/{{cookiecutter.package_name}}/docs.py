"""GET /openapi.json and GET /docs (Swagger UI), when API_DOCS is on. Swagger UI's files come
from the flask-openapi3-swagger wheel and the page has no inline script or style, so it runs
under a Content-Security-Policy that allows this origin only."""

from __future__ import annotations

from importlib.resources import files
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, url_for
from flask_openapi3 import OpenAPI
from markupsafe import escape

from .openapi import document

SWAGGER_UI = files("flask_openapi3_swagger") / "templates" / "swagger"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}: API docs</title>
<link rel="icon" href="{icon}">
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="swagger-ui" data-spec="{spec}"></div>
<script src="{bundle}"></script>
<script src="{start}"></script>
</body>
</html>
"""
# validatorUrl: null, or Swagger UI would fetch a badge from validator.swagger.io.
START = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: root.dataset.spec, dom_id: "#swagger-ui", validatorUrl: null});
});
"""

bp = Blueprint("docs", __name__, static_folder=str(SWAGGER_UI), static_url_path="/docs/static")


@bp.get("/openapi.json")
def spec() -> dict[str, Any]:
    """The contract, as `make openapi` commits it."""
    return document(cast(OpenAPI, current_app))


@bp.get("/docs")
def page() -> Response:
    """Swagger UI for the contract, with a CSP that lets the page load its own files."""
    # An icon of its own, or the browser asks for /favicon.ico, a 404 in the console.
    html = PAGE.format(
        title=escape(cast(OpenAPI, current_app).info.title),
        icon=url_for(".static", filename="images/swagger.svg"),
        css=url_for(".static", filename="css/swagger-ui.css"),
        bundle=url_for(".static", filename="js/swagger-ui-bundle.js"),
        spec=url_for(".spec"),
        start=url_for(".start"),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP  # headers.py keeps a CSP the view set
    return response


@bp.get("/docs/start.js")
def start() -> Response:
    """The page's one script of its own, a file so that CSP needs no 'unsafe-inline'."""
    return Response(START, mimetype="text/javascript")


def init_app(app: Flask) -> None:
    """Serve the contract and its docs only where the API_DOCS setting allows."""
    if app.config["API_DOCS"]:
        app.register_blueprint(bp)
