"""Finish a bake: prune unchosen features, lay the chosen variants over the tree, record the
answers, write .env, say what next."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# (answer, value) -> paths removed when the answer has that value ({package}: the package dir).
PRUNE: dict[tuple[str, str], tuple[str, ...]] = {
    ("ci", "none"): (".github",),
    ("database", "none"): (
        "src/{package}/db.py",
        "src/{package}/engine.py",
        "src/{package}/deadline.py",
        "src/{package}/revision.py",
        "src/{package}/models.py",
        "src/{package}/routes/items.py",  # a stateless example takes its place (_variants/)
        "tests/routes/test_items.py",
        "src/{package}/writes.py",
        "tests/contract_hooks.py",
        "tests/test_internals_openapi.py",
        "tests/routes/test_items_writes.py",
        "tests/routes/test_items_openapi.py",
        "tests/db",
        "migrations",
        "alembic.ini",
        "db.mk",
        "deploy/k8s/base/migrate-job.yaml",
        "deploy/k8s/base/networkpolicy-database.yaml",
        "pooler",
        "deploy/k8s/components/pooler",
        "tests/k8s/test_pooler.py",
    ),
    # One pod owns the SQLite file: no autoscaler, disruption budget, Job or database egress.
    ("database", "sqlite"): (
        "deploy/k8s/base/migrate-job.yaml",
        "deploy/k8s/base/networkpolicy-database.yaml",
        "deploy/k8s/base/hpa.yaml",
        "deploy/k8s/base/pdb.yaml",
        "deploy/k8s/overlays/dev/autoscaling.yaml",
        "pooler",  # PgBouncer pools PostgreSQL's connections
        "deploy/k8s/components/pooler",
        "tests/k8s/test_pooler.py",
    ),
}
LICENSES_DIR = "licenses"
# _variants/<answer>-<value>/ holds whole files that replace their namesakes for that answer.
VARIANTS_DIR = "_variants"


def prune(project: Path, answers: Mapping[str, object]) -> list[Path]:
    """Delete what the PRUNE table names for these answers; return what went."""
    removed = []
    for (field, value), paths in PRUNE.items():
        if answers.get(field) != value:
            continue
        for relative in paths:
            path = project / relative.format(package=answers.get("package_name"))
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
            else:
                continue
            removed.append(path)
    return removed


def apply_variants(project: Path, answers: Mapping[str, object]) -> list[Path]:
    """Move the chosen variants' files over the defaults, then drop every variant."""
    variants, placed = project / VARIANTS_DIR, []
    for folder in sorted(variants.iterdir()) if variants.is_dir() else ():
        field, _, value = folder.name.partition("-")
        if answers.get(field) != value:
            continue
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            target = project / source.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
            placed.append(target)
    shutil.rmtree(variants, ignore_errors=True)
    return placed


def place_license(project: Path, answers: Mapping[str, object]) -> None:
    """Keep the chosen license text as LICENSE and drop the others."""
    chosen = project / LICENSES_DIR / str(answers.get("license"))
    if chosen.is_file():
        chosen.replace(project / "LICENSE")
    shutil.rmtree(project / LICENSES_DIR, ignore_errors=True)


def template_dir(answers: Mapping[str, object]) -> Path | None:
    """The directory cookiecutter baked from, absolute, or None if it cannot be found.

    Cookiecutter passes `_repo_dir` as the user typed it and runs this hook inside the new
    project, so a relative path is resolved against the shell's $PWD, where it was typed."""
    repo_dir = answers.get("_repo_dir")
    if not isinstance(repo_dir, str) or not repo_dir:
        return None
    path = Path(os.environ.get("PWD", "/nonexistent")) / Path(repo_dir).expanduser()
    return path.resolve() if (path / "cookiecutter.json").is_file() else None


def git(directory: Path, *args: str) -> str | None:
    """git's output in `directory`, or None where git or the repository is missing."""
    try:
        result = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def template_commit(directory: Path) -> str | None:
    """HEAD of the template's checkout, if the template is the root of one: a template copied
    into another repository (a home directory under git, say) must not record that one's."""
    top = git(directory, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != directory:
        return None
    return git(directory, "rev-parse", "--verify", "HEAD")


def record_answers(project: Path, answers: Mapping[str, object]) -> Path:
    """Write the answers as a replay file so the project can be re-baked or updated later, with
    where the template came from and, from a git checkout, its commit (`_commit`): the update
    script (scripts/update_template.py) bakes that commit again to see what the template changed
    since, so it must never have to guess it."""
    public = {k: v for k, v in answers.items() if not k.startswith("_") or k == "_template"}
    directory = template_dir(answers)
    if directory is not None:
        # A local template as typed (`cookiecutter ../template`) is relative to a directory
        # the update runs far from: record where it is. gh: and URLs are kept as given.
        if answers.get("_template") == answers.get("_repo_dir"):
            public["_template"] = str(directory)
        commit = template_commit(directory)
        if commit is not None:
            public["_commit"] = commit
    path = project / ".cookiecutter.json"
    path.write_text(json.dumps({"cookiecutter": public}, indent=2, sort_keys=True) + "\n")
    return path


# Git-ignored files written from their committed examples with fresh secrets (production's
# Kubernetes Secret comes from External Secrets, never from a file).
SECRET_FILES = (
    (".env", ".env.example"),
    ("deploy/k8s/overlays/dev/secret.env", "deploy/k8s/secret.env.example"),
)


def write_env(project: Path, target: str, source: str) -> Path | None:
    """Create a git-ignored env file from its example with fresh secrets: the SECRET_KEY, the
    debugger's PIN and, with PostgreSQL, the database password."""
    env, example = project / target, project / source
    if env.exists() or not example.exists():
        return None
    fresh = {
        "SECRET_KEY": secrets.token_hex(32),
        "DEBUG_PIN": "-".join(f"{secrets.randbelow(1000):03d}" for _ in range(3)),
        "POSTGRES_PASSWORD": secrets.token_hex(16),
    }
    lines = []
    for line in example.read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={fresh[key]}" if key in fresh else line)
    env.write_text("\n".join(lines) + "\n")
    env.chmod(0o600)
    return env


def next_steps(answers: Mapping[str, object]) -> str:
    """The two commands a new user runs first."""
    slug, port = answers["project_slug"], answers["http_port"]
    return (
        f"\nBaked {slug}. Next:\n"
        f"  cd {slug}\n"
        "  make test            # venv, dependencies from the lock, the test suite\n"
        "  make dev             # run_simple with the reloader and debugger on 127.0.0.1\n"
        f"  docker compose up    # gunicorn in a read-only container on port {port}\n"
    )


def main(project: Path, answers: Mapping[str, object]) -> int:
    """Run every finishing step in order."""
    prune(project, answers)
    apply_variants(project, answers)
    place_license(project, answers)
    record_answers(project, answers)
    for target, source in SECRET_FILES:
        write_env(project, target, source)
    print(next_steps(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd(), json.loads(r"""{{ cookiecutter | tojson }}""")))
