"""The hooks imported as modules: every validation rule, and each finishing step, in-process."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from .helpers import TEMPLATE


def load_hook(name: str) -> ModuleType:
    """Import hooks/<name>.py as it stands in the template (its Jinja sits inside a string)."""
    spec = importlib.util.spec_from_file_location(name, TEMPLATE / "hooks" / f"{name}.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre = load_hook("pre_gen_project")
post = load_hook("post_gen_project")
DEFAULTS = {
    "project_name": "Flask Service",
    "project_slug": "flask-service",
    "package_name": "flask_service",
    "description": "A service.",
    "author_name": "Ada",
    "author_email": "ada@example.com",
    "python_version": "3.13",
    "http_port": "8000",
    "license": "MIT",
    "ci": "github-actions",
    "database": "postgresql",
}


def test_defaults_are_valid() -> None:
    assert pre.validate(DEFAULTS) == []
    assert pre.main(DEFAULTS) == 0


def test_choices_match_cookiecutter_json() -> None:
    spec = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    for field, allowed in pre.CHOICES.items():
        assert tuple(spec[field]) == allowed
    assert len([k for k in spec if not k.startswith("_")]) <= 12


def test_the_port_prompt_states_the_accepted_range() -> None:
    prompt = json.loads((TEMPLATE / "cookiecutter.json").read_text())["__prompts__"]["http_port"]
    found = re.search(r"\((\d+)-(\d+)\b", prompt)
    assert found, prompt
    low, high = map(int, found.groups())
    assert pre.check_port(str(low)) is None
    assert pre.check_port(str(high)) is None
    assert pre.check_port(str(low - 1))
    assert pre.check_port(str(high + 1))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("project_slug", "Flask-Service", "lowercase letters"),
        ("project_slug", "flask--service", "single dashes"),
        ("project_slug", "-lives", "single dashes"),
        ("project_slug", "a" * 65, "at most 64"),
        ("package_name", "flask-service", "Python identifier"),
        ("package_name", "3d_printer", "starting with a letter"),
        ("package_name", "Orders", "lowercase Python identifier"),
        ("package_name", "class", "not a Python keyword"),
        ("package_name", "match", "not a Python keyword"),
        ("package_name", "json", "does not shadow"),
        ("package_name", "test", "does not shadow"),
        ("package_name", "flask", "does not shadow"),
        ("package_name", "gunicorn", "does not shadow"),
        ("package_name", "a" * 41, "at most 40"),
        ("author_email", "ada", "name@example.com"),
        ("author_email", "ada@example", "name@example.com"),
        ("author_email", "a da@example.com", "name@example.com"),
        ("http_port", "80", "1024 to 65534"),
        ("http_port", "65535", "1024 to 65534"),
        ("http_port", "eighty", "1024 to 65534"),
        ("http_port", "-8000", "1024 to 65534"),
        ("python_version", "2.7", "one of 3.13, 3.14, 3.12, 3.11"),
        ("license", "GPL", "one of MIT"),
        ("ci", "travis", "one of github-actions, none"),
        ("project_name", "   ", "non-empty"),
        ("description", "two\nlines", "single line"),
        ("author_name", 'tri"""ple', "triple quotes"),
    ],
)
def test_each_bad_answer_is_named_with_what_is_accepted(
    field: str, value: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = {**DEFAULTS, field: value}
    assert pre.main(answers) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, "one line"
    assert err.startswith(f"error: {field}={value!r} is invalid: expected")
    assert expected in err


def test_prune_table_removes_only_unchosen_features(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    assert post.prune(tmp_path, {"ci": "github-actions"}) == []
    assert (tmp_path / ".github").exists()
    assert post.prune(tmp_path, {"ci": "none"}) == [tmp_path / ".github"]
    assert not (tmp_path / ".github").exists()


@pytest.mark.parametrize("license_id", ["MIT", "Apache-2.0", "BSD-3-Clause", "none"])
def test_place_license(tmp_path: Path, license_id: str) -> None:
    (tmp_path / "licenses").mkdir()
    for name in ("MIT", "Apache-2.0", "BSD-3-Clause"):
        (tmp_path / "licenses" / name).write_text(name)
    post.place_license(tmp_path, {"license": license_id})
    assert not (tmp_path / "licenses").exists()
    if license_id == "none":
        assert not (tmp_path / "LICENSE").exists()
    else:
        assert (tmp_path / "LICENSE").read_text() == license_id


def test_record_answers_is_a_replay_file(tmp_path: Path) -> None:
    answers = {**DEFAULTS, "_template": "gh:owner/repo", "_output_dir": "/x", "__prompts__": {}}
    recorded = json.loads(post.record_answers(tmp_path, answers).read_text())
    assert recorded == {"cookiecutter": {**DEFAULTS, "_template": "gh:owner/repo"}}


def test_write_env_fills_fresh_secrets_once(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text(
        "# note\nSECRET_KEY=change-me\nDEBUG_PIN=change-me\nPORT=1\n"
    )
    env = post.write_env(tmp_path, ".env", ".env.example")
    assert env is not None
    values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    assert len(values["SECRET_KEY"]) == 64
    assert values["DEBUG_PIN"] != "change-me"
    assert values["PORT"] == "1"
    assert env.stat().st_mode & 0o777 == 0o600
    assert post.write_env(tmp_path, ".env", ".env.example") is None, "never overwritten"


def test_only_the_dev_overlay_gets_a_secret_file(tmp_path: Path) -> None:
    example = tmp_path / "deploy/k8s/secret.env.example"
    example.parent.mkdir(parents=True)
    example.write_text("SECRET_KEY=change-me\n")
    for overlay in ("dev", "prod"):
        (example.parent / "overlays" / overlay).mkdir(parents=True)
    for target, source in post.SECRET_FILES:
        post.write_env(tmp_path, target, source)
    written = sorted(p.parent.name for p in tmp_path.glob("deploy/k8s/overlays/*/secret.env"))
    assert written == ["dev"], "prod's Secret comes from External Secrets, never from a file"


def test_next_steps_name_the_project() -> None:
    text = post.next_steps(DEFAULTS)
    assert "cd flask-service" in text
    assert "make test" in text
    assert "docker compose up" in text
