"""A newcomer's machine, literally: a fresh Debian container with python3, then make and git
from apt, clones the template and runs the README's `make test`. Only the tests that need a tool
the container lacks (wrk, Docker) run there, the rest being the same as in CI: they must skip
with what to install, never a path inside this repository, and the run must be green."""

from __future__ import annotations

import pytest

from .docker_support import BASE_IMAGE, require_engine
from .helpers import TEMPLATE, run

pytestmark = [pytest.mark.docker, pytest.mark.slow]

TOOL_TESTS = "tests/test_bench_smoke.py tests/test_docker.py tests/test_k8s_pod.py"
SCRIPT = f"""
set -e
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends make git >/dev/null
git config --global --add safe.directory '*'
git clone --quiet /template /newcomer/template && cd /newcomer/template
! command -v wrk && ! command -v docker
make test PYTEST_ARGS='-q -rs -p no:cacheprovider {TOOL_TESTS}'
"""


@pytest.mark.xdist_group("fresh-container")
def test_make_test_in_a_fresh_debian_container_is_green_and_says_what_to_install() -> None:
    require_engine()
    if not (TEMPLATE / ".git").exists():
        pytest.skip("the template is not a git checkout, so there is nothing to clone")
    image = BASE_IMAGE or "python:3.13-slim"  # Debian with python3 and nothing else of ours
    result = run(
        ["docker", "run", "--rm", "-v", f"{TEMPLATE}:/template:ro", image, "sh", "-c", SCRIPT],
        TEMPLATE,
        timeout=1200,
    )
    output = result.stdout + result.stderr
    assert " passed" in output
    assert " failed" not in output
    assert "install wrk (apt-get install wrk" in output
    assert "https://docs.docker.com/engine/install/" in output
    assert "../shared" not in output, "no path that exists only in this repository's CI"
