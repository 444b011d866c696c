"""What the API server would reject, or a cluster get wrong, that schemas do not catch."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .objects import Object, containers, find, name_of, pod_templates, selects

LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # DNS-1123 label
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")  # DNS-1035 label
PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$")  # IANA_SVC_NAME, <= 15
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Fields whose values the API server checks against a list the schemas leave open.
ENUMS: dict[tuple[str, ...], set[str]] = {
    ("imagePullPolicy",): {"Always", "IfNotPresent", "Never"},
    ("restartPolicy",): {"Always", "OnFailure", "Never"},
    ("protocol",): {"TCP", "UDP", "SCTP"},
    ("whenUnsatisfiable",): {"DoNotSchedule", "ScheduleAnyway"},
    ("policyTypes",): {"Ingress", "Egress"},
    ("strategy", "type"): {"RollingUpdate", "Recreate"},
    ("seccompProfile", "type"): {"RuntimeDefault", "Localhost", "Unconfined"},
    ("target", "type"): {"Utilization", "AverageValue", "Value"},
    ("accessModes",): {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"},
}
SERVICE_TYPES = {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}


def walk(node: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every (key path, scalar) in a document; list indices are left out of the path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)
    else:
        yield path, node


def names(objects: list[Object]) -> Iterator[str]:
    """Object, container and port names, and label values, in the forms the API accepts."""
    for obj in objects:
        name = obj["metadata"].get("name", "")
        pattern = SERVICE_NAME if obj["kind"] == "Service" else SUBDOMAIN
        if not pattern.match(name) or len(name) > (63 if obj["kind"] == "Service" else 253):
            yield f"{name_of(obj)}: invalid name"
        for key, value in obj["metadata"].get("labels", {}).items():
            if len(str(value)) > 63 or not LABEL_VALUE.match(str(value)):
                yield f"{name_of(obj)}: invalid value for label {key}"
    for workload, template in pod_templates(objects):
        for container in containers(template):
            if not LABEL.match(container["name"]) or len(container["name"]) > 63:
                yield f"{name_of(workload)}: invalid container name {container['name']!r}"
            for port in container.get("ports", []):
                if "name" in port and (len(port["name"]) > 15 or not PORT_NAME.match(port["name"])):
                    yield f"{name_of(workload)}: invalid port name {port['name']!r}"


def enums(objects: list[Object]) -> Iterator[str]:
    """Values from the fixed lists the API server enforces."""
    for obj in objects:
        for path, value in walk(obj):
            for suffix, allowed in ENUMS.items():
                if path[-len(suffix) :] == suffix and value not in allowed:
                    yield f"{name_of(obj)}: {'.'.join(path)} {value!r} not one of {allowed}"
        if obj["kind"] == "Service" and obj["spec"].get("type", "ClusterIP") not in SERVICE_TYPES:
            yield f"{name_of(obj)}: unknown Service type {obj['spec']['type']!r}"


def selectors(objects: list[Object]) -> Iterator[str]:
    """Each selector selects the pods it is meant for, and a Service only long-running ones."""
    templates = list(pod_templates(objects))
    for workload, template in templates:
        if workload["kind"] != "Job" and not selects(workload["spec"].get("selector"), template):
            yield f"{name_of(workload)}: selector does not match its pod template's labels"
    for obj in find(objects, "Service"):
        chosen = [w for w, t in templates if selects(obj["spec"].get("selector"), t)]
        if not chosen:
            yield f"{name_of(obj)}: selects no pods"
        if any(w["kind"] == "Job" for w in chosen):
            yield f"{name_of(obj)}: selects a Job's pods, which never serve"
    for kind, field in (("PodDisruptionBudget", "selector"), ("NetworkPolicy", "podSelector")):
        for obj in find(objects, kind):
            if not any(selects(obj["spec"].get(field), t) for _, t in templates):
                yield f"{name_of(obj)}: {field} selects no pods"


def references(objects: list[Object]) -> Iterator[str]:
    """ConfigMaps, Secrets (or the ExternalSecrets that make them) and claims a pod names exist in
    the render (hashed names included)."""
    present = {name_of(obj) for obj in objects} | {
        f"Secret/{obj['spec']['target']['name']}" for obj in find(objects, "ExternalSecret")
    }
    for workload, template in pod_templates(objects):
        wanted = []
        for container in containers(template):
            for source in container.get("envFrom", []):
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    if key in source and not source[key].get("optional"):
                        wanted.append(f"{kind}/{source[key]['name']}")
            for item in container.get("env", []):  # single keys: valueFrom
                source = item.get("valueFrom", {})
                for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    if key in source:  # optional or not: an unhashed name is a typo's sign
                        wanted.append(f"{kind}/{source[key]['name']}")
        for volume in template["spec"].get("volumes", []):
            for key, kind, field in (
                ("configMap", "ConfigMap", "name"),
                ("secret", "Secret", "secretName"),
                ("persistentVolumeClaim", "PersistentVolumeClaim", "claimName"),
            ):
                if key in volume:
                    wanted.append(f"{kind}/{volume[key][field]}")
        yield from (
            f"{name_of(workload)}: {ref} is not in the render"
            for ref in wanted
            if ref not in present
        )
