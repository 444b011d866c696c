"""The update path the generated README documents ("Keeping up with the template"), run as a
user runs it: a template checkout with history, a service baked from it by the cookiecutter
CLI and committed, a fresh clone of the service (no .env), and `make update-template` in a
pseudo-terminal, where a question would wait for an answer and fail here by timeout."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
from pathlib import Path

import pytest

from .helpers import BIN, TEMPLATE, run

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
README = "{{cookiecutter.project_slug}}/README.md"
LOCAL_EDIT = "# A local target the service's team added.\n"
QUICK_START = "## Quick start\n"
# The user's PATH with the template's venv first: there `cookiecutter` is what pipx would give.
ENV = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

pytestmark = pytest.mark.xdist_group("update")


def template_repo(directory: Path) -> tuple[Path, str]:
    """This checkout's files as they are now (ignored ones such as .env left out, as in a fresh
    clone), committed to a new repository: the template with a history to update along."""
    if not (TEMPLATE / ".git").exists():
        pytest.skip("the template is not a git checkout: the update needs its history")
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], TEMPLATE)
    for name in filter(None, listed.stdout.split("\0")):
        if (TEMPLATE / name).is_file():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, directory / name)
    return directory, commit(directory, "A", init=True)


def commit(repo: Path, message: str, *, init: bool = False) -> str:
    """Commit everything in `repo` (a new repository if `init`); return the commit."""
    if init:
        run([*GIT, "init", "--quiet"], repo)
    run([*GIT, "add", "--all"], repo)
    run([*GIT, "commit", "--quiet", "-m", message], repo)
    return run(["git", "rev-parse", "HEAD"], repo).stdout.strip()


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in the file, which must be there."""
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


