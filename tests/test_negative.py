"""Bad answers through the real cookiecutter CLI: one line says what is wrong, nothing is left."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .helpers import BIN, TEMPLATE, bake

# One case per class of invalid answer the pre-generation hook knows.
BAD_ANSWERS = {
    "slug-uppercase": ("project_slug", "Orders-API"),
    "package-keyword": ("package_name", "import"),
    "package-shadows-stdlib": ("package_name", "json"),
    "package-shadows-dependency": ("package_name", "flask"),
    "package-shadows-tests": ("package_name", "test"),
    "package-leading-digit": ("project_name", "3D Printer API"),
    "package-too-long": ("package_name", "p" * 41),
    "email-shape": ("author_email", "not-an-email"),
    "port-privileged": ("http_port", "80"),
    "port-out-of-range": ("http_port", "70000"),
    "port-next-one-taken": ("http_port", "65535"),
    "port-not-a-number": ("http_port", "http"),
    "description-multiline": ("description", "line one\nline two"),
}


def cookiecutter_cli(output_dir: Path, *answers: str) -> subprocess.CompletedProcess[str]:
    """Run the cookiecutter command as a user would, without prompts."""
    return subprocess.run(
        [
            str(BIN / "cookiecutter"),
            "--no-input",
            "--output-dir",
            str(output_dir),
            str(TEMPLATE),
            *answers,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(("field", "value"), BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_bad_answer_fails_the_hook_and_leaves_nothing(
    tmp_path: Path, field: str, value: str
) -> None:
    result = cookiecutter_cli(tmp_path, f"{field}={value}")
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip().splitlines()
    assert len(output) == 1, "the one line, without cookiecutter's traceback:\n" + "\n".join(output)
    assert output[0].startswith("error: ")
    assert "is invalid: expected" in output[0]
    assert list(tmp_path.iterdir()) == [], "no half-made directory"


# Cookiecutter itself checks a choice before any hook runs; its message names all three parts.
NOT_OFFERED = {"python_version": "3.9", "license": "WTFPL", "ci": "jenkins"}


@pytest.mark.parametrize(("field", "value"), NOT_OFFERED.items(), ids=NOT_OFFERED.keys())
def test_choice_not_offered_is_refused_before_anything_is_written(
    tmp_path: Path, field: str, value: str
) -> None:
    result = cookiecutter_cli(tmp_path, f"{field}={value}")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert f"{value} provided for choice variable {field}, but the choices are" in last
    assert list(tmp_path.iterdir()) == []


def test_leading_digit_names_the_derived_package(tmp_path: Path) -> None:
    result = cookiecutter_cli(tmp_path, "project_name=3D Printer API")
    assert "error: package_name='3d_printer_api' is invalid" in result.stdout + result.stderr
    assert "starting with a letter" in result.stdout + result.stderr


def test_existing_project_is_never_overwritten(tmp_path: Path) -> None:
    project = bake(tmp_path)
    marker = project / "src" / "flask_service" / "routes" / "mine.py"
    marker.write_text("# my work\n")
    result = cookiecutter_cli(tmp_path, "description=Second bake zq7x")
    assert result.returncode != 0
    assert "already exists" in result.stdout + result.stderr
    assert marker.read_text() == "# my work\n"
    assert "zq7x" not in (project / "README.md").read_text()


def test_a_replay_file_re_bakes_the_project(tmp_path: Path) -> None:
    """The re-bake the README documents: the answers' check, run as cookiecutter renders the
    answers, has none to look at in a replay (the hook still checks the replayed ones)."""
    project = bake(tmp_path / "first", project_name="Replayed Service", http_port="9100")
    result = subprocess.run(
        [
            str(BIN / "cookiecutter"),
            "--replay-file",
            str(project / ".cookiecutter.json"),
            "--output-dir",
            str(tmp_path / "again"),
            str(TEMPLATE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    again = tmp_path / "again" / "replayed-service"
    assert "DEFAULT_PORT = 9100" in (again / "src/replayed_service/settings.py").read_text()
