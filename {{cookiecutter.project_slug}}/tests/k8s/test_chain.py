"""Every overlay passes the whole offline chain: lint, render, schemas, semantics, policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import Settings

from .chain import K8S, NEWEST, OLDEST, VERSIONS, Serves, lint, schema_problems, semantic_problems
from .objects import EXTERNAL, Object, containers, env_of, find, pod_templates, serves_http
from .platform import platform
from .policy import policy_problems
from .scaling import min_replicas

# What the secret store holds, standing in for the keys an ExternalSecret provides.
STORED = {"SECRET_KEY": "s" * 64, "DATABASE_URL": "postgresql://app:pw@db.internal:5432/app"}


def test_sources_pass_yamllint() -> None:
    assert lint(K8S) == []


def test_every_version_from_the_oldest_to_the_newest_is_checked() -> None:
    assert VERSIONS[0] == f"1.{OLDEST}"
    assert VERSIONS[-1] == f"1.{NEWEST}"
    assert len(VERSIONS) == NEWEST - OLDEST + 1


@pytest.mark.server
def test_every_object_passes_strict_schemas(objects: list[Object]) -> None:
    assert objects
    assert schema_problems(objects) == []


@pytest.mark.server
def test_nothing_the_api_server_or_the_service_would_trip_over(
    objects: list[Object], serves: Serves
) -> None:
    assert semantic_problems(objects, serves) == []


@pytest.mark.server
def test_every_pod_meets_the_security_policy(objects: list[Object], overlay: str) -> None:
    assert policy_problems(objects, production=overlay != "dev") == []


@pytest.mark.server
def test_routes_monitoring_egress_secrets_and_migrations_agree(
    objects: list[Object], overlay: str
) -> None:
    assert platform(objects, production=overlay != "dev") == []


@pytest.mark.server
def test_production_keeps_two_pods_unless_one_owns_the_volume(
    objects: list[Object], overlay: str
) -> None:
    (deployment,) = [d for d in find(objects, "Deployment") if serves_http(d["spec"]["template"])]
    volumes = deployment["spec"]["template"]["spec"].get("volumes", [])
    single_writer = any("persistentVolumeClaim" in volume for volume in volumes)
    if single_writer:
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"]["type"] == "Recreate"
    elif overlay != "dev":
        assert min_replicas(objects, deployment) >= 2


@pytest.mark.server
def test_config_and_secrets_are_hashed_so_a_change_rolls_the_pods(objects: list[Object]) -> None:
    mounted = [c for c in find(objects, "ConfigMap") if "grafana_dashboard" not in str(c)]
    for obj in [*mounted, *find(objects, "Secret")]:
        assert re.search(r"-[a-z0-9]{10}$", obj["metadata"]["name"]), obj["metadata"]["name"]
    assert len(mounted) == 1


@pytest.mark.server
def test_each_pod_environment_passes_the_services_own_validation(objects: list[Object]) -> None:
    for _, template in pod_templates(objects):
        if template["metadata"]["labels"].get("app.kubernetes.io/component") == "pooler":
            continue  # PgBouncer's: not the service's settings
        for container in containers(template):
            env = env_of(objects, container)
            settings = Settings.from_env(
                {key: STORED[key] if value == EXTERNAL else value for key, value in env.items()}
            )
            settings.require_secret_key()
            assert settings.APP_ENV == "production"


def test_no_real_secret_is_committed() -> None:
    example = (K8S / "secret.env.example").read_text()
    assert "SECRET_KEY=change-me" in example
    ignored = (Path(K8S).parents[1] / ".gitignore").read_text().split()
    assert "secret.env" in ignored
