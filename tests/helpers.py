"""Shared helpers: bake the template with real cookiecutter and run commands in a bake."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# {{ }} or {% %} left in a baked file; GitHub Actions' own ${{ }} expressions are allowed.
# GitHub's ${{ }} and Go templates' {{ .field }} (components/pooler's ExternalSecret) are meant.
UNRENDERED = re.compile(r"(?<!\$)\{\{(?! \.)|\{%|%\}|\{#")
# check-jsonschema's vendored copies of the schemas GitHub publishes (offline).
WORKFLOW, DEPENDABOT = "vendor.github-workflows", "vendor.dependabot"


def schema_check(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with a built-in schema; the caller looks at the exit code."""
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_module(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m <module> <args>` from the template's root (a `make` target's command)."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def bake(output_dir: Path, **answers: str) -> Path:
    """Bake the template without prompts, with these answers; return the project directory."""
    return Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=answers
        )
    )


def borrow_template_venv(project: Path) -> None:
    """Give the bake a .venv that is the template's (same locked dependencies), so its Makefile
    runs its targets without installing them all again."""
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    for tool in ("python", "pytest", "alembic", "ruff"):
        (venv / "bin" / tool).symlink_to(BIN / tool)
    (venv / ".installed").touch()


def run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command; fail with its output if it exits non-zero or outlives `timeout`."""
    try:
        result = subprocess.run(
            cmd,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # what it printed so far says where it hung
        said = [
            o.decode(errors="replace") if isinstance(o, bytes) else o or ""
            for o in (exc.stdout, exc.stderr)
        ]
        pytest.fail(
            f"{' '.join(cmd)} ran past {timeout} s:\n{said[0][-20000:]}\n{said[1][-20000:]}"
        )
    assert result.returncode == 0, (
        f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result


def unrendered(project: Path) -> list[str]:
    """Every `file:line` of the bake that still holds template syntax."""
    hits = []
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if UNRENDERED.search(line):
                hits.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    return hits


def require(problem: str | None, install: str, variable: str) -> None:
    """Skip with what to install when a tool is missing, or fail where CI set `variable`=1."""
    if problem is None:
        return
    message = f"{problem}; to run this test, {install}"
    if os.environ.get(variable) == "1":
        pytest.fail(f"{message} ({variable}=1: a skip here is a failure)")
    pytest.skip(message)


def require_wrk() -> None:
    """wrk drives the load; skip with how to install it (fail under REQUIRE_WRK=1, as in CI)."""
    missing = None if shutil.which("wrk") else "wrk is not installed"
    require(missing, "install wrk (apt-get install wrk, or brew install wrk)", "REQUIRE_WRK")
