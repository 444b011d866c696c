"""Each bake's compose file as the docker compose CLI reads it (`config`: no container starts):
what a fresh clone without .env needs, and the shell's settings winning over .env's."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .docker_support import require_engine
from .helpers import bake

pytestmark = pytest.mark.docker

# Nothing of this run's own environment may stand in for what the bake's .env would hold.
OURS = ("SECRET_KEY", "POSTGRES_PASSWORD", "DEBUG_PIN", "API_DOCS", "COMPOSE_PROJECT_NAME")


def compose(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`docker compose <args>` in the bake, with only these of the settings in the shell."""
    shell = {k: v for k, v in os.environ.items() if k not in OURS}
    return subprocess.run(
        ["docker", "compose", *args],
        cwd=project,
        env={**shell, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("database", ["postgresql", "sqlite", "none"])
def test_a_fresh_clone_needs_only_what_production_needs(tmp_path: Path, database: str) -> None:
    require_engine()
    project = bake(tmp_path, database=database)
    (project / ".env").unlink()  # git-ignored: a clone has none
    needed = {"SECRET_KEY": "k" * 40}
    if database == "postgresql":
        needed["POSTGRES_PASSWORD"] = "p" * 20
    for name in needed:
        without = {k: v for k, v in needed.items() if k != name}
        result = compose(project, without, "config", "--quiet")
        assert result.returncode != 0
        assert f"required variable {name} is missing a value" in result.stderr
        assert "DEBUG_PIN" not in result.stderr
    # No DEBUG_PIN: every profile still reads (the dev container checks it when it starts).
    result = compose(project, needed, "--profile", "*", "config", "--quiet")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("database", ["postgresql", "none"])
def test_the_shell_overrides_env_file_settings(tmp_path: Path, database: str) -> None:
    require_engine()
    project = bake(tmp_path, database=database)
    with (project / ".env").open("a") as env_file:
        env_file.write("API_DOCS=0\nLOG_LEVEL=WARNING\n")
    result = compose(project, {"API_DOCS": "1"}, "--profile", "*", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in ("web", "dev"):
        environment = services[name]["environment"]
        assert environment["API_DOCS"] == "1", f"{name}: the shell's value"
        assert environment["LOG_LEVEL"] == "WARNING", f"{name}: .env's where the shell has none"


def test_the_pooler_profile_puts_pgbouncer_between_web_and_db(tmp_path: Path) -> None:
    """The README's `DATABASE_ADDRESS=pooler:6432 docker compose --profile pooler up`: web goes
    through the pooler, which waits for db; migrate still goes to db itself."""
    require_engine()
    project = bake(tmp_path, database="postgresql")
    env = {"DATABASE_ADDRESS": "pooler:6432"}
    result = compose(project, env, "--profile", "pooler", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert "@pooler:6432/" in services["web"]["environment"]["DATABASE_URL"]
    assert services["web"]["depends_on"]["pooler"]["condition"] == "service_healthy"
    assert "@db:5432/" in services["migrate"]["environment"]["DATABASE_URL"]
    assert "@db:5432/" in services["pooler"]["environment"]["DATABASE_URL"]
    assert services["pooler"]["read_only"] is True
    plain = json.loads(compose(project, {}, "config", "--format", "json").stdout)["services"]
    assert "pooler" not in plain  # opt-in
    assert "@db:5432/" in plain["web"]["environment"]["DATABASE_URL"]
