"""The baked service on a real Docker engine: build, run read-only and healthy, stop gracefully,
the dev profile's reloader and debugger, and no debugger in production whatever the variables."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from benchmarks.servers import free_port

from .docker_support import BASE_IMAGE, Poller, Stack, image_size, require_engine, wait_for_http
from .helpers import bake, run

pytestmark = pytest.mark.docker

# The defaults, and the one answer that changes what the image does (the port it serves on).
# python_version only changes the default base image, which PYTHON_IMAGE overrides here.
IMAGE_COMBOS = {"defaults": {}, "port-9000": {"http_port": "9000"}}

EXTRA_ROUTES = {
    "slow": "import time\n\nfrom flask import Blueprint\n\nbp = Blueprint('slow', __name__)\n\n\n"
    "@bp.get('/slow')\ndef slow():\n    time.sleep(3)\n    return {'slow': 'done'}\n",
    "boom": "from flask import Blueprint\n\nbp = Blueprint('boom', __name__)\n\n\n"
    "@bp.get('/boom')\ndef boom():\n    return 1 / 0\n",
    "probe": "from flask import Blueprint\n\nbp = Blueprint('probe', __name__)\n\n\n"
    "@bp.get('/probe')\ndef probe():\n    return 'probe-v1'\n",
}


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(a, id=n, marks=pytest.mark.xdist_group(f"docker-{n}"))
        for n, a in IMAGE_COMBOS.items()
    ],
)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Bake, add test-only routes, compose build and up --wait; tear it all down after."""
    require_engine()
    project = bake(tmp_path_factory.mktemp("docker"), **request.param)
    routes = next(project.glob("src/*/routes"))
    for name, source in EXTRA_ROUTES.items():
        (routes / f"{name}.py").write_text(source)
    stack = Stack(project, f"tpl{uuid.uuid4().hex[:8]}", free_port(), free_port())
    try:
        stack.timed("build_s", "--profile", "dev", "build")
        started = time.monotonic()
        run(["make", "up"], project, env=stack.env)  # docker compose up --build --detach --wait
        stack.figures["up_to_healthy_s"] = round(time.monotonic() - started, 2)
        yield stack
    finally:
        run(["make", "down"], project, env=stack.env)
        stack.tear_down()


@pytest.fixture
def url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.http_port}"


