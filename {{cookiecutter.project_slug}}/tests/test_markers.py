"""The `server` marker keeps its meaning: a test that starts a program without it fails
(conftest.py), so `make test-fast` never meets a start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_an_unmarked_test_cannot_start_a_program() -> None:
    with pytest.raises(RuntimeError, match=r"test_markers\.py::.* starts a process") as refused:
        subprocess.run([sys.executable, "-c", "pass"], check=False)
    assert "@pytest.mark.server" in str(refused.value)


@pytest.mark.server
def test_a_marked_test_can() -> None:
    assert subprocess.run([sys.executable, "-c", "pass"], check=False).returncode == 0
