"""What the pods will do, checked against the service: ports, probes, shutdown, sizing, Jobs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from .objects import (
    Object,
    containers,
    env_of,
    find,
    name_of,
    pod_templates,
    quantity,
    selects,
    serves_http,
)

PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
GRACEFUL_TIMEOUT = 20  # gunicorn.conf.py's default for GUNICORN_GRACEFUL_TIMEOUT
# Resident memory measured in the pod-spec run (README: Kubernetes), with headroom.
MASTER_MEMORY = 96 * 2**20
WORKER_MEMORY = 64 * 2**20


def probes(objects: list[Object], serves: Callable[[str], bool]) -> Iterator[str]:
    """Probes aim at ports the container declares and paths the app routes; PORT agrees."""
    for workload, template in pod_templates(objects):
        for container in containers(template, init=False):
            ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
            where = f"{name_of(workload)} {container['name']}"
            listens = env_of(objects, container).get("PORT")
            if "http" in ports and listens and int(listens) != ports["http"]:
                yield f"{where}: port http is {ports['http']}, the service listens on {listens}"
            yield from metrics_port(template, ports, env_of(objects, container), where)
            for kind in PROBES:
                action = container.get(kind, {}).get("httpGet")
                if action is None:
                    continue
                if action["port"] not in {*ports, *ports.values()}:
                    yield f"{where}: {kind} port {action['port']!r} is not a container port"
                if not serves(action.get("path", "/")):
                    yield f"{where}: {kind} path {action.get('path')!r} is not a route"
            liveness = container.get("livenessProbe", {}).get("httpGet", {})
            if liveness.get("path") == "/readyz":
                yield f"{where}: liveness on /readyz restarts pods whenever the database blips"


def metrics_port(
    template: Object, ports: dict[str, int], env: dict[str, str], where: str
) -> Iterator[str]:
    """The scrape annotation, the container's metrics port and METRICS_PORT name one port."""
    annotations = template.get("metadata", {}).get("annotations", {})
    scraped = annotations.get("prometheus.io/port")
    if "http" not in ports:  # not the server (the migration Job shares its settings)
        return
    if "metrics" not in ports:
        if scraped or env.get("METRICS_PORT", "0") != "0":
            yield f"{where}: metrics are on, but no container port is named metrics"
        return
    if env.get("METRICS_PORT") != str(ports["metrics"]):
        listens = env.get("METRICS_PORT")
        yield f"{where}: port metrics is {ports['metrics']}, METRICS_PORT {listens}"
    if scraped is not None and scraped != str(ports["metrics"]):
        yield f"{where}: prometheus.io/port {scraped} is not the metrics port {ports['metrics']}"


def service_ports(objects: list[Object]) -> Iterator[str]:
    """A Service's targetPort is a port its pods declare, by name or number."""
    for service in find(objects, "Service"):
        for _, template in pod_templates(objects):
            if not selects(service["spec"].get("selector"), template):
                continue
            served = [p for c in containers(template, init=False) for p in c.get("ports", [])]
            known = {p.get("name") for p in served} | {p["containerPort"] for p in served}
            for port in service["spec"]["ports"]:
                if port.get("targetPort", port["port"]) not in known:
                    yield f"{name_of(service)}: targetPort {port.get('targetPort')!r} not served"


def pause(container: Object) -> int:
    """Seconds the preStop hook waits before the kubelet sends SIGTERM."""
    hook = container.get("lifecycle", {}).get("preStop", {})
    if "sleep" in hook:
        return int(hook["sleep"]["seconds"])
    command = hook.get("exec", {}).get("command", [])
    return int(command[1]) if command[:1] == ["sleep"] and len(command) == 2 else 0


def shutdown(objects: list[Object]) -> Iterator[str]:
    """SIGKILL comes after the preStop pause plus gunicorn's whole graceful drain, not before."""
    for deployment in find(objects, "Deployment"):
        template = deployment["spec"]["template"]
        grace = template["spec"].get("terminationGracePeriodSeconds", 30)
        for container in containers(template, init=False):
            drain = int(
                env_of(objects, container).get("GUNICORN_GRACEFUL_TIMEOUT", GRACEFUL_TIMEOUT)
            )
            wait = pause(container)
            if not wait:
                yield f"{name_of(deployment)}: no preStop pause, so requests reach a stopping pod"
            if grace <= wait + drain:
                yield (
                    f"{name_of(deployment)}: terminationGracePeriodSeconds {grace} <= preStop "
                    f"{wait} s + graceful timeout {drain} s"
                )


def sizing(objects: list[Object]) -> Iterator[str]:
    """Requests within limits, and a memory limit that holds the workers the CPU limit starts."""
    for workload, template in pod_templates(objects):
        for container in containers(template):
            resources, where = (
                container.get("resources", {}),
                f"{name_of(workload)} {container['name']}",
            )
            requests, limits = resources.get("requests", {}), resources.get("limits", {})
            for resource, request in requests.items():
                if resource in limits and quantity(request) > quantity(limits[resource]):
                    yield f"{where}: {resource} request above its limit"
            if (
                workload["kind"] != "Deployment"
                or not serves_http(template)  # the pooler: no gunicorn workers to hold
                or container in template["spec"].get("initContainers", [])
            ):
                continue
            env = env_of(objects, container)
            workers = int(
                env.get("WEB_CONCURRENCY") or 2 * math.ceil(quantity(limits.get("cpu", 1)))
            )
            needed = MASTER_MEMORY + workers * WORKER_MEMORY
            if quantity(limits.get("memory", 0)) < needed:
                yield f"{where}: {workers} workers need a memory limit of {needed // 2**20}Mi"


def jobs(objects: list[Object]) -> Iterator[str]:
    """A Job gives up after a few tries and cleans up after itself."""
    for job in find(objects, "Job"):
        spec = job["spec"]
        for field in ("backoffLimit", "ttlSecondsAfterFinished", "activeDeadlineSeconds"):
            if field not in spec:
                yield f"{name_of(job)}: no {field}"
        if spec["template"]["spec"].get("restartPolicy") not in ("Never", "OnFailure"):
            yield f"{name_of(job)}: restartPolicy must be Never or OnFailure"
