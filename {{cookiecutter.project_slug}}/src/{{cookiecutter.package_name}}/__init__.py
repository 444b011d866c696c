"""The service package: `app.create_app` builds it, `wsgi` serves it, `__main__` develops it."""

__version__ = "0.1.0"
