"""Bake the template's defaults with the real cookiecutter CLI, timed: the generation figure."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .common import TEMPLATE, BenchError, executable


@dataclass(frozen=True)
class Bake:
    """A baked project: where it is, its package, and the production secret the bench uses."""

    path: Path
    package: str
    python_version: str
    secret: str

    @property
    def src(self) -> Path:
        """The directory that goes on PYTHONPATH."""
        return self.path / "src"


def cookiecutter_cli() -> str:
    """The cookiecutter beside this interpreter (the template's venv), else the one on PATH."""
    return executable("cookiecutter", "make bench installs it into .venv")


def bake_defaults(output: Path, template: Path = TEMPLATE) -> tuple[Bake, float]:
    """`cookiecutter --no-input -o output <template>`; the bake and the seconds it took."""
    output.mkdir(parents=True, exist_ok=True)
    argv = [cookiecutter_cli(), "--no-input", "--output-dir", str(output), str(template)]
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchError(f"cookiecutter exited {result.returncode}: {result.stderr.strip()[-500:]}")
    (project,) = [p for p in output.iterdir() if (p / ".cookiecutter.json").is_file()]
    return baked(project), seconds


def baked(project: Path) -> Bake:
    """A bake already on disk, as its .cookiecutter.json describes it."""
    answers = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"]
    secret = secrets.token_hex(24)  # 48 characters, as production requires at least 32
    return Bake(project.resolve(), answers["package_name"], answers["python_version"], secret)
