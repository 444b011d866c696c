"""The edits every owner makes, made as the generated README says: its "Adding a resource"
section is followed block by block on a fresh bake (remove the example's routes and tests, add
customers and their orders: models, `make migration`, shapes, routes, tests, `make openapi`),
and its own `make test` and `make lint` must pass; then "Adding a setting" and "Adding a
middleware" (a setting, the middleware that sends it, its test), on every bake. The sections are
the script, so the docs cannot drift from the code."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import bake

pytestmark = pytest.mark.slow

RESOURCE = "### Adding a resource"
SETTING, MIDDLEWARE = "### Adding a setting", "### Adding a middleware"  # every bake has these
BLOCK = re.compile(r"^```(?P<kind>sh|python|markdown)\n(?P<body>.*?)^```$", re.S | re.M)
# `# path`, `# path (add to the end)` or `# path (add after the line starting "...")`.
TARGET = re.compile(
    r"# (?P<path>\S+)(?: \(add (?:(?P<end>to the end)"
    r'|(?P<side>before|after) the line starting "(?P<anchor>.+)")\))?'
)


@dataclass
class Step:
    """One block of a section: a shell script, or a file to create or extend."""

    kind: str
    body: str

    def apply(self, project: Path) -> None:
        if self.kind == "sh":
            run(["bash", "-euo", "pipefail", "-c", self.body], project)
            return
        first, _, rest = self.body.partition("\n")
        target = TARGET.fullmatch(first)
        assert target, f"a {self.kind} block must name its file on its first line: {first!r}"
        path = project / target["path"]
        if target["side"]:
            after = target["side"] == "after"
            path.write_text(insert(path.read_text(), rest, target["anchor"], after=after))
        elif target["end"]:
            path.write_text(path.read_text() + rest)
        else:
            assert not path.exists(), f"{path} exists: the README says to create it"
            path.write_text(rest)


def insert(text: str, lines: str, anchor: str, *, after: bool) -> str:
    """`lines` put before or after the one line that starts (past its indent) with `anchor`,
    indented as it is: the README shows them unindented, so that they parse (ruff formats them)."""
    old = text.splitlines(keepends=True)
    found = [n for n, line in enumerate(old) if line.lstrip(" ").startswith(anchor)]
    assert len(found) == 1, f"{len(found)} lines start with {anchor!r}: the README means one"
    indent = old[found[0]][: len(old[found[0]]) - len(old[found[0]].lstrip(" "))]
    new = [indent + line if line.strip() else line for line in lines.splitlines(keepends=True)]
    at = found[0] + after
    return "".join(old[:at] + new + old[at:])


def steps(readme: str, heading: str) -> list[Step]:
    """The section's blocks, in order."""
    section = readme.split(heading, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return [Step(m["kind"], m["body"]) for m in BLOCK.finditer(section)]


def package_of(project: Path) -> str:
    """The bake's import name, as the generator was told it."""
    answers = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"]
    return str(answers["package_name"])


def run(command: list[str], project: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run as the user would, in the project, with no test-runner variables leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update(variables)
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.parametrize(
    "database",
    [
        pytest.param(name, marks=pytest.mark.xdist_group(f"first-day-{name}"))
        for name in ("postgresql", "sqlite")
    ],
)
def test_replacing_the_example_with_customers_and_orders(tmp_path: Path, database: str) -> None:
    project = bake(tmp_path, database=database)
    package = package_of(project)
    script = steps((project / "README.md").read_text(), RESOURCE)
    assert [step.kind for step in script].count("sh") >= 3, "remove, migrate, and the checks"
    for step in script:  # the last one runs make openapi, make test and make lint
        step.apply(project)

    assert not (project / "src" / package / "routes" / "items.py").exists()
    paths = json.loads((project / "openapi.json").read_text())["paths"]
    assert "/api/items" not in paths
    assert {"/api/customers", "/api/orders", "/api/customers/{customer_id}/orders"} <= set(paths)
    migrations = list((project / "migrations" / "versions").glob("*customers_and_orders.py"))
    assert len(migrations) == 1, "make migration wrote one revision"
    assert "sa.ForeignKeyConstraint" in migrations[0].read_text()
    readiness = run(
        [
            ".venv/bin/python",
            "-c",
            f"from {package}.app import create_app; from {package}.readiness import run_checks\n"
            "app = create_app({'APP_ENV': 'testing'})\n"
            "with app.app_context():\n    print(run_checks(app))",
        ],
        project,
    )
    assert readiness.stdout.strip() == "{'database': 'ok'}"
    add_a_setting_and_a_middleware(project, package)


@pytest.mark.xdist_group("first-day-none")
def test_a_setting_and_a_middleware_on_the_stateless_bake(tmp_path: Path) -> None:
    project = bake(tmp_path, database="none")
    add_a_setting_and_a_middleware(project, package_of(project))


def add_a_setting_and_a_middleware(project: Path, package: str) -> None:
    """Follow both sections (the last block runs `make lint` and the new tests), then ask the
    app built from the environment, as a process is, whether its answers carry the header."""
    for heading in (SETTING, MIDDLEWARE):
        script = steps((project / "README.md").read_text(), heading)
        assert script, f"{heading}: no blocks"
        for step in script:
            step.apply(project)
    assert script[-1].kind == "sh", "the middleware's section ends with its checks"
    assert (project / "tests" / "test_served.py").exists()
    ask = (
        f"from {package}.app import create_app\n"
        "client = create_app({'APP_ENV': 'testing'}).test_client()\n"
        "print(client.get('/healthz').headers.getlist('X-Served-By'))"
    )
    served = run([".venv/bin/python", "-c", ask], project, SERVED_BY="eu-west-1")
    assert served.stdout.strip() == "['eu-west-1']"
    assert run([".venv/bin/python", "-c", ask], project).stdout.strip() == "[]"
