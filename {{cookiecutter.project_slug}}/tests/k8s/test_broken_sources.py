"""The first three steps bite: lint, render and schemas each reject a broken manifest."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from .chain import ChainError, lint, render, schema_problems, stage
from .objects import Object, find


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A private copy of the manifests to break."""
    return stage(tmp_path)


def test_yamllint_rejects_a_duplicate_key(sources: Path) -> None:
    service = sources / "base" / "service.yaml"
    service.write_text(
        service.read_text().replace("spec:\n", "spec:\n  type: NodePort\n  type: ClusterIP\n", 1)
    )
    assert any("key-duplicates" in problem for problem in lint(sources))


@pytest.mark.server
def test_rendering_fails_on_a_missing_resource(sources: Path) -> None:
    kustomization = sources / "base" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("- service.yaml", "- services.yaml"))
    with pytest.raises(ChainError, match=r"services\.yaml"):
        render(sources, "prod")


@pytest.mark.server
def test_rendering_fails_on_a_patch_for_nothing(sources: Path) -> None:
    prod = sources / "overlays" / "prod"
    (prod / "stateful.yaml").write_text(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  replicas: 2\n"
    )
    kustomization = prod / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "patches:\n  - path: stateful.yaml\n")
    with pytest.raises(ChainError):
        render(sources, "prod")


def broken(objects: list[Object], kind: str) -> Object:
    """A copy of the first object of a kind, to break."""
    return copy.deepcopy(find(objects, kind)[0])


@pytest.mark.server
@pytest.mark.parametrize(
    ("kind", "api_version", "gone"),
    [
        pytest.param("Service", "v1", None, id="control-served-everywhere"),
        pytest.param("Deployment", "extensions/v1beta1", "1.30", id="deployment-v1beta1"),
        pytest.param("Service", "v2", "1.30", id="service-v2-never-was"),
    ],
)
def test_an_api_version_no_supported_kubernetes_serves_fails(
    prod: list[Object], kind: str, api_version: str, gone: str | None
) -> None:
    obj = broken(prod, kind)
    obj["apiVersion"] = api_version
    problems = schema_problems([obj])
    assert bool(problems) == (gone is not None)
    if gone:
        assert f"not served by {gone}" in problems[0]


def test_a_removed_api_version_fails_even_where_it_was_once_served() -> None:
    budget = {
        "apiVersion": "policy/v1beta1",  # removed in 1.25
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }
    assert schema_problems([budget], ("1.30",)) == [
        "PodDisruptionBudget/web: policy/v1beta1 not served by 1.30"
    ]


@pytest.mark.server
def test_strict_schemas_reject_an_unknown_field(prod: list[Object]) -> None:
    deployment = broken(prod, "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    assert any("livenessprobe" in problem for problem in schema_problems([deployment]))


@pytest.mark.server
def test_schemas_reject_a_wrong_type(prod: list[Object]) -> None:
    deployment = broken(prod, "Deployment")
    deployment["spec"]["revisionHistoryLimit"] = "five"
    assert any("revisionHistoryLimit" in problem for problem in schema_problems([deployment]))
