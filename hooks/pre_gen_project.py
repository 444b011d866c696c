"""Validate every answer before cookiecutter writes a file; a bad one stops the bake."""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Callable, Mapping

CHOICES: dict[str, tuple[str, ...]] = {
    "python_version": ("3.13", "3.14", "3.12", "3.11"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "none"),
    "ci": ("github-actions", "none"),
    "database": ("postgresql", "sqlite", "none"),
}

# Import names a package must not take: the generated code, its tests or its tools import these.
RESERVED_PACKAGES = frozenset(
    {
        "alembic",
        "app",
        "blinker",
        "click",
        "conftest",
        "flask",
        "gunicorn",
        "hypothesis",
        "itsdangerous",
        "jinja2",
        "markupsafe",
        "mypy",
        "mako",
        "migrations",
        "packaging",
        "pip",
        "psycopg",
        "pytest",
        "requests",
        "ruff",
        "setuptools",
        "sqlalchemy",
        "src",
        "test",
        "tests",
        "watchdog",
        "werkzeug",
        "wsgi",
    }
)

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z][a-z0-9_]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
MAX_SLUG = 64
# Long enough for real names, short enough that generated lines stay within the linter's limit.
MAX_PACKAGE = 40


def check_text(value: str) -> str | None:
    """A free-text answer must be one non-empty line of reasonable length."""
    if not value.strip():
        return "expected a non-empty value"
    if "\n" in value or "\r" in value or '"""' in value:
        return "expected a single line without triple quotes"
    return "expected at most 200 characters" if len(value) > 200 else None


def check_slug(value: str) -> str | None:
    """The slug names the directory, the distribution and the image."""
    if len(value) > MAX_SLUG or not SLUG.fullmatch(value):
        return (
            "expected lowercase letters, digits and single dashes, "
            f"at most {MAX_SLUG} characters (e.g. 'orders-api')"
        )
    return None


def check_package(value: str) -> str | None:
    """The package must be importable and must not shadow the standard library or a dependency."""
    if len(value) > MAX_PACKAGE or not PACKAGE.fullmatch(value):
        return (
            "expected a lowercase Python identifier starting with a letter, "
            f"at most {MAX_PACKAGE} characters (e.g. 'orders_api')"
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return "expected a name that is not a Python keyword"
    if value in sys.stdlib_module_names or value in RESERVED_PACKAGES:
        return "expected a name that does not shadow the standard library or a dependency"
    return None


def check_email(value: str) -> str | None:
    """Only the shape is checked: something@domain.tld on one line."""
    return None if EMAIL.fullmatch(value) else "expected an address shaped like name@example.com"


def check_port(value: str) -> str | None:
    """Non-root containers can't bind privileged ports; the dev profile publishes port + 1."""
    if not value.isdigit() or not 1024 <= int(value) <= 65534:
        return "expected an integer from 1024 to 65534"
    return None


def check_choice(field: str) -> Callable[[str], str | None]:
    """Choices are checked too: --no-input and extra_context bypass the prompt's list."""

    def check(value: str) -> str | None:
        allowed = CHOICES[field]
        return None if value in allowed else "expected one of " + ", ".join(allowed)

    return check


CHECKS: dict[str, Callable[[str], str | None]] = {
    "project_name": check_text,
    "project_slug": check_slug,
    "package_name": check_package,
    "description": check_text,
    "author_name": check_text,
    "author_email": check_email,
    "http_port": check_port,
    **{field: check_choice(field) for field in CHOICES},
}


def validate(answers: Mapping[str, object]) -> list[str]:
    """Return one message per bad answer, naming the field, the value and what is accepted."""
    errors = []
    for field, check in CHECKS.items():
        value = str(answers.get(field, ""))
        problem = check(value)
        if problem:
            errors.append(f"error: {field}={value!r} is invalid: {problem}")
    return errors


def main(answers: Mapping[str, object]) -> int:
    """Print the first bad answer on one line to stderr; non-zero stops the bake."""
    errors = validate(answers)
    if errors:
        print(errors[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(r"""{{ cookiecutter | tojson }}""")))
