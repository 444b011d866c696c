"""Readiness knows the schema: /readyz passes only once the database answers at the revision
the code was written for (Alembic's head), and says which revisions differ when it does not."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import suppress
from functools import cache, partial
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from .engine import schema_missing
from .readiness import NotReady, add_check

# Where alembic.ini is: the working directory (the image's /app, the project's root for `make
# run`), else the project's root above src/ (a checkout, wherever it is run from).
PLACES = (Path.cwd(), Path(__file__).resolve().parents[2])


def init_app(app: Flask) -> None:
    """Have /readyz check the database and its schema (tests' apps build theirs from the
    models, without revisions: their check only asks for an answer)."""
    engine: Engine = app.extensions["db"].kw["bind"]
    add_check(app, "database", partial(check, engine, migrated=not app.testing))


@cache
def code_heads() -> frozenset[str]:
    """The head revisions under migrations/versions, read once per process from the files'
    `revision` and `down_revision` assignments: importing Alembic would cost a worker a second
    on its first probe (tests/db/test_migrations.py checks the answer against Alembic's)."""
    for place in PLACES:
        if (place / "alembic.ini").is_file():
            revisions: set[object] = set()
            parents: set[object] = set()
            for path in (place / "migrations" / "versions").glob("*.py"):
                assigned = dict(assignments(ast.parse(path.read_text(encoding="utf-8"))))
                revisions.add(assigned.get("revision"))
                down = assigned.get("down_revision")
                parents.update(down if isinstance(down, tuple | list) else [down])
            return frozenset(str(rev) for rev in revisions - parents if rev)
    raise NotReady("schema unknown: no alembic.ini in the working directory")


def assignments(module: ast.Module) -> Iterator[tuple[str, object]]:
    """A module's top-level `name = constant` and `name: type = constant` assignments."""
    for node in module.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    with suppress(ValueError):
                        yield target.id, ast.literal_eval(node.value)


def check(engine: Engine, *, migrated: bool = True) -> None:
    """One round trip: the database's revision, compared with the code's."""
    with engine.connect() as connection:
        if not migrated:
            connection.execute(text("SELECT 1"))
            return
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            found = frozenset(row[0] for row in rows)
        except DBAPIError as error:
            if not schema_missing(error):
                raise
            found = frozenset()
    if found != (expected := code_heads()):
        at, code = ", ".join(sorted(found)) or "none", ", ".join(sorted(expected))
        raise NotReady(f"schema not migrated: database at {at}, code at {code}")
