"""Take the template's changes since this service was baked, keeping the service's own edits.

Bakes the template with the answers in .cookiecutter.json at the commit recorded there
(`_commit`) and at its newest (or --to), and applies the difference with `git apply --3way`:
changes arrive staged, and where the service changed the same lines the file gets git's conflict
markers. Git-ignored files (.env, secret.env) never take part. Needs git, cookiecutter, stdlib."""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

RECORD = ".cookiecutter.json"
# Cookiecutter's own abbreviations, expanded the same way, since git clones the template here.
ABBREVIATIONS = {"gh": "https://github.com/{}.git", "gl": "https://gitlab.com/{}.git"}
# The scratch commits need an author and no signing key, whatever the user's git config holds.
GIT = ["git", "-c", "user.name=u", "-c", "user.email=u@localhost", "-c", "commit.gpgsign=false"]


class UpdateError(Exception):
    """A reason to stop; raised before the project is touched, or by git apply, which is atomic."""


def git(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run git; the caller reads the exit code."""
    return subprocess.run(
        [*GIT, *args], cwd=cwd, input=stdin, capture_output=True, text=True, check=False
    )


def out(cwd: Path, *args: str) -> str:
    """git's output, or UpdateError with its message."""
    result = git(cwd, *args)
    if result.returncode != 0:
        raise UpdateError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def resolve(clone: Path, ref: str) -> str:
    """The commit a branch, tag or commit names in the fresh clone of the template."""
    for candidate in (ref, "origin/" + ref):  # a branch other than the default is a remote one
        commit = git(clone, "rev-parse", "--verify", "--quiet", candidate + "^{commit}").stdout
        if commit.strip():
            return commit.strip()
    raise UpdateError(f"the template has no commit, branch or tag {ref!r}")


def bake(clone: Path, commit: str, answers: dict[str, object], to: Path) -> Path:
    """Bake the template at `commit` into `to` with the recorded answers; return the project."""
    to.mkdir()
    out(clone, "checkout", "--quiet", "--detach", commit)
    given = [f"{key}={value}" for key, value in answers.items() if not key.startswith("_")]
    cmd = ["cookiecutter", "--no-input", "--output-dir", str(to), str(clone), *given]
    # Output captured: the bake's banner ("Baked ... Next: cd ...") is no news in an update.
    baked = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if baked.returncode != 0:
        raise UpdateError(f"cookiecutter at {commit}: {baked.stderr.strip() or baked.stdout}")
    return next(to.iterdir())


def snapshot(store: Path, *trees: Path) -> None:
    """Commit each tree in turn to the scratch repository; a bake's .gitignore keeps .env out."""
    for tree, args in itertools.product(trees, (["add", "--all"], ["commit", "-qm", "bake"])):
        out(store, f"--git-dir={store}", f"--work-tree={tree}", *args)


def update(project: Path, args: argparse.Namespace) -> int:
    """Bake both commits, apply the difference, say what happened; 1 when conflicts remain."""
    try:
        answers = json.loads((project / RECORD).read_text())["cookiecutter"]
    except (OSError, ValueError, KeyError) as error:
        raise UpdateError(f"no answers to replay in {RECORD}: {error!r}") from error
    template, base = args.template or answers.get("_template"), args.base or answers.get("_commit")
    if not template:
        raise UpdateError(f"{RECORD} records no template (_template): pass --template")
    local = project / Path(template).expanduser()  # a path typed here, or recorded absolute
    template = str(local.resolve()) if local.is_dir() else template
    if not base:
        raise UpdateError(
            f"{RECORD} records no template commit (_commit): pass --from <the template commit "
            "this service was baked from>; the newest would silently drop every change since"
        )
    if shutil.which("cookiecutter") is None:
        raise UpdateError("no cookiecutter on PATH: pipx install cookiecutter (or uv tool ...)")
    if not args.diff and out(project, "status", "--porcelain", "--untracked-files=no"):
        raise UpdateError("commit or stash your changes first: the update arrives staged")
    with tempfile.TemporaryDirectory(prefix="update-template-") as name:
        tmp = Path(name)
        prefix, _, rest = template.partition(":")
        source = ABBREVIATIONS[prefix].format(rest) if prefix in ABBREVIATIONS else template
        out(tmp, "clone", "--quiet", "--no-checkout", source, "clone")
        out(tmp, "init", "--quiet", "--bare", "store")
        old, new = resolve(tmp / "clone", base), resolve(tmp / "clone", args.to)
        if old == new:
            print(f"Already at the template's {args.to} ({new[:12]}).")
            return 0
        before = bake(tmp / "clone", old, answers, tmp / "old")
        # The record's base is the service's own (it may predate _commit): only the new differs.
        (before / RECORD).write_text((project / RECORD).read_text())
        after = bake(tmp / "clone", new, answers, tmp / "new")
        data = json.loads((after / RECORD).read_text())
        # Where the template is, not the scratch clone; and the commit, even from an old hook.
        data["cookiecutter"].update(_template=template, _commit=new)
        (after / RECORD).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        snapshot(tmp / "store", before, after)
        # Files the service deleted stay deleted: the template's changes to them are left out.
        baked = out(tmp / "store", "ls-tree", "-r", "--name-only", "HEAD~").splitlines()
        gone = sorted(set(baked) - set(out(project, "ls-files").splitlines()))
        skip = [f":(exclude,literal){path}" for path in gone]
        diff = git(tmp / "store", "diff", "--binary", "-M", "HEAD~", "HEAD", "--", *skip).stdout
        if args.diff:
            sys.stdout.write(diff)
            return 0
        # The old bake's blobs, so that git apply can merge three ways where lines moved.
        out(project, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", str(tmp / "store"))
    sub = out(project, "rev-parse", "--show-prefix")  # a service inside a bigger repository
    applied = git(project, "apply", "--3way", *(["--directory", sub] if sub else []), stdin=diff)
    conflicts = out(project, "diff", "--relative", "--name-only", "--diff-filter=U").splitlines()
    if applied.returncode != 0 and not conflicts:
        raise UpdateError(f"git apply failed, so it changed nothing:\n{applied.stderr.strip()}")
    print(f"Template {old[:12]} -> {new[:12]}: changes applied and staged (git diff --staged).")
    for path in gone:
        print(f"  left out, deleted here: {path}")
    for path in conflicts:
        print(f"  CONFLICT, not staged: resolve the <<<<<<< markers, then git add {path}")
    return 1 if conflicts else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options; an UpdateError is a message and exit code 2, not a traceback."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--to", default="HEAD", help="template branch, tag or commit (newest)")
    parser.add_argument("--from", dest="base", help="the commit baked from, if none is recorded")
    parser.add_argument("--template", help="where the template is now, if it moved (path, URL)")
    parser.add_argument("--diff", action="store_true", help="print the changes, apply nothing")
    try:
        return update(Path.cwd(), parser.parse_args(argv))
    except UpdateError as error:
        print(f"update-template: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
