"""The template's workflow, and each bake's workflow and Dependabot file, against the schemas
GitHub publishes (vendored in check-jsonschema, so the check runs offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import DEPENDABOT, TEMPLATE, WORKFLOW, schema_check


def test_the_templates_own_workflow_is_valid() -> None:
    result = schema_check(WORKFLOW, TEMPLATE / ".github" / "workflows" / "ci.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("schema", "text", "complaint"),
    [
        pytest.param(
            WORKFLOW, "on: push\njobs:\n  a:\n    steps: []\n", "runs-on", id="no-runs-on"
        ),
        pytest.param(
            DEPENDABOT,
            "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n",
            "schedule",
            id="no-schedule",
        ),
    ],
)
def test_the_schemas_reject_a_broken_file(
    tmp_path: Path, schema: str, text: str, complaint: str
) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(text)
    result = schema_check(schema, broken)
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr
