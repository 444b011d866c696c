"""Shared by every part of the suite: where the template is, errors, progress on stderr."""

from __future__ import annotations

import shutil
import statistics
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"


class BenchError(Exception):
    """The suite cannot go on; the message says why, in one line where possible."""


def say(message: str) -> None:
    """Progress for the person waiting, on stderr (stdout holds only the table)."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    return float(statistics.median(values))


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, to explain a failure."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def executable(name: str, install: str) -> str:
    """`name` beside this interpreter (the template's venv), else on PATH, else BenchError."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise BenchError(f"{name} is not installed ({install})")
    return found
