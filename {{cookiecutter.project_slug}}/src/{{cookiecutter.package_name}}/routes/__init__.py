"""Blueprints: each module here defines `bp`, an APIBlueprint (so its routes join the OpenAPI
document); `register` adds them all, in module-name order."""

from __future__ import annotations

import importlib
import pkgutil

from flask_openapi3 import APIBlueprint, OpenAPI


def register(app: OpenAPI) -> None:
    """Import every route module and register its blueprint, so adding a module adds its routes."""
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        if isinstance(module.bp, APIBlueprint):
            app.register_api(module.bp)
        else:  # a plain Blueprint works too, but stays out of the OpenAPI document
            app.register_blueprint(module.bp)
