"""The production overlay's pod spec run for real: the migration Job's container, then the web
container, each translated to `docker run` next to compose's PostgreSQL, probed as the kubelet
probes, and stopped as the kubelet stops it (preStop, SIGTERM, the grace period)."""

from __future__ import annotations

import base64
import copy
import json
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from benchmarks.servers import free_port

from .docker_support import Stack, require_engine
from .helpers import BIN, bake, run
from .k8s_pod import docker_run_args, find, wait_started_and_ready

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-k8s-pod")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A default bake: image built, compose's db up."""
    require_engine()
    project = bake(tmp_path_factory.mktemp("k8s-pod"))
    stack = Stack(project, f"tplk8s{uuid.uuid4().hex[:8]}", free_port(), free_port())
    try:
        stack.compose("build", "web")
        stack.compose("up", "--detach", "--wait", "db")
        yield stack
    finally:
        stack.tear_down()


@pytest.fixture(scope="module")
def objects(stack: Stack) -> list[dict[str, Any]]:
    """`kubectl kustomize` of the prod overlay, as `kubectl apply -k` would send it, plus the
    Secret its ExternalSecret has the operator make, aimed at compose's database."""
    overlay = stack.project / "deploy/k8s/overlays/prod"
    rendered = run([str(BIN / "kubectl"), "kustomize", str(overlay)], stack.project).stdout
    objects = [doc for doc in yaml.safe_load_all(rendered) if doc]
    env = dict(
        line.split("=", 1) for line in (stack.project / ".env").read_text().split() if "=" in line
    )
    stored = {
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"postgresql://app:{env['POSTGRES_PASSWORD']}@db:5432/app",
    }
    external = find(objects, "ExternalSecret")["spec"]
    data = {item["secretKey"]: stored[item["secretKey"]] for item in external["data"]}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": external["target"]["name"]},
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
    }
    return [*objects, secret]


def docker_run(stack: Stack, objects: list[dict[str, Any]], kind: str, *extra: str) -> list[str]:
    """The `docker run` command for a workload's first container, on compose's network."""
    pod = find(objects, kind)["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"].startswith("registry.example.com/"), "what the overlay ships"
    command = [*container.get("command", []), *container.get("args", [])]
    return [
        "docker", "run", "--network", f"{stack.name}_default", "--label", stack.name,
        *docker_run_args(objects, pod, container), *extra, f"{stack.name}:latest", *command,
    ]  # fmt: skip


def test_the_migration_job_container_migrates_and_exits(
    stack: Stack, objects: list[dict[str, Any]]
) -> None:
    job = find(objects, "Job")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    result = run(docker_run(stack, objects, "Job", "--rm"), stack.project, timeout=300)
    assert "Running upgrade" in result.stderr + result.stdout


def test_the_web_container_becomes_ready_and_stops_within_its_grace_period(
    stack: Stack, objects: list[dict[str, Any]], record_property: Any
) -> None:
    pod = find(objects, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    port = free_port()
    published = f"127.0.0.1:{port}:{container['ports'][0]['containerPort']}"
    name = f"{stack.name}-web"
    run(
        docker_run(stack, objects, "Deployment", "--detach", "--name", name, "-p", published),
        stack.project,
    )
    try:
        ready_s = wait_started_and_ready(f"http://127.0.0.1:{port}", container)
        record_property("k8s_ready_s", round(ready_s, 2))
        stats = run(
            ["docker", "stats", "--no-stream", "--format", "{{json .}}", name], stack.project
        )
        record_property("k8s_pod_mem", json.loads(stats.stdout)["MemUsage"].split("/")[0].strip())
        # The kubelet: preStop in the container, then SIGTERM, then SIGKILL at the grace period.
        started = time.monotonic()
        run(
            ["docker", "exec", name, *container["lifecycle"]["preStop"]["exec"]["command"]],
            stack.project,
        )
        run(["docker", "kill", "--signal", "TERM", name], stack.project)
        left = pod["terminationGracePeriodSeconds"] - (time.monotonic() - started)
        status = run(["docker", "wait", name], stack.project, timeout=left).stdout.strip()
        record_property("k8s_stop_s", round(time.monotonic() - started, 2))
        assert status == "0", "gunicorn exits cleanly on SIGTERM"
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=False)
        records = [
            json.loads(line)
            for line in (logs.stdout + logs.stderr).splitlines()
            if line.startswith("{")
        ]
        assert any("2 workers x 4 threads" in r.get("message", "") for r in records), "1 CPU limit"
        assert [r for r in records if r.get("level") in ("ERROR", "CRITICAL")] == []
        assert "Traceback" not in logs.stdout + logs.stderr
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, check=False)


def test_a_startup_probe_that_never_passes_is_caught(
    stack: Stack, objects: list[dict[str, Any]]
) -> None:
    container = copy.deepcopy(
        find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    )
    container["startupProbe"].update(
        httpGet={"path": "/startz", "port": "http"}, periodSeconds=1, failureThreshold=3
    )
    port, name = free_port(), f"{stack.name}-broken"
    published = f"127.0.0.1:{port}:{container['ports'][0]['containerPort']}"
    run(
        docker_run(stack, objects, "Deployment", "--detach", "--name", name, "-p", published),
        stack.project,
    )
    try:
        with pytest.raises(AssertionError, match="would restart"):
            wait_started_and_ready(f"http://127.0.0.1:{port}", container)
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, check=False)


def test_a_pod_field_the_translation_does_not_know_fails_it(objects: list[dict[str, Any]]) -> None:
    pod = copy.deepcopy(find(objects, "Deployment")["spec"]["template"]["spec"])
    pod["hostAliases"] = [{"ip": "10.0.0.1", "hostnames": ["db"]}]
    with pytest.raises(AssertionError, match="hostAliases"):
        docker_run_args(objects, pod, pod["containers"][0])
