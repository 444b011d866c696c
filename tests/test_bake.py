"""Bake a curated table of option combinations with real cookiecutter and check each bake:
nothing left unrendered, ruff and mypy clean, hadolint clean, and the project's own tests green."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from .docker_support import BASE_IMAGE, require_engine
from .helpers import BIN, DEPENDABOT, TEMPLATE, WORKFLOW, bake, run, schema_check, unrendered

ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", TEMPLATE / "build" / "artifacts"))

# Every option value at least once, plus the pairs that interact: both pruning options at once
# (no CI, no database), each database with and without the CI workflow (which runs PostgreSQL as
# a service), the port next to its ceiling (the dev profile publishes port + 1), the lowest
# Python with the longest accepted package name (line lengths; with a database, so the longest
# Kubernetes names too), a non-ASCII name deriving the slug and package, and quotes and
# backslashes in free text that lands in Python, TOML and the Dockerfile.
COMBOS = {
    "defaults": {},
    "py3.14-apache-no-ci-sqlite": {
        "python_version": "3.14",
        "license": "Apache-2.0",
        "ci": "none",
        "database": "sqlite",
    },
    "py3.12-bsd-port-9000-no-db": {
        "python_version": "3.12",
        "license": "BSD-3-Clause",
        "http_port": "9000",
        "database": "none",
    },
    "sqlite-with-ci": {"database": "sqlite"},
    "py3.11-no-license-no-ci-long-name": {
        "python_version": "3.11",
        "license": "none",
        "ci": "none",
        # Slug cut to 64 at a word boundary, package to 40: the longest accepted.
        "project_name": "The Extraordinarily Long Named Inventory Reconciliation "
        "And Forecasting Service",
    },
    "unicode-quotes-top-port-no-ci-no-db": {
        "project_name": "Café Résumé API",
        "description": 'Says "hi" to C:\\temp & <everyone>',
        "author_name": "Zoë O'Brien",
        "http_port": "65534",
        "ci": "none",
        "database": "none",
    },
}


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(answers, id=name, marks=pytest.mark.xdist_group(name))
        for name, answers in COMBOS.items()
    ],
)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bake per combination, shared by the checks below."""
    return bake(tmp_path_factory.mktemp("bake"), **request.param)


def test_nothing_left_unrendered(project: Path) -> None:
    assert unrendered(project) == []


def test_answers_are_recorded_and_features_pruned(project: Path) -> None:
    answers = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"]
    assert (project / ".github").exists() == (answers["ci"] == "github-actions")
    assert (project / "LICENSE").exists() == (answers["license"] != "none")
    assert not (project / "licenses").exists()
    assert (project / "src" / answers["package_name"] / "app.py").is_file()
    assert f"python:{answers['python_version']}-slim" in (project / "Dockerfile").read_text()
    assert (
        f"DEFAULT_PORT = {answers['http_port']}"
        in (project / "src" / answers["package_name"] / "settings.py").read_text()
    )
    assert not (project / "_variants").exists()


# A quoted LABEL value in a Dockerfile: backslash escapes the next character, nothing else.
LABEL_VALUE = re.compile(r'org\.opencontainers\.image\.(\w+)="((?:[^"\\]|\\.)*)"')


def test_image_labels_carry_the_answers_as_typed(project: Path) -> None:
    answers = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"]
    labels = {
        key: re.sub(r"\\(.)", r"\1", value)
        for key, value in LABEL_VALUE.findall((project / "Dockerfile").read_text())
    }
    assert labels["description"] == answers["description"]
    assert labels["authors"] == f"{answers['author_name']} <{answers['author_email']}>"