def in_terminal(cmd: list[str], cwd: Path, idle: float = 120) -> tuple[int, str]:
    """Run `cmd` with a pseudo-terminal for stdin, stdout and stderr, as from a shell; return the
    exit code and the output. Silence for `idle` seconds (a prompt waiting) fails the test."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env={**os.environ, **ENV}, stdin=secondary, stdout=secondary,
        stderr=secondary, start_new_session=True,
    )  # fmt: skip
    os.close(secondary)
    output = b""
    while True:
        if not select.select([primary], [], [], idle)[0]:
            proc.kill()
            proc.wait()
            pytest.fail(f"{cmd} went silent for {idle}s, waiting for input?\n{output.decode()}")
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: every writer of the terminal has exited
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    return proc.wait(timeout=60), output.decode(errors="replace").replace("\r\n", "\n")


def status(repo: Path) -> list[str]:
    """`git status --porcelain`: two status letters and a path per changed file."""
    return run(["git", "status", "--porcelain"], repo).stdout.splitlines()


def recorded(project: Path) -> dict[str, str]:
    """The answers and provenance the bake wrote into .cookiecutter.json."""
    return dict(json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"])


def test_update_merges_template_changes_keeps_local_edits_and_marks_conflicts(
    tmp_path: Path,
) -> None:
    template, commit_a = template_repo(tmp_path / "template")
    # `cookiecutter path/to/checkout`, typed in a shell (which sets PWD), relative as in the README.
    bake = [str(BIN / "cookiecutter"), "--no-input", "-o", "out", "template"]
    run(bake, tmp_path, {"PWD": str(tmp_path)})
    origin = tmp_path / "out" / "flask-service"
    assert recorded(origin)["_commit"] == commit_a, "plain cookiecutter records the commit"
    assert recorded(origin)["_template"] == str(template.resolve()), "and the checkout, absolute"
    commit(origin, "baked at A", init=True)
    service = tmp_path / "service"
    run(["git", "clone", "--quiet", str(origin), str(service)], tmp_path)
    assert not (service / ".env").exists(), "a fresh clone has no .env"
    makefile, readme = service / "Makefile", service / "README.md"
    makefile.write_text(makefile.read_text() + LOCAL_EDIT)
    (service / "compose.yaml").unlink()
    commit(service, "a local edit, and no compose")

    # B: a new paragraph and a new file, away from the service's edit: a clean merge. Its change
    # to compose.yaml, which the service deleted, is left out.
    edit(template / README, QUICK_START, f"{QUICK_START}\nTemplate change B.\n")
    (template / "{{cookiecutter.project_slug}}/NOTES.md").write_text("New in B.\n")
    compose = template / "{{cookiecutter.project_slug}}/compose.yaml"
    compose.write_text(compose.read_text() + "# B\n")
    commit_b = commit(template, "B")
    code, output = in_terminal(["make", "update-template"], service)
    assert code == 0, output
    assert "Template change B." in readme.read_text()
    assert (service / "NOTES.md").read_text() == "New in B.\n"
    assert makefile.read_text().endswith(LOCAL_EDIT), "the local edit survived"
    assert "left out, deleted here: compose.yaml" in output
    assert not (service / "compose.yaml").exists()
    assert recorded(service)["_commit"] == commit_b, "the next update starts from B"
    assert all(line[0] != " " and line[1] == " " for line in status(service)), "all staged"
    assert "Baked flask-service" not in output, "no bake banner: the user baked nothing"
    assert not (service / ".env").exists(), "git-ignored files are never written"
    commit(service, "template B")

    # C and the service rewrite the same heading: a conflict, shown as the README says.
    edit(readme, QUICK_START, "## Quick start, our way\n")
    commit(service, "our heading")
    edit(template / README, QUICK_START, "## Quick start in three commands\n")
    commit_c = commit(template, "C")
    code, output = in_terminal(["make", "update-template"], service)
    assert code != 0, "conflicts are not success"
    assert re.search(r"CONFLICT.*README\.md", output), output
    assert "UU README.md" in status(service)
    text = readme.read_text()
    assert "<<<<<<< ours\n## Quick start, our way\n=======\n" in text
    assert "## Quick start in three commands\n>>>>>>> theirs\n" in text
    assert not list(service.rglob("*.rej")), "markers, not *.rej files"
    assert recorded(service)["_commit"] == commit_c


def test_update_without_a_recorded_commit_refuses_to_guess_and_never_asks(
    tmp_path: Path,
) -> None:
    template, commit_a = template_repo(tmp_path / "template")
    # A copy without git history (a downloaded archive) can record no commit.
    copy = tmp_path / "copy"
    shutil.copytree(template, copy, ignore=shutil.ignore_patterns(".git"))
    answers = ["project_name=Orders API", "database=sqlite", "license=BSD-3-Clause"]
    run(
        [str(BIN / "cookiecutter"), "--no-input", "-o", str(tmp_path), str(copy), *answers],
        tmp_path,
    )
    service = tmp_path / "orders-api"
    before = recorded(service)
    assert "_commit" not in before
    commit(service, "baked", init=True)
    edit(template / README, QUICK_START, f"{QUICK_START}\nTemplate change B.\n")
    commit_b = commit(template, "B")

    code, output = in_terminal(
        ["make", "update-template", f"UPDATE_ARGS=--template {template}"], service
    )
    assert code != 0
    assert "--from" in output, "says how to name the commit"
    assert status(service) == [], "and changed nothing"

    args = f"UPDATE_ARGS=--from {commit_a} --template {template}"
    code, output = in_terminal(["make", "update-template", args], service)
    assert code == 0, output
    assert "Template change B." in (service / "README.md").read_text()
    after = recorded(service)
    assert after == {**before, "_commit": commit_b, "_template": str(template.resolve())}
    assert not (service / "deploy/k8s/base/hpa.yaml").exists(), "sqlite's pruning replayed"
    assert "BSD" in (service / "LICENSE").read_text(), "the answer kept, not the default MIT"

    # The record stays a replay file: cookiecutter re-bakes from it without a question.
    replay = [str(BIN / "cookiecutter"), "--replay-file", str(service / ".cookiecutter.json")]
    code, output = in_terminal([*replay, "-o", str(tmp_path / "replay"), str(template)], tmp_path)
    assert code == 0, output
    assert (tmp_path / "replay/orders-api/src/orders_api/app.py").is_file()


@pytest.mark.parametrize(
    ("readme", "heading"),
    [("README.md", "## Use it\n"), (README, "## Keeping up with the template\n")],
)
def test_install_lines_suit_an_externally_managed_python(readme: str, heading: str) -> None:
    """Debian's and Ubuntu's system Pythons refuse `pip install --user` (PEP 668): tools go in
    with pipx or uv, or into a venv; and no placeholder stands where a template path goes."""
    text = (TEMPLATE / readme).read_text()
    section = text[text.index(heading) :].split("\n## ", 1)[0]
    assert "pipx install cookiecutter" in section
    assert "uv tool install cookiecutter" in section
    for line in section.splitlines():
        if re.search(r"\bpip3? install\b", line):
            assert re.search(r"/bin/pip3? install", line), f"pip outside a venv: {line}"
    assert "OWNER/REPO" not in section
    # cruft 2.16.0 crashes at its own prompt under typer 0.29+: no command may still use it.
    commands = "".join(re.findall(r"```sh\n(.*?)```", section, re.DOTALL))
    assert commands, "the section shows its commands"
    assert "cruft" not in commands
    assert not re.search(r"install[^`\n]*\bcruft\b", section)
