"""The edits every owner makes, made as the generated README says: its "Adding a resource"
section is followed block by block on a fresh bake (remove the example's routes and tests, add
customers and their orders: models, `make migration`, shapes, routes, tests, `make openapi`),
and its own `make test` and `make lint` must pass. The section is the script, so the docs cannot
drift from the code."""

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

SECTION = "### Adding a resource"
BLOCK = re.compile(r"^```(?P<kind>sh|python)\n(?P<body>.*?)^```$", re.S | re.M)
TARGET = re.compile(r"# (?P<path>\S+)(?P<append> \(add to the end\))?$")


@dataclass
class Step:
    """One block of the section: a shell script, or a file to create or extend."""

    kind: str
    body: str

    def apply(self, project: Path) -> None:
        if self.kind == "sh":
            run(["bash", "-euo", "pipefail", "-c", self.body], project)
            return
        first, _, rest = self.body.partition("\n")
        target = TARGET.fullmatch(first)
        assert target, f"a python block must name its file on its first line: {first!r}"
        path = project / target["path"]
        if target["append"]:
            path.write_text(path.read_text() + rest)
        else:
            assert not path.exists(), f"{path} exists: the README says to create it"
            path.write_text(rest)


def steps(readme: str) -> list[Step]:
    """The section's blocks, in order."""
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return [Step(m["kind"], m["body"]) for m in BLOCK.finditer(section)]


def run(command: list[str], project: Path) -> subprocess.CompletedProcess[str]:
    """Run as the user would, in the project, with no test-runner variables leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
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
    package = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"][
        "package_name"
    ]
    script = steps((project / "README.md").read_text())
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