def test_the_database_choice_shapes_the_bake(project: Path) -> None:
    answers = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"]
    database, package = answers["database"], project / "src" / answers["package_name"]
    with_db = database != "none"
    for path in (
        package / "db.py",
        package / "models.py",
        project / "migrations",
        project / "tests/db",
    ):
        assert path.exists() == with_db, path
    dependencies = (project / "pyproject.toml").read_text() + (
        project / "requirements.lock"
    ).read_text()
    assert ("sqlalchemy" in dependencies.lower()) == with_db
    compose = (project / "compose.yaml").read_text()
    assert ("\n  db:\n" in compose) == (database == "postgresql")
    # make test-postgres (db.mk) needs it wherever there is a database, SQLite's bake included.
    assert ("\n  test-db:\n" in compose) == with_db
    assert ("service_completed_successfully" in compose) == with_db
    assert ("sqlite:////data/" in compose) == (database == "sqlite")
    assert ("POSTGRES_PASSWORD=" in (project / ".env").read_text()) == (database == "postgresql")
    # The stateless bake's example stores nothing, so it does not claim to create items.
    routes = sorted(p.name for p in (package / "routes").glob("*.py"))
    assert routes == ["__init__.py", "health.py", "items.py" if with_db else "quotes.py"]
    if with_db:
        assert "db.session()" in (package / "routes" / "items.py").read_text()
    manifests = project / "deploy" / "k8s" / "base"
    assert (manifests / "migrate-job.yaml").exists() == (database == "postgresql")
    assert (manifests / "pvc.yaml").exists() == (database == "sqlite")
    assert (manifests / "hpa.yaml").exists() == (database != "sqlite")
    # PgBouncer pools PostgreSQL's connections: its image and its Kubernetes component.
    pooler = [project / "pooler" / "Dockerfile", project / "deploy/k8s/components/pooler"]
    assert [path.exists() for path in pooler] == [database == "postgresql"] * 2
    assert ("--profile pooler" in compose) == (database == "postgresql")
    secrets = sorted(p.parent.name for p in project.glob("deploy/k8s/overlays/*/secret.env"))
    assert secrets == ["dev"], "prod's Secret comes from External Secrets"


def test_k8s_deploy_is_described_as_this_bake_does_it(project: Path) -> None:
    base = project / "deploy" / "k8s" / "base"
    manifests = "".join(path.read_text() for path in base.glob("*.yaml"))
    job, init = (base / "migrate-job.yaml").exists(), "initContainers:" in manifests
    readme = (project / "README.md").read_text()
    (told,) = [p for p in readme.split("\n\n") if p.startswith("`make k8s-deploy` renders")]
    assert ("migration Job" in told) == job
    assert ("init container" in told) == init
    assert ("maxUnavailable: 0" in told) == ("type: Recreate" not in manifests)
    listed = run(["make", "help"], project).stdout
    (target,) = [line for line in listed.splitlines() if "make k8s-deploy " in line]
    assert ("migrate" in target) == job


def test_github_files_match_their_schemas(project: Path) -> None:
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    dependabot = project / ".github" / "dependabot.yml"
    if not (project / ".github").exists():
        return  # ci=none: nothing of GitHub's in the bake (checked above)
    assert workflows
    assert dependabot.is_file()
    for schema, files in ((WORKFLOW, workflows), (DEPENDABOT, [dependabot])):
        result = schema_check(schema, *files)
        assert result.returncode == 0, result.stdout + result.stderr


def test_each_bounded_dependency_is_bumped_on_its_own(project: Path) -> None:
    """A runtime dependency bounded below its next release (for an internal the service relies
    on) gets a Dependabot group of its own, so its bump is a pull request of its own."""
    if not (project / ".github").exists():
        return  # ci=none: no Dependabot
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    bounded = {
        re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower()
        for spec in pyproject["project"]["dependencies"]
        if "<" in spec
    }
    updates = yaml.safe_load((project / ".github" / "dependabot.yml").read_text())["updates"]
    (pip,) = [update for update in updates if update["package-ecosystem"] == "pip"]
    groups = pip["groups"]
    assert bounded, "no bounded dependency: the test would prove nothing"
    assert all(groups.get(name, {}).get("patterns") == [name] for name in bounded), groups
    assert bounded <= set(groups["python"]["exclude-patterns"]), groups["python"]


def test_ruff_check(project: Path) -> None:
    run([str(BIN / "ruff"), "check", "--no-cache", "."], project)


def test_ruff_format(project: Path) -> None:
    run([str(BIN / "ruff"), "format", "--check", "--no-cache", "."], project)


def test_mypy_strict(project: Path) -> None:
    run([str(BIN / "mypy"), "--no-incremental", "--cache-dir", "/dev/null"], project)


def test_import_layers(project: Path) -> None:
    src = {"PYTHONPATH": str(project / "src")}
    run([str(BIN / "lint-imports"), "--no-cache"], project, env=src)


