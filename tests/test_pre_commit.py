"""`pre-commit run --all-files` on a fresh bake: every hook runs offline and passes, and a type
error makes it fail."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .helpers import BIN, bake, run


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A default bake as a git repository, with the template's venv as its .venv."""
    project = bake(tmp_path / "out")
    (project / ".venv").symlink_to(BIN.parent)
    env = {
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "PYTHONPATH": str(project / "src"),  # what `make install`'s editable install provides
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    }  # fmt: skip
    run(["git", "init", "--quiet"], project)
    run(["git", "add", "--all"], project)
    return project, env


def pre_commit(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Every hook on every file; the caller looks at the exit code."""
    return subprocess.run(
        [str(BIN / "pre-commit"), "run", "--all-files"],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.xdist_group("pre-commit")
def test_every_hook_passes_offline_on_a_fresh_bake(repository: tuple[Path, dict[str, str]]) -> None:
    project, env = repository
    result = pre_commit(project, env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    for hook in ("ruff check", "ruff format", "mypy --strict", "yamllint", "locks agree"):
        assert any(
            line.startswith(hook) and line.endswith("Passed") for line in result.stdout.splitlines()
        ), hook


@pytest.mark.xdist_group("pre-commit")
def test_a_type_error_fails_the_commit(repository: tuple[Path, dict[str, str]]) -> None:
    project, env = repository
    config = next(project.glob("src/*/settings.py"))
    config.write_text(config.read_text() + '\n\nBROKEN: int = "not an int"\n')
    run(["git", "add", "--all"], project)
    result = pre_commit(project, env)
    assert result.returncode != 0
    assert "Incompatible types in assignment" in result.stdout
