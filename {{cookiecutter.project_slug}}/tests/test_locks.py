"""The lock files agree with pyproject.toml: everything declared is pinned, within its range."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PROJECT = Path(__file__).resolve().parents[1]
METADATA = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(line) for line in METADATA["dependencies"]]
DEV = [Requirement(line) for line in METADATA["optional-dependencies"]["dev"]]


def pins(name: str) -> dict[str, Version]:
    """A lock file's `name==version` lines, by canonical name."""
    found: dict[str, Version] = {}
    for line in (PROJECT / name).read_text().splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip().rstrip("\\").strip()
        if "==" in requirement:
            package, version = requirement.split("==", 1)
            found[canonicalize_name(package)] = Version(version.strip())
    return found


@pytest.mark.parametrize(
    ("lock", "declared"),
    [("requirements.lock", RUNTIME), ("requirements-dev.lock", RUNTIME + DEV)],
)
def test_every_declared_dependency_is_pinned_within_its_range(
    lock: str, declared: list[Requirement]
) -> None:
    pinned = pins(lock)
    for requirement in declared:
        if requirement.marker and not requirement.marker.evaluate():
            continue
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in {lock}: run make lock"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {requirement.name}=={version}, outside {requirement}: run make lock"
        )


def test_the_dev_lock_runs_what_production_runs() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


@pytest.mark.parametrize(
    "lock", ["requirements.lock", "requirements-dev.lock", "requirements-uv.lock"]
)
def test_every_pin_carries_its_hashes(lock: str) -> None:
    lines = (PROJECT / lock).read_text().splitlines()
    for number, line in enumerate(lines):
        if "==" in line and not line.startswith("#"):
            following = lines[number + 1] if number + 1 < len(lines) else ""
            assert following.strip().startswith("--hash=sha256:"), f"{lock}: {line} has no hash"