def test_an_import_against_the_layers_fails_lint(tmp_path: Path) -> None:
    """A core helper importing a route (the shape of the first day's `db` -> `routes.health`)."""
    project = bake(tmp_path)
    errors = next(project.glob("src/*/errors.py"))
    errors.write_text(errors.read_text() + "\nfrom .routes import health  # noqa: E402, F401\n")
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "layers BROKEN" in result.stdout
    assert ".errors -> " in result.stdout
    assert ".routes.health" in result.stdout


def test_hadolint(project: Path) -> None:
    pooler = ["pooler/Dockerfile"] if (project / "pooler").is_dir() else []
    run([str(BIN / "hadolint"), "Dockerfile", *pooler], project)


def test_generated_test_suite(project: Path, request: pytest.FixtureRequest) -> None:
    package = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"][
        "package_name"
    ]
    result = run(
        [
            str(BIN / "python"),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            # Two workers, as the bake's make test runs on CI's two CPUs: the suite mostly waits
            # on the servers it starts, and those waits overlap.
            "-n",
            "2",
            "--dist",
            "worksteal",
            "--cov",
            "-W",
            "error",
        ],
        project,
        env={
            "PYTHONPATH": str(project / "src"),
            "PYTHONDONTWRITEBYTECODE": "1",
            # Each bake's /docs screenshot, by combination (CI keeps build/artifacts).
            "ARTIFACTS_DIR": str(ARTIFACTS / request.node.callspec.id),
        },
    )
    assert " passed" in result.stdout
    assert " failed" not in result.stdout
    assert f"src/{package}" in result.stdout or "TOTAL" in result.stdout


@pytest.mark.parametrize(
    "name", ["Orders API", "orders api", "ORDERS-API!", "  Orders   API  ", "Orders_API"]
)
def test_names_differing_in_case_or_punctuation_bake_the_same_project(
    tmp_path: Path, name: str
) -> None:
    project = bake(tmp_path, project_name=name)
    assert project.name == "orders-api"
    assert (project / "src" / "orders_api" / "app.py").is_file()
    assert unrendered(project) == []


# The image every bake builds on, with make: its python3 (3.13 in CI) is the other Python the
# project claims beside the host's. Docker's layer cache makes every build after the first free.
RUNNER = """
ARG PYTHON_IMAGE=python:3.13-slim
FROM ${PYTHON_IMAGE}
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends make nodejs npm >/dev/null \
    && rm -rf /var/lib/apt/lists/*
"""


@pytest.fixture(scope="session")
def runner_image() -> str:
    """The base image plus make, and Node.js for the bake's local OpenID provider (its auth
    tests), built once per run (and reused from Docker's cache)."""
    require_engine()
    tag = "flask-service-template/bake-runner:latest"
    build_args = ["--build-arg", f"PYTHON_IMAGE={BASE_IMAGE}"] if BASE_IMAGE else []
    result = subprocess.run(
        ["docker", "build", "-q", "-t", tag, *build_args, "-"],
        input=RUNNER,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tag


@pytest.mark.docker
def test_make_test_passes_on_the_image_python(project: Path, runner_image: str) -> None:
    """The README's `make test` on a copy of the bake, in the container's Python: Python 3.13
    warns (an error under the suite's filterwarnings) about every SQLite connection left open."""
    script = "cp -a /bake /work && cd /work && python3 --version && make test"
    result = run(
        [
            "docker",
            "run",
            "--rm",
            "-v",
            f"{project}:/bake:ro",
            # Wheels downloaded once for all bakes of the run: pip's (uv itself, which make
            # install bootstraps with pip) and uv's (the locks). uv links from its cache, and a
            # volume is another filesystem, so it copies, and says nothing about it.
            "-v",
            "flask-service-template-pip:/root/.cache/pip",
            "-v",
            "flask-service-template-uv:/root/.cache/uv",
            "-e",
            "UV_LINK_MODE=copy",
            "-e",
            "REQUIRE_PROVIDER=1",  # Node.js is in the image: the auth tests run, never skip
            # Two bakes' suites run at once on CI's two cores: each gets its one CPU as a quota,
            # which `make test` sizes its workers to, as it would on a one-CPU runner.
            "--cpus",
            "1",
            runner_image,
            "sh",
            "-c",
            script,
        ],
        project,
        timeout=900,
    )
    assert " passed" in result.stdout
    assert " failed" not in result.stdout
    assert "Required test coverage" in result.stdout
