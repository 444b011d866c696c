"""The objects around the pods: traffic in, monitoring, egress, secrets, namespaces, spreading
and migrations, checked against each other and against the service's own settings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

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
from .semantics import SUBDOMAIN

GUNICORN_TIMEOUT, MAX_CONTENT_LENGTH = 30, 1024 * 1024  # settings.py's defaults
MATCHER = re.compile(r'namespace="([^"]*)"')


def web_env(objects: list[Object]) -> dict[str, str]:
    """The web container's environment (the first web Deployment's first container)."""
    for workload, template in pod_templates(objects):
        if workload["kind"] == "Deployment" and serves_http(template):
            return env_of(objects, containers(template, init=False)[0])
    return {}


def lifecycle(objects: list[Object], *, production: bool) -> Iterator[str]:
    """No Namespace in the render (kubectl delete -k would take everything in it), no secret
    value in production's, one spread constraint per topology key."""
    for obj in find(objects, "Namespace"):
        yield f"{name_of(obj)}: kubectl delete -k would delete the namespace and all in it"
    for secret in find(objects, "Secret") if production else ():
        if secret.get("data") or secret.get("stringData"):
            yield f"{name_of(secret)}: production renders a secret value (use External Secrets)"
    for workload, template in pod_templates(objects):
        keys = [c["topologyKey"] for c in template["spec"].get("topologySpreadConstraints", [])]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            yield f"{name_of(workload)}: two spread constraints on {key}: one policy per key"


def migrations(objects: list[Object]) -> Iterator[str]:
    """The migration Job is named after its image's tag, in a name the API server accepts."""
    for job in find(objects, "Job"):
        image = job["spec"]["template"]["spec"]["containers"][0]["image"].split("@")[0]
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else "latest"
        name = job["metadata"]["name"]
        if not name.endswith(f"-migrate.{tag}"):
            yield f"{name_of(job)}: not named after its image tag {tag!r} (the replacements' index)"
        if len(name) > 63 or not SUBDOMAIN.match(name):
            yield f"{name_of(job)}: the tag makes an invalid Job name (<= 63 of [a-z0-9.-])"


def edge(objects: list[Object]) -> Iterator[str]:
    """Routes reach a Service port in the render, over TLS, with the service's own limits."""
    env = web_env(objects)
    timeout = int(env.get("GUNICORN_TIMEOUT", GUNICORN_TIMEOUT))
    body = int(env.get("MAX_CONTENT_LENGTH", MAX_CONTENT_LENGTH))
    ports = {
        s["metadata"]["name"]: {p.get("name") for p in s["spec"]["ports"]}
        | {p["port"] for p in s["spec"]["ports"]}
        for s in find(objects, "Service")
    }
    for route in find(objects, "HTTPRoute"):
        if not all(ref.get("sectionName") for ref in route["spec"].get("parentRefs", [])):
            yield f"{name_of(route)}: parentRefs name no listener (sectionName: the HTTPS one)"
        for rule in route["spec"]["rules"]:
            for ref in rule.get("backendRefs", []):
                if ref.get("port") not in ports.get(ref["name"], set()):
                    yield f"{name_of(route)}: backend {ref['name']}:{ref.get('port')} no port"
            given = rule.get("timeouts", {}).get("request")
            if given is None or seconds(given) != timeout:
                yield f"{name_of(route)}: timeout {given} is not GUNICORN_TIMEOUT {timeout}s"
    for ingress in find(objects, "Ingress"):
        yield from ingress_problems(ingress, ports, timeout, body)


def ingress_problems(
    ingress: Object, ports: dict[str, set[object]], timeout: int, body: int
) -> Iterator[str]:
    """An Ingress: TLS from cert-manager, ingress-nginx's limits equal to the service's."""
    notes = ingress["metadata"].get("annotations", {})
    if not ingress["spec"].get("tls") or "cert-manager.io/cluster-issuer" not in notes:
        yield f"{name_of(ingress)}: no TLS from cert-manager"
    size = notes.get("nginx.ingress.kubernetes.io/proxy-body-size", "1m")
    if quantity(size.replace("m", "Mi").replace("k", "Ki")) != body:
        yield f"{name_of(ingress)}: proxy-body-size {size} is not MAX_CONTENT_LENGTH {body}"
    read = notes.get("nginx.ingress.kubernetes.io/proxy-read-timeout", "60")
    if int(read) != timeout:
        yield f"{name_of(ingress)}: proxy-read-timeout {read} is not GUNICORN_TIMEOUT {timeout}"
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            service = path["backend"]["service"]
            if service["port"].get("name") not in ports.get(service["name"], set()):
                yield f"{name_of(ingress)}: backend {service['name']} has no such port"


