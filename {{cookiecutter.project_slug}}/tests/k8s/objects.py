"""Reading rendered objects: pod templates, containers, selectors, environments, quantities."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

Object = dict[str, Any]
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# What env_of gives a key an ExternalSecret provides: the value exists only in the cluster.
EXTERNAL = "<from ExternalSecret>"
UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}


def name_of(obj: Object) -> str:
    """Kind/name, as kubectl prints it."""
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def find(objects: list[Object], kind: str) -> list[Object]:
    """Every object of a kind."""
    return [obj for obj in objects if obj.get("kind") == kind]


def pod_templates(objects: list[Object]) -> Iterator[tuple[Object, Object]]:
    """(workload, its pod template) for every object that makes pods."""
    for obj in objects:
        if obj.get("kind") in WORKLOADS:
            yield obj, obj["spec"]["template"]


def containers(template: Object, *, init: bool = True) -> list[Object]:
    """A pod template's containers, init containers first when asked for."""
    spec = template["spec"]
    return [*(spec.get("initContainers", []) if init else []), *spec.get("containers", [])]


def serves_http(template: Object) -> bool:
    """Whether a pod template runs the service's server (a container port named http), not the
    migration Job or the pooler."""
    return any(
        port.get("name") == "http"
        for container in containers(template, init=False)
        for port in container.get("ports", [])
    )


def selects(selector: Object | None, template: Object) -> bool:
    """Whether a label selector (matchLabels and matchExpressions, or a Service's plain map)
    selects a pod template."""
    if not selector:
        return False
    labels = template["metadata"].get("labels", {})
    plain = selector if "matchLabels" not in selector and "matchExpressions" not in selector else {}
    matched = all(
        labels.get(key) == value for key, value in selector.get("matchLabels", plain).items()
    )
    rules = selector.get("matchExpressions", [])
    return matched and all(expression(rule, labels) for rule in rules)


def expression(rule: Object, labels: dict[str, str]) -> bool:
    """One matchExpressions requirement (In, NotIn, Exists, DoesNotExist) against pod labels."""
    key, operator, values = str(rule["key"]), str(rule["operator"]), list(rule.get("values", []))
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return bool(labels.get(key) in values) == (operator == "In")


def env_of(objects: list[Object], container: Object) -> dict[str, str]:
    """The environment a container starts with: envFrom ConfigMaps and Secrets, then env."""
    maps = {name_of(obj): obj for obj in objects}
    for external in find(objects, "ExternalSecret"):
        keys = {item["secretKey"]: EXTERNAL for item in external["spec"].get("data", [])}
        maps[f"Secret/{external['spec']['target']['name']}"] = {"stringData": keys}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps.get(f"ConfigMap/{source['configMapRef']['name']}", {}).get("data", {}))
        if "secretRef" in source:
            secret = maps.get(f"Secret/{source['secretRef']['name']}", {})
            for key, value in secret.get("data", {}).items():
                env[key] = base64.b64decode(value).decode()
            env.update(secret.get("stringData", {}))
    env.update(
        {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}
    )
    return env


def quantity(value: str | int | float) -> float:
    """A Kubernetes quantity as a number: '500m' -> 0.5, '512Mi' -> 536870912."""
    text = str(value)
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    for suffix, factor in UNITS.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)
