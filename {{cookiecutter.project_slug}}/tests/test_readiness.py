"""readiness.Outages: an outage is known once, and while it lasts requests are shed at once, but
for one a TRIAL that tries the dependency again."""

from __future__ import annotations

import time

import pytest

from {{ cookiecutter.package_name }} import readiness
from {{ cookiecutter.package_name }}.readiness import Outages


def test_nothing_is_shed_while_a_dependency_answers() -> None:
    assert Outages().shedding("database") is None


def test_a_known_outage_sheds_all_but_one_request_a_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readiness, "TRIAL", 0.2)
    record = Outages()
    record.failing("database", "OperationalError")
    assert [record.shedding("database") for _ in range(3)] == ["OperationalError"] * 3
    time.sleep(0.25)
    assert record.shedding("database") is None, "one request tries it again"
    assert record.shedding("database") == "OperationalError", "and only one"
    record.passing("database")
    assert record.shedding("database") is None