def seconds(duration: str) -> float:
    """A Gateway API duration ('30s', '1m', '500ms') in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+)(ms|s|m|h)", duration))


def admits(policy: Object, port: int | str, direction: str) -> bool:
    """Whether a NetworkPolicy rule lets a port through in one direction."""
    return any(
        any(p.get("port") == port for p in rule.get("ports", [])) or not rule.get("ports")
        for rule in policy["spec"].get(direction, [])
    )


def egress(objects: list[Object]) -> Iterator[str]:
    """Every endpoint the configuration names has an egress rule for its port."""
    env, policies = web_env(objects), find(objects, "NetworkPolicy")
    wanted = {}
    for key in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OIDC_ISSUER"):
        if env.get(key):
            url = urlsplit(env[key])
            wanted[key] = url.port or (443 if url.scheme == "https" else 80)
    for key, port in wanted.items():
        if not any(admits(p, port, "egress") for p in policies):
            yield f"{key} is set, but no NetworkPolicy lets the pods out to port {port}"


def monitoring(objects: list[Object]) -> Iterator[str]:
    """The ServiceMonitor scrapes a port the Service has and a policy admits; the operator's
    selector label agrees; the rules select the namespace they are deployed to."""
    services, policies = find(objects, "Service"), find(objects, "NetworkPolicy")
    releases = {
        obj["metadata"].get("labels", {}).get("release")
        for obj in objects
        if obj["kind"] in ("ServiceMonitor", "PrometheusRule")
    }
    if len(releases) > 1 or None in releases:
        yield f"ServiceMonitor and PrometheusRule disagree on the release label: {releases}"
    for monitor in find(objects, "ServiceMonitor"):
        chosen = [s for s in services if selects(monitor["spec"]["selector"], s)]
        if not chosen:
            yield f"{name_of(monitor)}: selects no Service"
        for endpoint in monitor["spec"]["endpoints"]:
            named = {p.get("name") for s in chosen for p in s["spec"]["ports"]}
            if endpoint["port"] not in named:
                yield f"{name_of(monitor)}: port {endpoint['port']} is not the Service's"
            if not any(admits(p, endpoint["port"], "ingress") for p in policies):
                yield f"{name_of(monitor)}: no NetworkPolicy admits scrapes of {endpoint['port']}"
    yield from rules_and_dashboards(objects)


def rules_and_dashboards(objects: list[Object]) -> Iterator[str]:
    """Alerts select the namespace they are deployed to; dashboards carry the sidecar's label."""
    for rule in find(objects, "PrometheusRule"):
        namespace = rule["metadata"].get("namespace")
        for group in rule["spec"]["groups"]:
            for item in group["rules"]:
                for found in set(MATCHER.findall(item["expr"])) - {namespace}:
                    where = item.get("alert") or item.get("record")
                    yield f"{name_of(rule)} {where}: selects namespace {found!r}, not {namespace!r}"
    for config in find(objects, "ConfigMap"):
        dashboard = any(key.endswith(".json") for key in config.get("data", {}))
        if dashboard and config["metadata"].get("labels", {}).get("grafana_dashboard") != "1":
            yield f"{name_of(config)}: no grafana_dashboard label: the sidecar skips it"


def wired(objects: list[Object], *, production: bool) -> Iterator[str]:
    """Production has a way in and is watched: a component left out of the overlay would
    otherwise pass every check above, which only judge what is there."""
    if production and not find(objects, "HTTPRoute") and not find(objects, "Ingress"):
        yield "no HTTPRoute or Ingress: nothing routes traffic in (component gateway or ingress)"
    for kind in ("ServiceMonitor", "PrometheusRule") if production else ():
        if not find(objects, kind):
            yield f"no {kind}: production is not monitored (component monitoring)"


def platform(objects: list[Object], *, production: bool) -> list[str]:
    """Every check of this module."""
    return [
        *wired(objects, production=production),
        *lifecycle(objects, production=production),
        *migrations(objects),
        *edge(objects),
        *egress(objects),
        *monitoring(objects),
    ]


IMMUTABLE = {
    "Job": ("spec.template", "spec.selector"),
    "Deployment": ("spec.selector",),
    "PersistentVolumeClaim": ("spec.accessModes", "spec.storageClassName"),
}


def immutable(before: list[Object], after: list[Object]) -> list[str]:
    """What a second `kubectl apply` of `after` over `before` would have rejected."""
    old = {name_of(obj): obj for obj in before}
    problems = []
    for obj in after:
        previous = old.get(name_of(obj))
        for path in IMMUTABLE.get(obj["kind"], ()) if previous is not None else ():
            if dig(previous, path) != dig(obj, path):
                problems.append(f"{name_of(obj)}: {path} is immutable, and the re-apply changes it")
    return problems


def dig(obj: Object | None, path: str) -> object:
    """The value at a dotted path, or None."""
    node: object = obj
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node
