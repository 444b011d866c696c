"""Gunicorn's target (`wsgi_app` in gunicorn.conf.py): the production app, built once per worker."""

import sys

from .app import create_app
from .settings import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # one line naming the variable, not a traceback from the master
    sys.exit(f"configuration error: {exc}")
