"""Every statement a request sends is answered through an index: the route tests (tests/routes/)
are run again on each database, every statement their requests send is EXPLAINed, and one that
reads a whole table or sorts without an index fails here, naming the route. A new query in a
route is covered as soon as a route test sends it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.app import create_app

from .plans import REPORT, Recorder, problems
from .support import PROJECT, ProbeBase, ProbeChild, probe_tables

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out


def replay_route_tests(url: str, report: Path) -> list[dict[str, object]]:
    """The route tests on the database at `url`, with the plans plugin; what it checked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    # Only the plans plugin: xdist, coverage and hypothesis's plugins would cost a second here.
    env |= {"TEST_DATABASE_URL": url, REPORT: str(report), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.db.plans"]
    result = subprocess.run(
        [*argv, "tests/routes"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    checked: list[dict[str, object]] = json.loads(report.read_text())
    return checked


def test_no_request_reads_a_whole_table_or_sorts_without_an_index(
    database_url: str, tmp_path: Path
) -> None:
    checked = replay_route_tests(database_url, tmp_path / "plans.json")
    assert checked, "the route tests sent no statement to check"
    unindexed = [
        f"{entry['route']} ({entry['test']}): {entry['problems']}\n  {entry['statement']}"
        for entry in checked
        if entry["problems"]
    ]
    assert not unindexed, "\n".join(unindexed)


@pytest.mark.parametrize(
    ("statement", "flagged"),
    [
        ("SELECT * FROM test_probe WHERE id > 0 ORDER BY id LIMIT 20", False),
        ("SELECT * FROM test_probe WHERE name = 'a'", False),
        ("SELECT * FROM test_probe_child WHERE probe_id = 1", True),  # no index on probe_id
        ("SELECT * FROM test_probe_child WHERE id > 0 ORDER BY probe_id LIMIT 20", True),
        ("SELECT count(*) FROM test_probe", True),  # counting reads every row
        ("SELECT * FROM test_probe ORDER BY id", True),  # the whole table, in order
    ],
)
def test_the_check_flags_scans_and_sorts(database_url: str, statement: str, flagged: bool) -> None:
    engine = create_engine(database_url)
    try:
        ProbeBase.metadata.create_all(engine)
        with engine.connect() as connection:
            assert bool(problems(connection, statement, ())) is flagged
    finally:
        ProbeBase.metadata.drop_all(engine)
        engine.dispose()


def test_the_recorder_flags_what_a_request_sent(database_url: str) -> None:
    app = create_app({"APP_ENV": "development", "DATABASE_URL": database_url})
    probe_tables(app)

    @app.route("/t/children")
    def children() -> dict[str, int]:
        found = db.session().scalars(select(ProbeChild).where(ProbeChild.probe_id == 1))
        return {"count": len(list(found))}

    recorder, engine = Recorder(), app.extensions["db"].kw["bind"]
    event.listen(engine, "after_cursor_execute", recorder)
    with app.app_context():  # a statement outside any request is not the routes' to answer for
        db.session().scalars(select(ProbeChild)).all()
    assert app.test_client().get("/t/children").status_code == 200
    recorder.explain_pending("this test")
    engine.dispose()
    (entry,) = recorder.checked
    assert entry["route"] == "GET /t/children"
    assert entry["problems"], entry
