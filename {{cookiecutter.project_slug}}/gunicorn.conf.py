"""Gunicorn settings for production, read from the environment (`gunicorn -c gunicorn.conf.py`)."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from typing import Any

from {{ cookiecutter.package_name }}.config import (
    DEFAULT_PORT,
    ConfigError,
    env_int,
    env_str,
    load_settings,
)
from {{ cookiecutter.package_name }}.cpus import usable_cpus

try:
    settings = load_settings()  # fail in the master, naming the variable, before any fork
    wsgi_app = "{{ cookiecutter.package_name }}.wsgi:app"
    host = env_str(os.environ, "HOST", "0.0.0.0")
    port = env_int(os.environ, "PORT", DEFAULT_PORT, minimum=1, maximum=65535)
    bind = [f"{host}:{port}"]
    # /metrics has a port of its own (metrics.py): scraped inside the cluster, never public.
    if metrics_port := settings["METRICS_PORT"]:
        bind.append(f"{host}:{metrics_port}")
        # Each worker writes its counts to files here (prometheus_client reads this variable
        # when the app is imported, after this file); a tmpfs, like worker_tmp_dir.
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()  # noqa: S108
        # One directory per listening port: two masters on one host never share one.
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(shm, f"metrics-{port}"))
        os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    # Two per CPU: a worker's threads share one GIL, so one worker per CPU leaves CPU idle
    # while its threads hand the GIL over (`make bench` in the template measures this).
    cpus, cpus_reason = usable_cpus()
    workers = env_int(os.environ, "WEB_CONCURRENCY", 2 * cpus, minimum=1, maximum=64)
    given = os.environ.get("WEB_CONCURRENCY", "").strip()
    workers_reason = "WEB_CONCURRENCY" if given else f"2 x {cpus} usable CPUs: {cpus_reason}"
    worker_class = "{{ cookiecutter.package_name }}.worker.Worker"
    threads = env_int(os.environ, "GUNICORN_THREADS", 4, minimum=1, maximum=64)
    timeout = env_int(os.environ, "GUNICORN_TIMEOUT", 30, minimum=1)
    graceful_timeout = env_int(os.environ, "GUNICORN_GRACEFUL_TIMEOUT", 20, minimum=1)
    keepalive = env_int(os.environ, "GUNICORN_KEEPALIVE", 5, minimum=0)
    max_requests = env_int(os.environ, "GUNICORN_MAX_REQUESTS", 10_000, minimum=0)
    max_requests_jitter = env_int(os.environ, "GUNICORN_MAX_REQUESTS_JITTER", 1_000, minimum=0)
    forwarded_allow_ips = env_str(os.environ, "FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
except ConfigError as exc:
    sys.exit(f"configuration error: {exc}")

# /dev/shm is a tmpfs in containers: heartbeat files work on a read-only root and cost no disk I/O.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# The control socket (gunicorn >= 25) wants a writable $HOME or $XDG_RUNTIME_DIR; a container
# is managed through signals instead, so it is off rather than logging errors.
control_socket_disable = True
# The app is imported once, in the master, and each worker is a fork of it: a worker recycled
# by max_requests serves again in milliseconds instead of importing Flask anew, and the workers
# share the imported code's memory. So create_app() must not open connections or start threads.
preload_app = True
accesslog = "-"
errorlog = "-"
loglevel = env_str(os.environ, "LOG_LEVEL", "info").lower()
logger_class = "{{ cookiecutter.package_name }}.log.GunicornLogger"


def pre_fork(server: Any, worker: Any) -> None:
    """Move everything the master has imported out of the garbage collector's reach.

    A full collection in a worker would otherwise visit every imported object, writing to the
    pages it shares with the master (so each worker slowly copies them) and pausing requests
    for milliseconds; nothing the app imported at start-up is garbage anyway.
    """
    gc.freeze()


def on_starting(server: Any) -> None:
    """A new master starts from empty metrics (a USR2 re-exec keeps the running ones)."""
    if metrics_port and "GUNICORN_PID" not in os.environ:
        from {{ cookiecutter.package_name }} import promfiles  # noqa: PLC0415

        promfiles.reset(promfiles.directory())


def post_fork(server: Any, worker: Any) -> None:
    """Show the worker the signals that reach it before its own handlers do (worker.py)."""
    worker.early_signals = server.SIG_QUEUE
    if metrics_port:
        from {{ cookiecutter.package_name }} import metrics  # noqa: PLC0415

        metrics.worker_started()
    if settings["TRACING"]:  # the span processor's thread belongs to the worker, not the master
        from {{ cookiecutter.package_name }} import tracing  # noqa: PLC0415

        tracing.start_provider()


def worker_exit(server: Any, worker: Any) -> None:
    """Send the spans a stopping worker still holds."""
    if settings["TRACING"]:
        from {{ cookiecutter.package_name }} import tracing  # noqa: PLC0415

        tracing.stop_provider()


def child_exit(server: Any, worker: Any) -> None:
    """Fold a reaped worker's metric files into the archive, so recycling never grows them."""
    if metrics_port:
        from {{ cookiecutter.package_name }} import promfiles  # noqa: PLC0415

        promfiles.archive(worker.pid)


def when_ready(server: Any) -> None:
    """Say how many workers start and why, since a container's CPU quota changes it."""
    server.log.info("%d workers x %d threads (%s)", workers, threads, workers_reason)
