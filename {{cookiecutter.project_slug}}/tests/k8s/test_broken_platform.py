"""The checks on routes, monitoring, egress, secrets, namespaces and migrations bite: each case
breaks one thing in a copy of the render with every component (prod plus the optional ones)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .breaking import DROP, POD, PRESENT, Row, broken, cases
from .chain import PROJECT, render, schema_problems
from .objects import Object, find
from .platform import immutable, platform

pytestmark = pytest.mark.server  # kubectl renders: `make test-fast` leaves them out

HOSTNAME = {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname"}
PLATFORM: dict[str, Row] = {
    "spread-twice-on-hostname": (
        "Deployment",
        {
            POD + "topologySpreadConstraints 2": None,
        },
        "two spread constraints on kubernetes.io/hostname",
    ),
    "job-named-without-the-tag": (
        "Job",
        {"metadata name": "app-migrate"},
        "not named after its image tag",
    ),
    "job-tag-from-a-registry-port": (
        "Job",
        {
            "metadata name": "app-migrate.5000/app",
            POD + "containers migrate image": "host:5000/app:1.0",
        },
        "invalid Job name",
    ),
    "route-timeout-not-gunicorns": (
        "HTTPRoute",
        {"spec rules 0 timeouts request": "60s"},
        "is not GUNICORN_TIMEOUT",
    ),
    "route-to-no-port": ("HTTPRoute", {"spec rules 0 backendRefs 0 port": 8080}, "no port"),
    "route-on-no-listener": (
        "HTTPRoute",
        {"spec parentRefs 0 sectionName": DROP},
        "name no listener",
    ),
    "ingress-body-above-the-service": (
        "Ingress",
        {"metadata annotations nginx.ingress.kubernetes.io/proxy-body-size": "10m"},
        "proxy-body-size 10m",
    ),
    "ingress-timeout-below-the-service": (
        "Ingress",
        {"metadata annotations nginx.ingress.kubernetes.io/proxy-read-timeout": "5"},
        "proxy-read-timeout 5",
    ),
    "ingress-without-tls": ("Ingress", {"spec tls": DROP}, "no TLS"),
    "monitor-scrapes-no-port": (
        "ServiceMonitor",
        {"spec endpoints 0 port": "http-metrics"},
        "is not the Service's",
    ),
    "monitor-selects-no-service": (
        "ServiceMonitor",
        {"spec selector matchLabels app.kubernetes.io/name": "other"},
        "selects no Service",
    ),
    "operator-labels-disagree": (
        "PrometheusRule",
        {"metadata labels release": "prometheus"},
        "disagree on the release label",
    ),
    "rules-watch-another-namespace": (
        "PrometheusRule",
        {"metadata namespace": "elsewhere"},
        "not 'elsewhere'",
    ),
    "dashboard-without-sidecar-label": (
        "ConfigMap",
        {"metadata labels grafana_dashboard": DROP},
        "sidecar skips it",
    ),
}


@pytest.fixture(scope="module")
def everything(staged: Path) -> list[Object]:
    """prod with every optional component."""
    return render(staged, "everything")


def dashboard_first(objects: list[Object]) -> list[Object]:
    """The render with the dashboard's ConfigMap first, so `broken` breaks that one."""
    return sorted(objects, key=lambda o: "grafana_dashboard" not in str(o))


@pytest.mark.parametrize(("kind", "changes", "message"), cases(PLATFORM))
def test_the_platform_checks_catch(
    everything: list[Object], kind: str, changes: dict[str, Any], message: str
) -> None:
    objects = dashboard_first(everything)
    if POD + "topologySpreadConstraints 2" in changes:  # a second policy for the same key
        objects = copy.deepcopy(objects)
        spread = find(objects, "Deployment")[0]["spec"]["template"]["spec"]
        spread["topologySpreadConstraints"].append(
            {**HOSTNAME, "whenUnsatisfiable": "DoNotSchedule"}
        )
        changes = {}
    problems = platform(broken(objects, kind, changes), production=True)
    assert any(message in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("added", "message"),
    [
        pytest.param(
            {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "app"}},
            "delete -k",
            id="namespace-in-the-render",
        ),
        pytest.param(
            {
                "kind": "Secret",
                "apiVersion": "v1",
                "metadata": {"name": "app"},
                "data": {"SECRET_KEY": "eA=="},
            },
            "renders a secret value",
            id="secret-value-in-prod",
        ),
    ],
)
def test_what_the_render_must_not_hold_is_caught(
    prod: list[Object], added: Object, message: str
) -> None:
    problems = platform([*prod, added], production=True)
    assert any(message in problem for problem in problems), problems


@pytest.mark.parametrize("policy", ["otlp", "identity"])
def test_a_configured_endpoint_without_its_egress_rule_is_caught(
    everything: list[Object], policy: str
) -> None:
    kept = [o for o in everything if not o["metadata"]["name"].endswith(f"-{policy}")]
    assert len(kept) == len(everything) - 1
    assert any("no NetworkPolicy lets the pods out" in p for p in platform(kept, production=True))


