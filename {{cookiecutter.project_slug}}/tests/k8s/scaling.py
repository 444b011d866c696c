"""Autoscaling, disruption budgets and rollouts: the combinations that stall or fail."""

from __future__ import annotations

import math
from collections.abc import Iterator

from .objects import Object, containers, env_of, find, name_of, quantity, selects

BUDGET = "database-connection-budget"  # the HPA's annotation: connections the database allows
OVERFLOW = 2  # engine.py's max_overflow per worker


def autoscaler_of(objects: list[Object], deployment: Object) -> Object | None:
    """The HorizontalPodAutoscaler that targets a Deployment, if any."""
    for hpa in find(objects, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        if target.get("kind") == "Deployment" and target["name"] == deployment["metadata"]["name"]:
            return hpa
    return None


def min_replicas(objects: list[Object], deployment: Object) -> int:
    """The fewest pods a Deployment runs: its autoscaler's floor, else its replicas."""
    hpa = autoscaler_of(objects, deployment)
    if hpa is not None:
        return int(hpa["spec"].get("minReplicas", 1))
    return int(deployment["spec"].get("replicas", 1))


def autoscalers(objects: list[Object]) -> Iterator[str]:
    """An HPA targets a Deployment in the render, within sane bounds, on requested CPU."""
    deployments = {d["metadata"]["name"]: d for d in find(objects, "Deployment")}
    for hpa in find(objects, "HorizontalPodAutoscaler"):
        spec, target = hpa["spec"], hpa["spec"]["scaleTargetRef"]
        deployment = deployments.get(target["name"])
        if (
            target.get("kind") != "Deployment"
            or target.get("apiVersion") != "apps/v1"
            or not deployment
        ):
            yield f"{name_of(hpa)}: scaleTargetRef matches no Deployment in the render"
            continue
        if not 1 <= spec.get("minReplicas", 1) <= spec["maxReplicas"]:
            yield f"{name_of(hpa)}: needs 1 <= minReplicas <= maxReplicas"
        if "replicas" in deployment["spec"]:
            yield f"{name_of(deployment)}: sets replicas, which every apply resets under the HPA"
        resources = [
            m["resource"]["name"] for m in spec.get("metrics", []) if m["type"] == "Resource"
        ]
        for container in containers(deployment["spec"]["template"], init=False):
            for resource in resources:
                if resource not in container.get("resources", {}).get("requests", {}):
                    yield f"{name_of(hpa)}: scales on {resource}, {container['name']} requests none"


def budgets(objects: list[Object]) -> Iterator[str]:
    """A PodDisruptionBudget lets at least one pod go, or drains and upgrades stall."""
    for pdb in find(objects, "PodDisruptionBudget"):
        spec = pdb["spec"]
        for deployment in find(objects, "Deployment"):
            if not selects(spec["selector"], deployment["spec"]["template"]):
                continue
            floor = min_replicas(objects, deployment)
            least = spec.get("minAvailable")
            if isinstance(least, int) and least >= floor:
                yield f"{name_of(pdb)}: minAvailable {least} leaves no pod of {floor} free"
            if spec.get("maxUnavailable") in (0, "0%"):
                yield f"{name_of(pdb)}: maxUnavailable 0 blocks every drain"


def rollouts(objects: list[Object]) -> Iterator[str]:
    """Strategies the API server accepts, and that keep serving during a rollout."""
    for deployment in find(objects, "Deployment"):
        strategy = deployment["spec"].get("strategy", {})
        rolling = strategy.get("rollingUpdate")
        if strategy.get("type") == "Recreate":
            if rolling is not None:
                yield f"{name_of(deployment)}: rollingUpdate may not be set with Recreate"
            continue
        rolling = rolling or {}
        if rolling.get("maxUnavailable", "25%") not in (0, "0%"):
            yield f"{name_of(deployment)}: maxUnavailable must be 0: never lowers capacity"
        if rolling.get("maxSurge", "25%") in (0, "0%"):
            yield f"{name_of(deployment)}: maxSurge 0 with maxUnavailable 0 can never roll out"


def per_pod(objects: list[Object], deployment: Object) -> int:
    """Connections one pod may open: workers x (DATABASE_POOL_SIZE + overflow)."""
    container = containers(deployment["spec"]["template"], init=False)[0]
    env = env_of(objects, container)
    cpu = container.get("resources", {}).get("limits", {}).get("cpu", 1)
    workers = int(env.get("WEB_CONCURRENCY") or 2 * math.ceil(quantity(cpu)))
    pool = int(env.get("DATABASE_POOL_SIZE") or 0) or int(env.get("GUNICORN_THREADS") or 4)
    return workers * (pool + OVERFLOW)


def connections(objects: list[Object]) -> Iterator[str]:
    """With a migration Job (a PostgreSQL bake), the HPA states the database's connection budget
    and its maxReplicas, plus a rollout's surge, times a pod's connections, plus the Job's one
    connection, stays within it."""
    if not find(objects, "Job"):
        return
    for deployment in find(objects, "Deployment"):
        hpa = autoscaler_of(objects, deployment)
        if hpa is None:
            continue
        stated = hpa["metadata"].get("annotations", {}).get(BUDGET)
        if stated is None:
            yield f"{name_of(hpa)}: no {BUDGET} annotation: the database's limit is unstated"
            continue
        surge, jobs = surge_of(deployment), len(find(objects, "Job"))
        pod = per_pod(objects, deployment)
        if pooled(deployment):
            yield from pooler_connections(objects, hpa, (pod, surge), int(stated))
            continue
        most = (int(stated) - jobs) // pod - surge
        peak = (hpa["spec"]["maxReplicas"] + surge) * pod + jobs
        if peak > int(stated):
            yield (
                f"{name_of(hpa)}: (maxReplicas {hpa['spec']['maxReplicas']} + surge {surge}) x "
                f"{pod} connections + {jobs} (Job) = {peak} > {BUDGET} {stated}; "
                f"set maxReplicas <= {most}, fewer connections per pod, or a larger budget"
            )


def surge_of(deployment: Object) -> int:
    """Pods a rollout adds beside the running ones (a percentage counts as one)."""
    surge = deployment["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1)
    return surge if isinstance(surge, int) else 1


def pooled(deployment: Object) -> bool:
    """Whether the web pods' DATABASE_URL is set apart from their envFrom (components/pooler)."""
    container = containers(deployment["spec"]["template"], init=False)[0]
    return any(
        item["name"] == "DATABASE_URL" and "valueFrom" in item for item in container.get("env", [])
    )


def pooler_connections(
    objects: list[Object], hpa: Object, web_pod: tuple[int, int], budget: int
) -> Iterator[str]:
    """Through PgBouncer the database sees the poolers' server connections (a rollout's surge
    included) plus the Job's; the web pods' connections (pod, surge) are the poolers' clients."""
    poolers = [
        d
        for d in find(objects, "Deployment")
        if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
        == "pooler"
    ]
    if not poolers:
        yield f"{name_of(hpa)}: the web pods' DATABASE_URL is a pooler's, and there is none"
        return
    servers = clients = 0
    for pooler in poolers:
        env = env_of(objects, containers(pooler["spec"]["template"], init=False)[0])
        replicas = int(pooler["spec"].get("replicas", 1))
        servers += (replicas + surge_of(pooler)) * int(env.get("POOLER_POOL_SIZE", 20))
        clients += replicas * int(env.get("POOLER_MAX_CLIENTS", 1000))
    servers += len(find(objects, "Job"))
    if servers > budget:
        yield f"{name_of(hpa)}: the poolers open up to {servers} connections > {BUDGET} {budget}"
    pod, surge = web_pod
    web = (hpa["spec"]["maxReplicas"] + surge) * pod
    if web > clients:
        yield f"{name_of(hpa)}: {web} web connections > the poolers' {clients} max clients"
