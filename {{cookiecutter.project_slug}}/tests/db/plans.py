"""Query plans: every statement a request sends, EXPLAINed, and what in its plan reads a whole
table or sorts rows no index orders. Also a pytest plugin (`-p tests.db.plans`) that records
the statements requests send while the route tests run, for tests/db/test_plans.py."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from sqlalchemy import Connection, Engine, event

REPORT = "PLANS_REPORT"  # where the plugin writes what it found, as JSON
WRITES_AND_READS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
# PostgreSQL's planner picks a sequential scan, a bitmap scan or a sort on a small table even
# where an index would do, and the tests' tables are small: with these off it picks them only
# when no index can answer the query, whatever the table's size and statistics.
PLANNER_OFF = ("enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_incremental_sort")


def problems(connection: Connection, statement: str, parameters: Any) -> list[str]:
    """What in the statement's plan reads a whole table or index, or sorts: [] if nothing."""
    if connection.dialect.name == "postgresql":
        return postgres_problems(connection, statement, parameters)
    return sqlite_problems(connection, statement, parameters)


def postgres_problems(connection: Connection, statement: str, parameters: Any) -> list[str]:
    """EXPLAIN (FORMAT JSON), nothing executed, with the planner's fallbacks made a last resort."""
    with connection.begin() as transaction:
        for name in PLANNER_OFF:
            connection.exec_driver_sql(f"SET LOCAL {name} = off")
        plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        found = list(postgres_nodes(plan.scalar_one()[0]["Plan"]))
        transaction.rollback()
    return found


def postgres_nodes(node: dict[str, Any]) -> Iterator[str]:
    """A sequential scan, an index read from end to end (no Index Cond), and any sort."""
    kind = node["Node Type"]
    if kind == "Seq Scan":
        yield f"Seq Scan on {node['Relation Name']}"
    elif kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node:
        yield f"{kind} of all of {node['Index Name']}"
    elif kind in ("Sort", "Incremental Sort"):
        yield f"{kind} by {', '.join(node['Sort Key'])}"
    for child in node.get("Plans", []):
        yield from postgres_nodes(child)


def sqlite_problems(connection: Connection, statement: str, parameters: Any) -> list[str]:
    """EXPLAIN QUERY PLAN: a SCAN of a table (with or without an index: end to end) or a
    temporary B-tree (a sort or a DISTINCT no index answers)."""
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    details = [str(row[-1]) for row in rows]
    return [
        detail
        for detail in details
        if (detail.startswith("SCAN ") and detail != "SCAN CONSTANT ROW")
        or detail.startswith("USE TEMP B-TREE")
    ]


class Recorder:
    """The statements requests send, each once, with the request that sent it first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[tuple[Engine, str, Any, str]] = []
        self.seen: set[tuple[str, str]] = set()
        self.checked: list[dict[str, Any]] = []

    def __call__(self, conn: Connection, _cursor: Any, statement: str, parameters: Any,
                 _context: Any, executemany: bool) -> None:  # fmt: skip
        """after_cursor_execute: a statement that succeeded, inside a request."""
        if not flask.has_request_context() or not statement.lstrip().upper().startswith(
            WRITES_AND_READS
        ):
            return
        key = (conn.engine.dialect.name, statement)
        with self.lock:
            if key in self.seen:
                return
            self.seen.add(key)
            rule = flask.request.url_rule
            route = f"{flask.request.method} {rule.rule if rule else flask.request.path}"
            first = parameters[0] if executemany else parameters
            self.pending.append((conn.engine, statement, first, route))

    def explain_pending(self, test: str) -> None:
        """EXPLAIN what the test's requests sent, on their own database, while it still exists."""
        with self.lock:
            pending, self.pending = self.pending, []
        for engine, statement, parameters, route in pending:
            with engine.connect() as connection:
                found = problems(connection, statement, parameters)
            self.checked.append(
                {"route": route, "statement": statement, "test": test, "problems": found}
            )


RECORDER = Recorder()


def pytest_configure(config: pytest.Config) -> None:
    """Record from every engine the tests' apps make."""
    event.listen(Engine, "after_cursor_execute", RECORDER)


@pytest.fixture(autouse=True)
def _explain_what_requests_sent(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    RECORDER.explain_pending(request.node.nodeid)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Write what was checked, for the test that replayed the route tests."""
    event.remove(Engine, "after_cursor_execute", RECORDER)
    if path := os.environ.get(REPORT):
        Path(path).write_text(json.dumps(RECORDER.checked, indent=1))
