"""The security policy every pod meets: Pod Security "restricted" plus what a platform team asks."""

from __future__ import annotations

from collections.abc import Iterator

from .objects import Object, containers, name_of, pod_templates

UID = 10001  # the image's `app` user
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def merged(pod: Object, container: Object, key: str) -> object:
    """A security setting as the kubelet resolves it: the container's, else the pod's."""
    own = container.get("securityContext", {})
    return own[key] if key in own else pod.get("securityContext", {}).get(key)


def container_problems(pod: Object, container: Object, *, serves: bool) -> Iterator[str]:
    """One container's probes, resources and security context."""
    context = container.get("securityContext", {})
    if serves:
        yield from (
            f"no {probe}" for probe in ("livenessProbe", "readinessProbe") if probe not in container
        )
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in container.get("resources", {}).get(kind, {}):
                yield f"no {resource} {kind[:-1]}"
    if merged(pod, container, "runAsNonRoot") is not True:
        yield "runAsNonRoot is not true"
    if merged(pod, container, "runAsUser") != UID:
        yield f"runAsUser is not the image's uid {UID}"
    if context.get("readOnlyRootFilesystem") is not True:
        yield "root filesystem is writable"
    if context.get("allowPrivilegeEscalation") is not False:
        yield "allowPrivilegeEscalation is not false"
    if context.get("privileged"):
        yield "privileged"
    if "ALL" not in context.get("capabilities", {}).get("drop", []):
        yield "capabilities are not all dropped"
    if context.get("capabilities", {}).get("add"):
        yield "adds capabilities"
    seccomp = merged(pod, container, "seccompProfile")
    if not isinstance(seccomp, dict) or seccomp.get("type") != "RuntimeDefault":
        yield "seccompProfile is not RuntimeDefault"


def pinned(image: str) -> bool:
    """A digest, or a tag other than latest (a registry's :port is not a tag)."""
    last = image.rsplit("/", 1)[-1]
    return "@sha256:" in image or (":" in last and not last.endswith(":latest"))


def policy_problems(objects: list[Object], *, production: bool) -> list[str]:
    """Every breach of the policy, as `Kind/name container: what`."""
    problems = []
    for workload, template in pod_templates(objects):
        pod, where = template["spec"], name_of(workload)
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: mounts a service account token it never uses")
        problems += [f"{where}: uses {key}" for key in HOST_NAMESPACES if pod.get(key)]
        problems += [
            f"{where}: mounts a hostPath" for v in pod.get("volumes", []) if "hostPath" in v
        ]
        serving = workload["kind"] != "Job"
        for container in containers(template):
            is_init = container in pod.get("initContainers", [])
            for problem in container_problems(pod, container, serves=serving and not is_init):
                problems.append(f"{where} {container['name']}: {problem}")
            if production and not pinned(container["image"]):
                problems.append(f"{where} {container['name']}: image has no fixed tag or digest")
    return problems
