"""docker/: the generator image bakes a project into a mounted directory, owned by its owner."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .docker_support import BASE_IMAGE, require_engine
from .helpers import TEMPLATE, run

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("generator-image")]
OWNER = 4321  # a user that is not the one running the tests


@pytest.fixture(scope="module")
def generator_image() -> Iterator[str]:
    """docker build -f docker/Dockerfile . (the template's root is the build context)."""
    require_engine()
    tag = f"flask-service-generator:test-{uuid.uuid4().hex[:8]}"
    build_args = ["--build-arg", f"PYTHON_IMAGE={BASE_IMAGE}"] if BASE_IMAGE else []
    run(["docker", "build", "-q", "-t", tag, "-f", "docker/Dockerfile", *build_args, "."], TEMPLATE)
    yield tag
    run(["docker", "image", "rm", "-f", tag], TEMPLATE)


def test_bakes_into_the_mounted_directory_owned_by_its_owner(
    generator_image: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.chown(out, OWNER, OWNER)
    run(
        [
            "docker",
            "run",
            "--rm",
            "-v",
            f"{out}:/out",
            generator_image,
            "--no-input",
            "project_name=Generated In Docker",
            "http_port=8100",
        ],
        tmp_path,
    )
    project = out / "generated-in-docker"
    answers = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"]
    assert answers["http_port"] == "8100"
    assert (project / "src" / "generated_in_docker" / "app.py").is_file()
    owners = {(p.stat().st_uid, p.stat().st_gid) for p in [project, *project.rglob("*")]}
    assert owners == {(OWNER, OWNER)}


def test_a_bad_answer_fails_and_leaves_nothing(generator_image: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "-v",
            f"{tmp_path}:/out",
            generator_image,
            "--no-input",
            "http_port=80",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip().splitlines()
    assert len(output) == 1, "the one line, without cookiecutter's traceback"
    assert output[0].startswith("error: http_port='80' is invalid")
    assert list(tmp_path.iterdir()) == []
