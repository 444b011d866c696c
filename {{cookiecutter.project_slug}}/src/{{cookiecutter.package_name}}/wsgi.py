"""Gunicorn's target (`wsgi_app` in gunicorn.conf.py): the production app, built once per worker."""

from .app import create_app

app = create_app()
