"""A newcomer's machine: a fresh clone, python3, make and git, and no wrk or Docker on PATH.

The README's `make test` builds the venv from nothing, and every test that needs a missing
tool skips with what to install, never a path inside this repository. Only those tests run
here (the rest are the same as in CI); CI itself sets REQUIRE_* so that they run for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import TEMPLATE, run

# What a newcomer's PATH lacks (kubectl too: the bake pins its own in the dev lock).
MISSING = {"wrk", "docker", "dockerd", "docker-compose", "kubectl", "chromium"}
TOOL_TESTS = [
    "tests/test_bench_smoke.py",
    "tests/test_docker.py",
    "tests/test_generator_image.py",
    "tests/test_k8s_pod.py",
]


def path_without(missing: set[str], bin_dir: Path) -> str:
    """A PATH of one directory linking every executable on ours except the missing ones."""
    bin_dir.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory or directory.startswith(sys.prefix) or not Path(directory).is_dir():
            continue  # the template's own venv is not on a newcomer's PATH
        for entry in Path(directory).iterdir():
            link = bin_dir / entry.name
            if entry.name in missing or os.path.lexists(link) or not os.access(entry, os.X_OK):
                continue
            link.symlink_to(entry)
    return str(bin_dir)


@pytest.mark.slow
@pytest.mark.xdist_group("fresh-clone")
def test_make_test_in_a_fresh_clone_skips_what_is_missing_and_says_how_to_install_it(
    tmp_path: Path,
) -> None:
    if not (TEMPLATE / ".git").exists():
        pytest.skip("the template is not a git checkout, so there is nothing to clone")
    clone = tmp_path / "template"
    run(["git", "clone", "--quiet", str(TEMPLATE), str(clone)], tmp_path)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REQUIRE_", "VIRTUAL_ENV", "PYTHON", "PYTEST"))
    }
    env["PATH"] = path_without(MISSING, tmp_path / "bin")
    result = subprocess.run(
        ["make", "test", f"PYTEST_ARGS=-q -rs -p no:cacheprovider {' '.join(TOOL_TESTS)}"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert " failed" not in output
    assert "install wrk (apt-get install wrk" in output
    assert "https://docs.docker.com/engine/install/" in output
    assert "../shared" not in output, "no path that exists only in this repository's CI"
