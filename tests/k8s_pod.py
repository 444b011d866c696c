"""A rendered pod spec run the way a kubelet would run it, with `docker run` standing in.

Only what the manifests use is translated; anything else fails loudly, so a manifest change
the translation would silently drop is noticed here.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import requests

Object = dict[str, Any]
# Container and pod fields the translation knows; the scheduling ones mean nothing on one host.
CONTAINER_FIELDS = {
    "name", "image", "imagePullPolicy", "command", "args", "ports", "env", "envFrom",
    "resources", "startupProbe", "livenessProbe", "readinessProbe", "lifecycle",
    "securityContext", "volumeMounts",
}  # fmt: skip
POD_FIELDS = {
    "containers", "volumes", "securityContext", "automountServiceAccountToken",
    "enableServiceLinks", "terminationGracePeriodSeconds", "topologySpreadConstraints",
    "restartPolicy",
}  # fmt: skip


def find(objects: list[Object], kind: str) -> Object:
    """The one object of a kind."""
    (obj,) = (o for o in objects if o["kind"] == kind)
    return obj


def environment(objects: list[Object], container: Object) -> dict[str, str]:
    """envFrom ConfigMaps and Secrets (decoded), then env values."""
    named = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(named["ConfigMap", source["configMapRef"]["name"]]["data"])
        if "secretRef" in source:
            data = named["Secret", source["secretRef"]["name"]]["data"]
            env.update({k: base64.b64decode(v).decode() for k, v in data.items()})
    env.update({item["name"]: item["value"] for item in container.get("env", [])})
    return env


def docker_run_args(objects: list[Object], pod: Object, container: Object) -> list[str]:
    """`docker run` flags for one container of a pod spec (image and command excluded)."""
    unknown = (set(container) - CONTAINER_FIELDS) | (set(pod) - POD_FIELDS)
    assert not unknown, f"the translation does not know {sorted(unknown)}"
    context = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    args = ["--user", f"{context['runAsUser']}:{context['runAsGroup']}"]
    if context.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if context.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges:true"]
    args += [f"--cap-drop={cap}" for cap in context.get("capabilities", {}).get("drop", [])]
    assert context["seccompProfile"]["type"] == "RuntimeDefault"  # Docker's default profile
    limits = container["resources"]["limits"]
    args += ["--cpus", str(quantity(limits["cpu"]))]
    args += ["--memory", limits["memory"].replace("Mi", "m").replace("Gi", "g")]
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        empty = volumes[mount["name"]]["emptyDir"]  # only emptyDirs are translatable
        size = empty.get("sizeLimit", "64Mi").replace("Mi", "m")
        if mount["mountPath"] == "/dev/shm":
            assert empty.get("medium") == "Memory"
            args += ["--shm-size", size]
        else:
            args += ["--tmpfs", f"{mount['mountPath']}:size={size},uid={context['runAsUser']}"]
    for name, value in environment(objects, container).items():
        args += ["--env", f"{name}={value}"]
    return args


def quantity(cpu: str) -> float:
    """CPU as cores: '500m' -> 0.5."""
    return float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)


def probe_ok(base: str, probe: Object) -> bool:
    """One HTTP probe as the kubelet makes it: 200-399 within timeoutSeconds."""
    try:
        response = requests.get(
            base + probe["httpGet"]["path"],
            timeout=probe.get("timeoutSeconds", 1),
            allow_redirects=False,
        )
    except requests.RequestException:
        return False
    return 200 <= response.status_code < 400


def wait_started_and_ready(base: str, container: Object) -> float:
    """Poll the startup probe, then readiness, as the kubelet does; seconds until ready.

    Fails if the startup probe runs out of failures (the kubelet would restart the container).
    """
    started = time.monotonic()
    startup = container["startupProbe"]
    failures = 0
    while not probe_ok(base, startup):
        failures += 1
        assert failures < startup["failureThreshold"], "startup probe failed: would restart"
        time.sleep(startup["periodSeconds"])
    budget = startup["periodSeconds"] * startup["failureThreshold"]
    readiness = container["readinessProbe"]
    while not probe_ok(base, readiness):
        assert time.monotonic() - started < budget, "not ready within the startup budget"
        time.sleep(readiness["periodSeconds"])
    assert probe_ok(base, container["livenessProbe"])
    return time.monotonic() - started
