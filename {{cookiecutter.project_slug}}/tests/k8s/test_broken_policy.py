"""The security policy bites: each case breaks one thing in a copy of the render."""

from __future__ import annotations

from typing import Any

import pytest

from .breaking import DROP, POD, WEB, Row, broken, cases
from .objects import Object
from .policy import policy_problems

pytestmark = pytest.mark.server  # kubectl renders: `make test-fast` leaves them out

POLICY: dict[str, Row] = {
    "no-liveness": ("Deployment", {WEB + "livenessProbe": DROP}, "no livenessProbe"),
    "no-readiness": ("Deployment", {WEB + "readinessProbe": DROP}, "no readinessProbe"),
    "no-memory-limit": ("Deployment", {WEB + "resources limits memory": DROP}, "no memory"),
    "runs-as-root": ("Deployment", {WEB + "securityContext runAsUser": 0}, "runAsUser"),
    "may-run-as-root": ("Deployment", {WEB + "securityContext runAsNonRoot": False}, "NonRoot"),
    "writable-root": (
        "Deployment",
        {WEB + "securityContext readOnlyRootFilesystem": DROP},
        "writable",
    ),
    "privilege-escalation": (
        "Deployment",
        {WEB + "securityContext allowPrivilegeEscalation": True},
        "Escalation",
    ),
    "privileged": ("Deployment", {WEB + "securityContext privileged": True}, "privileged"),
    "capabilities-kept": (
        "Deployment",
        {WEB + "securityContext capabilities drop": ["NET_RAW"]},
        "not all dropped",
    ),
    "capability-added": (
        "Deployment",
        {WEB + "securityContext capabilities add": ["NET_ADMIN"]},
        "adds capab",
    ),
    "seccomp-unconfined": (
        "Deployment",
        {WEB + "securityContext seccompProfile type": "Unconfined"},
        "seccomp",
    ),
    "token-mounted": (
        "Deployment",
        {POD + "automountServiceAccountToken": DROP},
        "service account token",
    ),
    "host-network": ("Deployment", {POD + "hostNetwork": True}, "uses hostNetwork"),
    "host-path": ("Deployment", {POD + "volumes tmp hostPath": {"path": "/"}}, "hostPath"),
    "latest-tag": ("Deployment", {WEB + "image": "registry.example.com/app:latest"}, "fixed tag"),
    "job-runs-as-root": (
        "Job",
        {POD + "containers migrate securityContext runAsUser": 0},
        "runAsUser",
    ),
    "init-without-limits": (
        "Deployment",
        {POD + "initContainers migrate resources limits": DROP},
        "no cpu limit",
        "PersistentVolumeClaim",
    ),
}


@pytest.mark.parametrize(("kind", "changes", "message"), cases(POLICY))
def test_the_policy_catches(
    prod: list[Object], kind: str, changes: dict[str, Any], message: str
) -> None:
    problems = policy_problems(broken(prod, kind, changes), production=True)
    assert any(message in problem for problem in problems), problems


def test_the_unbroken_render_passes(prod: list[Object]) -> None:
    assert policy_problems(prod, production=True) == []
