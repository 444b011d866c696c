"""Figures the tests measure (record_property) are printed at the end of the run."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List every recorded figure with the test that measured it (works under xdist too)."""
    rows = [
        (report.nodeid, name, value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", [])
    ]
    if rows:
        terminalreporter.section("measured figures")
        for nodeid, name, value in rows:
            terminalreporter.write_line(f"{name:>18} = {value:<8} {nodeid}")
