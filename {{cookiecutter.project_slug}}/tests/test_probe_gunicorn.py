"""Health probes against real gunicorn: the container's probe (probe.py) and the kubelet's pass
without an access line each, unless LOG_PROBES asks for them; a failing probe is always logged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from {{ cookiecutter.package_name }}.context import PROBE_USER_AGENT

from .servers import PACKAGE_DIR, SECRET, copy_project, free_port, serve

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

KUBELET = {"User-Agent": "kube-probe/1.33"}


def access_lines(stdout: str) -> list[dict[str, object]]:
    """The JSON access lines gunicorn wrote."""
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "gunicorn.access"]


@pytest.mark.parametrize("log_probes", ["", "1"])
def test_passing_probes_stay_out_of_the_access_log(tmp_path: Path, log_probes: str) -> None:
    copy_project(tmp_path)
    port = free_port()
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET, "WEB_CONCURRENCY": "1"}
    env["LOG_PROBES"] = log_probes
    with serve(tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env, port) as server:
        probe_env = {**os.environ, **env, "PORT": str(port), "PYTHONPATH": str(tmp_path / "src")}
        probe_env["DATABASE_URL"] = "sqlite://"  # the container's environment has one
        for _ in range(3):  # as the image's HEALTHCHECK runs it
            probe = [sys.executable, "-m", f"{PACKAGE_DIR.name}.probe"]
            subprocess.run(probe, env=probe_env, check=True, timeout=30)
        assert requests.get(f"{server.url}/healthz", headers=KUBELET, timeout=5).ok
        # (/readyz would be 503 here: this database is not migrated, and a failing probe is logged)
        assert requests.get(f"{server.url}/healthz", headers=KUBELET, timeout=5).ok
        assert requests.get(f"{server.url}/nowhere", headers=KUBELET, timeout=5).status_code == 404
        assert requests.get(f"{server.url}/healthz", timeout=5).ok  # a person's request
    lines = access_lines(server.logs()[0])
    seen = [(line["user_agent"], line["path"], line["status"]) for line in lines]
    probes = [entry for entry in seen if entry[0] == PROBE_USER_AGENT]
    kubelet = [entry for entry in seen if str(entry[0]).startswith("kube-probe/")]
    assert ("kube-probe/1.33", "/nowhere", 404) in kubelet  # a failing probe is always logged
    assert any(str(agent).startswith("python-requests/") for agent, _, _ in seen)
    if log_probes:
        assert probes == [(PROBE_USER_AGENT, "/healthz", 200)] * 3
        assert len(kubelet) == 3
    else:
        assert probes == []
        assert kubelet == [("kube-probe/1.33", "/nowhere", 404)]
