"""Blueprints: each module here defines `bp`; `register` adds them all, in module-name order."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Flask


def register(app: Flask) -> None:
    """Import every route module and register its blueprint, so adding a module adds its routes."""
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        app.register_blueprint(module.bp)