def test_healthy_and_serving(
    stack: Stack, url: str, record_property: pytest.RecordProperty
) -> None:
    assert stack.inspect("web", "{{.State.Health.Status}}") == "healthy"
    health = requests.get(f"{url}/healthz", headers={"X-Request-ID": "docker-1"}, timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert health.headers["X-Request-ID"] == "docker-1"
    for header in (
        "X-Content-Type-Options",
        "Content-Security-Policy",
        "X-Frame-Options",
        "Cache-Control",
    ):
        assert header in health.headers
    missing = requests.get(f"{url}/no/such/path", timeout=5)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert missing.json()["status"] == 404
    record_property("up_to_healthy_s", stack.figures["up_to_healthy_s"])
    if BASE_IMAGE:
        added = image_size(f"{stack.name}:latest") - image_size(BASE_IMAGE)
        record_property("image_added_mb", round(added / 1e6, 1))


def test_the_readme_token_opens_the_api(stack: Stack, url: str) -> None:
    """`docker compose up` runs the local OpenID provider: the README's `make token` and curl
    work as written, and the API refuses a call without a token."""
    token = run(["make", "--no-print-directory", "token"], stack.project, env=stack.env)
    auth = {"Authorization": f"Bearer {token.stdout.strip()}"}
    assert requests.get(f"{url}/api/items", timeout=10).status_code == 401
    created = requests.post(f"{url}/api/items", json={"name": "docker"}, headers=auth, timeout=10)
    assert created.status_code == 201, created.text
    logs = stack.compose("logs", "--no-color", "--no-log-prefix", "web").stdout
    assert '"subject": "dev-client"' in logs
    assert auth["Authorization"][7:] not in logs


def test_runs_as_non_root_on_a_read_only_root(stack: Stack) -> None:
    assert stack.compose("exec", "-T", "web", "id", "-u").stdout.strip() == "10001"
    assert stack.inspect("web", "{{.HostConfig.ReadonlyRootfs}}") == "true"
    pid1 = stack.compose("exec", "-T", "web", "cat", "/proc/1/cmdline").stdout
    assert "bin/gunicorn --config gunicorn.conf.py" in pid1.replace("\0", " "), "PID 1 (exec form)"
    write = stack.compose("exec", "-T", "web", "sh", "-c", "touch /app/x 2>&1 || true").stdout
    assert "Read-only file system" in write


def test_metrics_are_served_on_the_compose_network_only(stack: Stack, url: str) -> None:
    assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
    scrape = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:9464/metrics').read())"
    text = stack.compose("exec", "-T", "web", "python", "-c", scrape).stdout
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "app_build_info" in text
    ports = stack.inspect("web", '{{json (index .NetworkSettings.Ports "9464/tcp")}}')
    assert ports == "null"  # exposed on the compose network, published nowhere


def test_logs_are_json_lines_without_errors(stack: Stack, url: str) -> None:
    requests.get(f"{url}/healthz", headers={"X-Request-ID": "docker-log"}, timeout=5)
    time.sleep(0.5)
    lines = stack.compose("logs", "--no-color", "--no-log-prefix", "web").stdout.splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    assert any(
        r.get("request_id") == "docker-log" and r["logger"] == "gunicorn.access" for r in records
    )
    errors = [r for r in records if r["level"] in ("ERROR", "CRITICAL")]
    assert errors == [], "no error at start, the control socket included"
    checks = json.loads(stack.inspect("web", "{{json .State.Health.Log}}"))
    assert checks, "the container's HEALTHCHECK has run"
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    own = [r for r in access if r.get("user_agent") == "healthcheck-probe"]
    assert own == [], "the container's own passing health checks stay out of the access log"


def test_production_has_no_debugger(stack: Stack, url: str) -> None:
    failing = requests.get(f"{url}/boom", timeout=5)
    assert failing.status_code == 500
    assert failing.headers["Content-Type"] == "application/problem+json"
    assert "Werkzeug Debugger" not in failing.text
    assert "ZeroDivisionError" not in failing.text
    package = next(stack.project.glob("src/*/routes")).parent.name
    dev_entry = stack.compose(
        "run", "--rm", "--no-deps", "-T", "web", "sh", "-c", f"python -m {package} 2>&1 || true"
    )
    assert f"No module named {package}.__main__" in dev_entry.stdout


def test_dev_profile_reloads_host_edits_and_shows_the_debugger_on_loopback(stack: Stack) -> None:
    stack.compose("--profile", "dev", "up", "--detach", "dev")
    assert stack.compose("port", "dev", _container_port(stack)).stdout.startswith("127.0.0.1:")
    dev_url = f"http://127.0.0.1:{stack.dev_port}"
    wait_for_http(f"{dev_url}/healthz")
    poller = Poller(f"{dev_url}/probe")
    try:
        poller.wait_for("probe-v1")
        probe = next(stack.project.glob("src/*/routes/probe.py"))
        probe.write_text(probe.read_text().replace("probe-v1", "probe-v2"))
        poller.wait_for("probe-v2")
    finally:
        poller.stop()
    assert poller.refused == 0
    failing = requests.get(f"{dev_url}/boom", timeout=10)
    assert failing.status_code == 500
    assert "Werkzeug Debugger" in failing.text
    assert "EVALEX = true" in failing.text
    stack.compose("--profile", "dev", "stop", "dev")


def _container_port(stack: Stack) -> str:
    """The port the service listens on inside its container (the baked http_port)."""
    return json.loads((stack.project / ".cookiecutter.json").read_text())["cookiecutter"][
        "http_port"
    ]


def test_debug_variables_do_not_enable_a_debugger_in_production(stack: Stack, url: str) -> None:
    override = stack.project / "compose.debug-attempt.yaml"
    override.write_text(
        "services:\n  web:\n    environment:\n"
        "      APP_ENV: development\n      FLASK_DEBUG: '1'\n      DEBUG: '1'\n"
        "      WERKZEUG_DEBUG_PIN: 'off'\n      FLASK_ENV: development\n"
    )
    stack.compose("-f", "compose.yaml", "-f", override.name, "up", "--detach", "--wait", "web")
    failing = requests.get(f"{url}/boom", timeout=5)
    assert failing.status_code == 500
    assert failing.headers["Content-Type"] == "application/problem+json"
    assert "Werkzeug Debugger" not in failing.text
    stack.compose("up", "--detach", "--wait", "web")  # back to the plain service


def test_stop_drains_the_request_in_flight_and_exits_0(
    stack: Stack, url: str, record_property: pytest.RecordProperty
) -> None:
    result: dict[str, object] = {}

    def slow_request() -> None:
        response = requests.get(f"{url}/slow", timeout=30)
        result.update(status=response.status_code, body=response.json())

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(1)  # the request is now inside the view
    stack.timed("stop_s", "stop", "web")
    thread.join(30)
    assert result == {"status": 200, "body": {"slow": "done"}}
    assert stack.inspect("web", "{{.State.ExitCode}}") == "0", "exited by itself, not SIGKILLed"
    record_property("stop_s", stack.figures["stop_s"])


def test_image_builds_with_the_legacy_builder_and_with_buildkit(stack: Stack) -> None:
    args = ["--build-arg", f"PYTHON_IMAGE={BASE_IMAGE}"] if BASE_IMAGE else []
    tag = f"{stack.name}-legacy"
    legacy_env = {"DOCKER_BUILDKIT": "0"}
    run(["docker", "build", "-q", "-t", tag, *args, "."], stack.project, env=legacy_env)
    run(["docker", "image", "rm", tag], stack.project)
    # Compose builds through the engine's BuildKit (no buildx needed); its plain progress shows it.
    buildkit = stack.compose("--progress", "plain", "build", "web").stdout
    assert "[web internal] load build definition from Dockerfile" in buildkit


def test_image_contents_labels_and_home(stack: Stack) -> None:
    image = f"{stack.name}:latest"
    labels = json.loads(
        run(
            ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image],
            stack.project,
        ).stdout
    )
    assert labels["org.opencontainers.image.title"] == stack.project.name
    assert labels["org.opencontainers.image.version"]
    answers = json.loads((stack.project / ".cookiecutter.json").read_text())["cookiecutter"]
    author = f"{answers['author_name']} <{answers['author_email']}>"
    assert labels["org.opencontainers.image.authors"] == author, "< and > as typed"
    shell = (
        "id -un; echo $HOME; test -w $HOME && echo writable; ls -A /app; which curl || echo no-curl"
    )
    out = run(
        ["docker", "run", "--rm", "--entrypoint", "sh", image, "-c", shell], stack.project
    ).stdout.split()
    contents = ["alembic.ini", "gunicorn.conf.py", "migrations"]  # both combos have a database
    assert out == ["app", "/home/app", "writable", *contents, "no-curl"], "no .env or sources leak"


