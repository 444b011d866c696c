"""`python -m {{ cookiecutter.package_name }}.contract`: print the OpenAPI document as
`make openapi` commits it (openapi.json), from an app built for tests."""

from __future__ import annotations

import json

from .app import create_app
from .openapi import document


def main() -> None:
    """Print the document, keys sorted, so a change shows as a small diff."""
    print(json.dumps(document(create_app({"APP_ENV": "testing"})), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
