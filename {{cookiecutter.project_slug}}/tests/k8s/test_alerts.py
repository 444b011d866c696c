"""The alerts and the dashboard: `promtool check rules` and `promtool test rules` on synthetic
series, and every dashboard query parsed by promtool and aimed at series that exist."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .objects import Object, find

pytestmark = pytest.mark.server  # kubectl and promtool: `make test-fast` leaves them out

HERE = Path(__file__).parent
# Series the dashboard may read: the service's (metrics.py, db.py), kube-state-metrics' and the
# kubelet's cAdvisor's, as kube-prometheus-stack scrapes them.
KNOWN = re.compile(
    r"http_requests_total|http_request_duration_seconds_(bucket|count|sum)|"
    r"http_requests_in_progress|db_pool_connections_checked_out|"
    r"kube_deployment_status_replicas_available|kube_pod_container_status_restarts_total|"
    r"container_cpu_usage_seconds_total|container_memory_working_set_bytes"
)
METRIC = re.compile(r"\b([a-z_:][a-z0-9_:]*)\{")
GRAFANA = {"$__rate_interval": "5m", "$namespace": "ns", "$job": "svc", "${datasource}": "p"}


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("REQUIRE_PROMTOOL"):
            pytest.fail("REQUIRE_PROMTOOL=1 but promtool is missing (apt-get install prometheus)")
        pytest.skip("install promtool (apt-get install prometheus) to test the alert rules")
    return found


def run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )


def rules_dir(tmp_path: Path, rule: Object) -> Path:
    """The rule's spec as a Prometheus rules file, beside the unit tests that load it."""
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule["spec"], sort_keys=False))
    shutil.copy(HERE / "alerts.promtool.yaml", tmp_path)
    return tmp_path


def test_the_rules_pass_promtool_check_and_unit_tests(
    promtool: str, prod: list[Object], tmp_path: Path
) -> None:
    (rule,) = find(prod, "PrometheusRule")
    where = rules_dir(tmp_path, rule)
    checked = run(promtool, "check", "rules", "rules.yaml", cwd=where)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(promtool, "test", "rules", "alerts.promtool.yaml", cwd=where)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout + tested.stderr


def test_an_alert_that_never_fires_fails_the_unit_tests(
    promtool: str, prod: list[Object], tmp_path: Path
) -> None:
    (rule,) = find(prod, "PrometheusRule")
    for group in rule["spec"]["groups"]:
        for item in group["rules"]:
            item["expr"] = item["expr"].replace('status=~"5.."', 'status=~"6.."')
    tested = run(promtool, "test", "rules", "alerts.promtool.yaml", cwd=rules_dir(tmp_path, rule))
    assert tested.returncode != 0
    assert "HTTPAvailabilityBudgetBurn" in tested.stdout + tested.stderr


def test_a_rule_promql_rejects_fails_the_check(
    promtool: str, prod: list[Object], tmp_path: Path
) -> None:
    (rule,) = find(prod, "PrometheusRule")
    rule["spec"]["groups"][0]["rules"][0]["expr"] += " by (job"
    checked = run(promtool, "check", "rules", "rules.yaml", cwd=rules_dir(tmp_path, rule))
    assert checked.returncode != 0


def dashboard(objects: list[Object]) -> dict[str, object]:
    (config,) = [c for c in find(objects, "ConfigMap") if "dashboard.json" in c.get("data", {})]
    loaded: dict[str, object] = json.loads(config["data"]["dashboard.json"])
    return loaded


def dashboard_problems(board: dict[str, object], promtool: str, tmp_path: Path) -> list[str]:
    """What Grafana would refuse or show empty: its model's required fields, unique panel ids,
    queries promtool cannot parse or that read series nothing exports."""
    problems = [
        f"no {key}" for key in ("uid", "title", "schemaVersion", "panels") if key not in board
    ]
    if len(str(board.get("uid", ""))) > 40:
        problems.append("uid longer than Grafana's 40 characters")
    panels = board.get("panels", [])
    assert isinstance(panels, list)
    ids = [panel["id"] for panel in panels]
    if len(ids) != len(set(ids)):
        problems.append("panel ids repeat")
    rules = []
    for panel in panels:
        if "gridPos" not in panel or "type" not in panel:
            problems.append(f"panel {panel.get('title')}: no gridPos or type")
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA.items():
                expr = expr.replace(variable, value)
            rules.append({"record": f"panel:{panel['id']}:{target['refId']}", "expr": expr})
            problems += [
                f"panel {panel['title']}: {name} is exported by nothing scraped"
                for name in METRIC.findall(expr)
                if not KNOWN.fullmatch(name)
            ]
    (tmp_path / "panels.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "p", "rules": rules}]})
    )
    checked = run(promtool, "check", "rules", "panels.yaml", cwd=tmp_path)
    if checked.returncode != 0:
        problems.append(f"promtool: {checked.stdout.strip()} {checked.stderr.strip()}")
    return problems


def test_the_dashboard_loads_and_each_query_parses(
    promtool: str, prod: list[Object], tmp_path: Path
) -> None:
    assert dashboard_problems(dashboard(prod), promtool, tmp_path) == []


@pytest.mark.parametrize(
    ("breaking", "message"),
    [
        pytest.param({"expr": "sum(rate(http_requests_total[5m])"}, "promtool", id="bad-promql"),
        pytest.param(
            {"expr": 'rate(python_gc_collections_total{job="x"}[5m])'},
            "exported by nothing",
            id="unknown-series",
        ),
    ],
)
def test_a_broken_dashboard_is_caught(
    promtool: str, prod: list[Object], tmp_path: Path, breaking: dict[str, str], message: str
) -> None:
    board = dashboard(prod)
    panels = board["panels"]
    assert isinstance(panels, list)
    panel = next(p for p in panels if p.get("targets"))
    panel["targets"][0].update(breaking)
    assert any(message in problem for problem in dashboard_problems(board, promtool, tmp_path))
