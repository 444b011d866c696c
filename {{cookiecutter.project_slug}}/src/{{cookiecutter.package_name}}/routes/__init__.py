"""Blueprints: each module here defines `bp`, an APIBlueprint (so its routes join the OpenAPI
document); `register` adds them all, in module-name order."""

from __future__ import annotations

import importlib
import pkgutil

from flask_openapi3 import APIBlueprint, OpenAPI
from werkzeug.routing import IntegerConverter


class CanonicalInt(IntegerConverter):
    """`<int:...>` in ASCII digits without leading zeros: Werkzeug's own would also take `01`
    and any Unicode digit (Arabic-Indic, fullwidth), giving one resource many URLs (and caches,
    rate limits and path rules as many keys)."""

    regex = r"(?:0|[1-9][0-9]*)"


def register(app: OpenAPI) -> None:
    """Import every route module and register its blueprint, so adding a module adds its routes."""
    app.url_map.converters["int"] = CanonicalInt  # before any rule is added
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        if isinstance(module.bp, APIBlueprint):
            app.register_api(module.bp)
        else:  # a plain Blueprint works too, but stays out of the OpenAPI document
            app.register_blueprint(module.bp)
