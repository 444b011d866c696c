"""The semantic checks bite: each case breaks one thing in a copy of the render."""

from __future__ import annotations

from typing import Any

import pytest

from .breaking import DROP, POD, WEB, Row, broken, cases
from .chain import Serves, semantic_problems
from .objects import Object

pytestmark = pytest.mark.server  # kubectl renders: `make test-fast` leaves them out

SEMANTIC: dict[str, Row] = {
    "service-selects-nothing": (
        "Service",
        {"spec selector app.kubernetes.io/component": "wbe"},
        "selects no pods",
    ),
    "service-selects-the-job": (
        "Service",
        {"spec selector app.kubernetes.io/component": DROP},
        "selects a Job's pods",
        "Job",
    ),
    "pdb-selects-nothing": (
        "PodDisruptionBudget",
        {"spec selector matchLabels app.kubernetes.io/component": "api"},
        "selector selects no pods",
    ),
    "netpol-selects-nothing": (
        "NetworkPolicy",
        {"spec podSelector matchLabels app.kubernetes.io/name": "other"},
        "podSelector selects no pods",
    ),
    "deployment-selector-mismatch": (
        "Deployment",
        {"spec selector matchLabels tier": "front"},
        "does not match its pod",
    ),
    "probe-port-unknown": (
        "Deployment",
        {WEB + "readinessProbe httpGet port": "web"},
        "is not a container port",
    ),
    "probe-path-unknown": (
        "Deployment",
        {WEB + "startupProbe httpGet path": "/health"},
        "is not a route",
    ),
    "liveness-on-readiness": (
        "Deployment",
        {WEB + "livenessProbe httpGet path": "/readyz"},
        "restarts pods",
    ),
    "container-port-not-PORT": (
        "Deployment",
        {WEB + "ports http containerPort": 8080},
        "the service listens on",
    ),
    "metrics-port-not-METRICS_PORT": (
        "Deployment",
        {WEB + "ports metrics containerPort": 9000},
        "port metrics is 9000",
    ),
    "scrape-annotation-elsewhere": (
        "Deployment",
        {"spec template metadata annotations prometheus.io/port": "8000"},
        "is not the metrics port",
    ),
    "service-target-unknown": ("Service", {"spec ports http targetPort": "https"}, "not served"),
    "configmap-missing": (
        "Deployment",
        {WEB + "envFrom 0 configMapRef name": "config"},
        "ConfigMap/config is not",
    ),
    "claim-missing": (
        "Deployment",
        {POD + "volumes data persistentVolumeClaim claimName": "gone"},
        "PersistentVolumeClaim/gone",
        "PersistentVolumeClaim",
    ),
    "hpa-targets-nothing": (
        "HorizontalPodAutoscaler",
        {"spec scaleTargetRef name": "web"},
        "matches no Deployment",
    ),
    "hpa-min-above-max": (
        "HorizontalPodAutoscaler",
        {"spec minReplicas": 11},
        "minReplicas <= maxReplicas",
    ),
    "replicas-under-hpa": (
        "Deployment",
        {"spec replicas": 2},
        "every apply resets",
        "HorizontalPodAutoscaler",
    ),
    "hpa-without-cpu-request": (
        "Deployment",
        {WEB + "resources requests cpu": DROP},
        "requests none",
        "HorizontalPodAutoscaler",
    ),
    "pdb-blocks-drains": ("PodDisruptionBudget", {"spec maxUnavailable": 0}, "blocks every drain"),
    "pdb-keeps-every-pod": (
        "PodDisruptionBudget",
        {"spec maxUnavailable": DROP, "spec minAvailable": 2},
        "leaves no pod",
    ),
    "rollout-lowers-capacity": (
        "Deployment",
        {"spec strategy rollingUpdate maxUnavailable": 1},
        "never lowers capacity",
        "HorizontalPodAutoscaler",
    ),
    "rollout-cannot-move": (
        "Deployment",
        {"spec strategy rollingUpdate maxSurge": 0},
        "can never roll out",
        "HorizontalPodAutoscaler",
    ),
    "recreate-with-rolling": (
        "Deployment",
        {"spec strategy rollingUpdate": {"maxSurge": 1}},
        "may not be set with Recreate",
        "PersistentVolumeClaim",
    ),
    "grace-shorter-than-drain": (
        "Deployment",
        {POD + "terminationGracePeriodSeconds": 20},
        "<= preStop",
    ),
    "no-prestop-pause": ("Deployment", {WEB + "lifecycle": DROP}, "no preStop pause"),
    "memory-below-workers": (
        "Deployment",
        {WEB + "resources limits memory": "128Mi"},
        "workers need a memory limit",
    ),
    "request-above-limit": (
        "Deployment",
        {WEB + "resources requests memory": "1Gi"},
        "request above its limit",
    ),
    "name-not-dns-1123": ("Deployment", {"metadata name": "Web_App"}, "invalid name"),
    "port-name-too-long": (
        "Deployment",
        {WEB + "ports http name": "http-for-the-web"},
        "invalid port name",
    ),
    "label-value-invalid": ("Deployment", {"metadata labels team": "a b"}, "invalid value"),
    "enum-pull-policy": (
        "Deployment",
        {WEB + "imagePullPolicy": "Sometimes"},
        "imagePullPolicy 'Sometimes'",
    ),
    "enum-service-type": ("Service", {"spec type": "Internal"}, "unknown Service type"),
    "connections-over-budget": (
        "HorizontalPodAutoscaler",
        {"spec maxReplicas": 10},
        "set maxReplicas <= 6",
        "Job",
    ),
    "more-workers-over-budget": (
        "Deployment",
        {WEB + "env": [{"name": "WEB_CONCURRENCY", "value": "4"}]},
        "x 24 connections",
        "Job",
    ),
    "budget-unstated": (
        "HorizontalPodAutoscaler",
        {"metadata annotations": DROP},
        "database-connection-budget annotation",
        "Job",
    ),
    "job-never-cleaned": ("Job", {"spec ttlSecondsAfterFinished": DROP}, "no ttlSecondsAfter"),
}


@pytest.mark.parametrize(("kind", "changes", "message"), cases(SEMANTIC))
def test_semantic_checks_catch(
    prod: list[Object], serves: Serves, kind: str, changes: dict[str, Any], message: str
) -> None:
    problems = semantic_problems(broken(prod, kind, changes), serves)
    assert any(message in problem for problem in problems), problems


def test_the_unbroken_render_passes(prod: list[Object], serves: Serves) -> None:
    assert semantic_problems(prod, serves) == []
