"""The template's committed openapi.json files, one per shape of the API, regenerated from fresh
bakes by `make openapi` (each bake's tests/test_openapi.py fails while they are stale)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .helpers import BIN, TEMPLATE, bake

SERVICE = TEMPLATE / "{{cookiecutter.project_slug}}"
# database answer -> the file its bakes start with (sqlite serves the same API as postgresql)
FILES = {
    "postgresql": SERVICE / "openapi.json",
    "none": SERVICE / "_variants" / "database-none" / "openapi.json",
}
# info fields that come from the answers, and the Jinja that puts them back
ANSWERED = {
    "title": "{{ cookiecutter.project_name | tojson }}",
    "description": "{{ cookiecutter.description | tojson }}",
}


def document_of(project: Path) -> str:
    """The bake's document as its `make openapi` writes it."""
    answers = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"]
    package = answers["package_name"]
    code = f"from {package}.contract import main; main()"
    return subprocess.run(
        [str(BIN / "python"), "-c", code],
        cwd=project,
        env={"PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def templated(document: str) -> str:
    """The document with the answered info fields turned back into Jinja."""
    info = json.loads(document)["info"]
    for key, jinja in ANSWERED.items():
        rendered = f'"{key}": {json.dumps(info[key])}'
        assert document.count(rendered) == 1, rendered
        document = document.replace(rendered, f'"{key}": {jinja}')
    return document


def main() -> None:
    """Rewrite the committed files from bakes of the defaults."""
    with tempfile.TemporaryDirectory() as tmp:
        for database, target in FILES.items():
            project = bake(Path(tmp) / database, database=database)
            target.write_text(templated(document_of(project)))
            print(f"wrote {target.relative_to(TEMPLATE)}", file=sys.stderr)


if __name__ == "__main__":
    main()
