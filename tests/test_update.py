"""The update path the generated README documents: a service baked from template commit A, with
a local edit, takes template commit B's change through `cruft update`, and keeps the edit."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .helpers import BIN, TEMPLATE, run

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
CHANGE_B = "Template change B: new in the generated README."
LOCAL_EDIT = "# A local target the service's team added.\n"


@pytest.mark.xdist_group("update")
def test_cruft_update_brings_a_template_change_and_keeps_local_edits(tmp_path: Path) -> None:
    if not (TEMPLATE / ".git").exists():
        pytest.skip("the template is not a git checkout: cruft needs its history")
    template, out = tmp_path / "template", tmp_path / "out"
    run(["git", "clone", "--quiet", str(TEMPLATE), str(template)], tmp_path)
    run(
        [str(BIN / "cruft"), "create", "--no-input", "--output-dir", str(out), str(template)],
        tmp_path,
    )
    project = out / "flask-service"
    run([*GIT, "init", "--quiet"], project)
    run([*GIT, "add", "--all"], project)
    run([*GIT, "commit", "--quiet", "-m", "baked at A"], project)
    makefile = project / "Makefile"
    makefile.write_text(makefile.read_text() + LOCAL_EDIT)
    secret = (project / "deploy/k8s/overlays/prod/secret.env").read_text()
    run([*GIT, "commit", "--quiet", "-am", "a local edit"], project)

    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(
        readme.read_text().replace("## Quick start\n", f"## Quick start\n\n{CHANGE_B}\n", 1)
    )
    run([*GIT, "commit", "--quiet", "-am", "B"], template)
    commit_b = run(["git", "rev-parse", "HEAD"], template).stdout.strip()

    behind = subprocess.run(
        [str(BIN / "cruft"), "check"], cwd=project, capture_output=True, timeout=120, check=False
    )
    assert behind.returncode != 0, "cruft check sees the service is behind the template"
    run([str(BIN / "cruft"), "update", "--skip-apply-ask"], project, timeout=300)
    assert CHANGE_B in (project / "README.md").read_text(), "B's change arrived"
    assert makefile.read_text().endswith(LOCAL_EDIT), "the local edit survived"
    assert (project / "deploy/k8s/overlays/prod/secret.env").read_text() == secret
    assert not list(project.rglob("*.rej")), "no conflicts, generated secrets included"
    assert json.loads((project / ".cruft.json").read_text())["commit"] == commit_b
    run([str(BIN / "cruft"), "check"], project, timeout=120)