def test_dev_debugger_pin_comes_from_the_environment(stack: Stack) -> None:
    env_file = dict(
        line.split("=", 1)
        for line in (stack.project / ".env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    stack.compose("--profile", "dev", "up", "--detach", "dev")
    wait_for_http(f"http://127.0.0.1:{stack.dev_port}/healthz")
    logs = stack.compose("logs", "--no-color", "dev").stdout
    assert f"Debugger PIN: {env_file['DEBUG_PIN']}" in logs
    # The address to open is the published one, never the container's own port.
    assert f"Running on http://127.0.0.1:{stack.dev_port}\n" in logs
    assert f"127.0.0.1:{_container_port(stack)}" not in logs
    # LOG_FORMAT defaults to text in development: time, padded level, logger, message.
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} INFO     werkzeug ", logs), logs[-2000:]
    stack.compose("--profile", "dev", "stop", "dev")


@pytest.mark.parametrize(("cpus", "workers"), [("1", 2), ("0.5", 2)])
def test_a_cpu_quota_sizes_the_workers(stack: Stack, cpus: str, workers: int) -> None:
    name = f"{stack.name}-cpus-{uuid.uuid4().hex[:6]}"
    env = ["-e", f"SECRET_KEY={uuid.uuid4().hex * 2}", "-e", "DATABASE_URL=sqlite:////tmp/x.db"]
    env += ["-e", "AUTH_DISABLED=1"]  # no issuer here: the switch the README names
    run(
        ["docker", "run", "--detach", "--name", name, f"--cpus={cpus}", "--read-only",
         "--tmpfs", "/tmp", *env, f"{stack.name}:latest"],
        stack.project,
    )  # fmt: skip
    try:
        deadline, logs = time.monotonic() + 30, ""
        while logs.count("Booting worker") < workers and time.monotonic() < deadline:
            time.sleep(0.5)
            result = run(["docker", "logs", name], stack.project)
            logs = result.stdout + result.stderr
        time.sleep(1)  # a worker beyond the expected count would boot by now
        result = run(["docker", "logs", name], stack.project)
        logs = result.stdout + result.stderr
        line = next(line for line in logs.splitlines() if "workers x" in line)
        assert f"{workers} workers x 4 threads" in line
        assert f"quota {cpus} cpus" in line.lower(), "the reason names the quota"
        assert logs.count("Booting worker") == workers
    finally:
        run(["docker", "rm", "--force", name], stack.project)


def test_dev_refuses_to_start_without_a_debugger_pin(stack: Stack) -> None:
    """Not by compose's ${DEBUG_PIN:?}, which stopped `docker compose up` too: dev checks it."""
    result = subprocess.run(
        ["docker", "compose", "--profile", "dev", "run", "--rm", "--no-deps", "dev"],
        cwd=stack.project,
        env={**os.environ, **stack.env, "DEBUG_PIN": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "set DEBUG_PIN in .env for the debugger" in result.stderr


def test_a_fresh_clone_starts_production_with_the_shell_s_settings(stack: Stack, url: str) -> None:
    """A clone has no .env (git-ignored): compose names SECRET_KEY, the one variable production
    needs, not a dev-only one; given in the shell it starts, and so does API_DOCS=1."""
    env_file = stack.project / ".env"
    kept = env_file.read_text()
    values = dict(line.split("=", 1) for line in kept.splitlines() if "=" in line)
    shell = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG_PIN")}
    shell.update(stack.env, POSTGRES_PASSWORD=values["POSTGRES_PASSWORD"])
    env_file.unlink()
    try:
        up = ["docker", "compose", "up", "--detach", "--wait", "web"]
        missing = subprocess.run(
            up,
            cwd=stack.project,
            env=shell,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert missing.returncode != 0
        assert "required variable SECRET_KEY is missing a value" in missing.stderr
        assert "DEBUG_PIN" not in missing.stderr
        run(up, stack.project, env={**shell, "SECRET_KEY": values["SECRET_KEY"], "API_DOCS": "1"})
        assert requests.get(f"{url}/openapi.json", timeout=10).status_code == 200
    finally:
        env_file.write_text(kept)
        env_file.chmod(0o600)
        stack.compose("up", "--detach", "--wait", "web")  # back to the plain service
    assert requests.get(f"{url}/openapi.json", timeout=10).status_code == 404, "the default"
