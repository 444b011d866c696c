"""A new user's first command: `make test` in a freshly baked project, from nothing but python3."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from .helpers import bake, run


@pytest.mark.slow
@pytest.mark.xdist_group("fresh-make")
def test_make_test_from_scratch(tmp_path: Path) -> None:
    project = bake(tmp_path)
    # Committed as a user would, to see that what the targets write is all git-ignored.
    git = ["git", "-c", "user.name=New User", "-c", "user.email=new@example.org"]
    run([*git, "init", "--quiet"], project)
    run([*git, "add", "--all"], project)
    run([*git, "commit", "--quiet", "--no-verify", "--message", "Baked"], project)
    python3 = shutil.which("python3")
    assert python3, "python3 on PATH is all the README assumes"
    # A clean environment: no virtualenv, no PYTHONPATH of ours leaking into the new venv.
    env = {**os.environ, "VIRTUAL_ENV": "", "PYTHONPATH": ""}
    path = [
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(Path(sys.prefix)))
    ]
    env["PATH"] = os.pathsep.join(path)
    result = run(["make", "test"], project, env=env, timeout=900)
    assert (project / ".venv" / "bin" / "python").exists()
    assert " passed" in result.stdout
    assert "Required test coverage of 80.0% reached" in result.stdout
    lint = run(["make", "lint"], project, env=env, timeout=300)
    assert "Success: no issues found" in lint.stdout
    run(["make", "k8s-render", "OVERLAY=dev"], project, env=env, timeout=120)
    assert "kind: Deployment" in (project / "build" / "k8s-dev.yaml").read_text()
    status = run(["git", "status", "--porcelain", "--untracked-files=all"], project).stdout
    assert status == "", "a user's `git add --all` would commit these"
