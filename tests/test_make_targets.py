"""The bake's own make targets, run as a user runs them (with the template's venv lent)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .helpers import BIN, bake, borrow_template_venv

# Badly formatted, with a fix ruff makes (the unused import) and findings it cannot make (eval,
# the missing annotations): formatting must happen all the same.
UNTIDY = "import os\ndef double( text ):\n    return eval( text )*2\n"
TIDIED = "def double(text):\n    return eval(text) * 2\n"


def test_make_format_formats_despite_findings_it_cannot_fix(tmp_path: Path) -> None:
    project = bake(tmp_path)
    borrow_template_venv(project)
    module = next(project.glob("src/*")) / "untidy.py"
    module.write_text(UNTIDY)
    result = subprocess.run(
        ["make", "format"], cwd=project, capture_output=True, text=True, timeout=120, check=False
    )
    assert module.read_text() == TIDIED
    assert result.returncode != 0, "what is left to fix by hand fails the target"
    assert "S307" in result.stdout, "and is listed"
    assert result.stdout.count("S307") == 1, "once"


def make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", *args], cwd=project, capture_output=True, text=True, timeout=120, check=False
    )


def test_k8s_render_needs_no_copy_step_for_dev_and_refuses_prod_placeholders(
    tmp_path: Path,
) -> None:
    project = bake(tmp_path)
    borrow_template_venv(project)
    (project / ".venv" / "bin" / "kubectl").symlink_to(BIN / "kubectl")
    secret = project / "deploy" / "k8s" / "overlays" / "dev" / "secret.env"
    secret.unlink()  # git-ignored: a fresh clone has none
    dev = make(project, "k8s-render", "OVERLAY=dev")
    assert dev.returncode == 0, dev.stdout + dev.stderr
    assert "kind: Deployment" in (project / "build" / "k8s-dev.yaml").read_text()
    key = next(line for line in secret.read_text().splitlines() if line.startswith("SECRET_KEY="))
    assert len(key.removeprefix("SECRET_KEY=")) == 64
    assert secret.stat().st_mode & 0o777 == 0o600
    for target in ("k8s-render", "k8s-deploy"):
        prod = make(project, target, "OVERLAY=prod")
        assert prod.returncode != 0
        assert "set images: newName/newTag" in prod.stderr
        assert "kubectl apply" not in prod.stdout, "nothing reaches the cluster"
        assert not list((project / "build").glob("k8s-prod*")), "no empty or unchecked render"


def test_make_test_fast_runs_all_but_the_real_process_tests(tmp_path: Path) -> None:
    """The edit loop's target: everything but the tests marked server (real gunicorn, dev
    server, interpreters, a browser), which `make test` keeps."""
    project = bake(tmp_path)
    borrow_template_venv(project)
    result = subprocess.run(
        ["make", "test-fast"],
        cwd=project,
        # The borrowed venv has no editable install of the bake's package.
        env={**os.environ, "PYTHONPATH": str(project / "src"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    (summary,) = [line for line in result.stdout.splitlines() if " passed" in line]
    assert " deselected" in summary, "the server tests are left out"
    assert "failed" not in summary