@pytest.mark.parametrize(
    ("dropped", "message"),
    [
        (("HTTPRoute",), "nothing routes traffic in"),
        (("ServiceMonitor",), "no ServiceMonitor"),
        (("PrometheusRule",), "no PrometheusRule"),
    ],
    ids=["no-way-in", "no-scrapes", "no-alerts"],
)
def test_a_component_left_out_of_prod_is_caught(
    prod: list[Object], dropped: tuple[str, ...], message: str
) -> None:
    kept = [o for o in prod if o["kind"] not in dropped]
    assert len(kept) < len(prod)
    assert any(message in p for p in platform(kept, production=True))


def test_removing_the_scrape_policy_is_caught(prod: list[Object]) -> None:
    kept = [o for o in prod if not o["metadata"]["name"].endswith("-scrape")]
    assert any("admits scrapes" in p for p in platform(kept, production=True))


def retagged(staged: Path, tag: str, *, replacements: bool = True) -> list[Object]:
    """prod rendered again with another image tag (and, if asked, without the Job's rename)."""
    kustomization = staged / "overlays" / "prod" / "kustomization.yaml"
    original = kustomization.read_text()
    config = yaml.safe_load(original)
    config["images"][0]["newTag"] = tag
    if not replacements:
        config.pop("replacements", None)
    kustomization.write_text(yaml.safe_dump(config))
    try:
        return render(staged, "prod")
    finally:
        kustomization.write_text(original)


def test_a_second_apply_with_a_new_image_is_accepted(staged: Path, prod: list[Object]) -> None:
    again = retagged(staged, "0.2.0")
    assert immutable(prod, again) == []
    if find(prod, "Job"):
        assert find(again, "Job")[0]["metadata"]["name"].endswith("-migrate.0.2.0")


if "migrate-job" in PRESENT:  # SQLite migrates in an init container, no database needs none

    def test_a_fixed_job_name_would_be_rejected_on_the_second_apply(staged: Path) -> None:
        first, second = (retagged(staged, tag, replacements=False) for tag in ("0.1.0", "0.2.0"))
        assert any("spec.template is immutable" in p for p in immutable(first, second))


@pytest.mark.parametrize(
    ("kind", "changes", "message"),
    [
        pytest.param(
            "ServiceMonitor",
            {"spec endpoints 0 scrapeInterval": "30s"},
            "scrapeInterval",
            id="monitor-unknown-field",
        ),
        pytest.param(
            "PrometheusRule", {"spec groups 0 interval": "soon"}, "interval", id="rule-interval-bad"
        ),
        pytest.param(
            "HTTPRoute", {"spec rules 0 backendRefs 0 port": "http"}, "port", id="route-port-a-name"
        ),
        pytest.param(
            "ExternalSecret",
            {"spec target": DROP, "spec secretStore": {"name": "x"}},
            "secretStore",
            id="externalsecret-unknown-field",
        ),
    ],
)
def test_custom_resources_are_validated_strictly(
    prod: list[Object], kind: str, changes: dict[str, Any], message: str
) -> None:
    assert schema_problems(find(prod, kind)) == []
    problems = schema_problems(find(broken(prod, kind, changes), kind))
    assert any(message in problem for problem in problems), problems


def refuse(text: str) -> subprocess.CompletedProcess[str]:
    """scripts/k8s_placeholders.py, as make k8s-render runs it on a non-dev render."""
    return subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / "k8s_placeholders.py"), "/dev/stdin"],
        input=text, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_production_placeholders_are_refused_with_what_to_set(everything: list[Object]) -> None:
    result = refuse(yaml.safe_dump_all(everything))
    assert result.returncode == 1
    assert "set images: newName/newTag" in result.stderr
    assert "set hostnames in deploy/k8s/components/gateway/httproute.yaml" in result.stderr
    assert "set OIDC_ISSUER" in result.stderr
    assert "placeholder(s) left" in result.stderr


def test_a_render_without_placeholders_passes(everything: list[Object]) -> None:
    text = yaml.safe_dump_all(everything)
    for placeholder, real in (
        ("registry.example.com", "registry.acme.io"),
        ("example.com", "acme.io"),
        ("change-me", "s3cr3t"),
    ):
        text = text.replace(placeholder, real)
    result = refuse(text)
    assert (result.returncode, result.stderr) == (0, "")


def test_each_overlay_has_its_namespace_applied_apart() -> None:
    for overlay in (PROJECT / "deploy" / "k8s" / "overlays").iterdir():
        wanted = yaml.safe_load((overlay / "kustomization.yaml").read_text())["namespace"]
        namespace = yaml.safe_load(
            (PROJECT / "deploy" / "k8s" / "namespaces" / f"{overlay.name}.yaml").read_text()
        )
        assert namespace["metadata"]["name"] == wanted
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
