"""Gunicorn settings for production, read from the environment (`gunicorn -c gunicorn.conf.py`)."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from typing import Any

# No garbage collection while the master imports the app (when_ready turns it back on): the
# imports make objects, not garbage, and each collection would walk them all again.
gc.disable()

from {{ cookiecutter.package_name }}.cpus import usable_cpus  # noqa: E402
from {{ cookiecutter.package_name }}.settings import ConfigError, current  # noqa: E402

try:
    settings = current()  # fail in the master, naming the variable, before any fork
except ConfigError as exc:
    sys.exit(f"configuration error: {exc}")

wsgi_app = "{{ cookiecutter.package_name }}.wsgi:app"
host, port = settings.HOST or "0.0.0.0", settings.PORT
bind = [f"{host}:{port}"]
# /metrics has a port of its own (metrics.py): scraped inside the cluster, never public.
if metrics_port := settings.METRICS_PORT:
    bind.append(f"{host}:{metrics_port}")
    # Each worker writes its counts to files here (prometheus_client reads the variable when
    # the app is imported, after this file); a tmpfs, like worker_tmp_dir. One directory per
    # listening port: two masters on one host never share one.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()  # noqa: S108
    multiproc_dir = settings.PROMETHEUS_MULTIPROC_DIR or os.path.join(shm, f"metrics-{port}")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir
    os.makedirs(multiproc_dir, exist_ok=True)
# Two per CPU: a worker's threads share one GIL, so one worker per CPU leaves CPU idle while
# its threads hand the GIL over (`make bench` in the template measures this).
cpus, cpus_reason = usable_cpus()
workers = settings.WEB_CONCURRENCY or 2 * cpus
workers_reason = (
    "WEB_CONCURRENCY" if settings.WEB_CONCURRENCY else f"2 x {cpus} usable CPUs: {cpus_reason}"
)
worker_class = "{{ cookiecutter.package_name }}.worker.Worker"
threads = settings.GUNICORN_THREADS
timeout = settings.GUNICORN_TIMEOUT
graceful_timeout = settings.GUNICORN_GRACEFUL_TIMEOUT
keepalive = settings.GUNICORN_KEEPALIVE
# Where requests queue past capacity (the README's "Beyond capacity"): connections no worker
# has accepted wait in the kernel's listen queue (backlog, capped by net.core.somaxconn), which
# fills only once each worker holds worker_connections; accepted requests wait for a thread at
# most GUNICORN_QUEUE_TIMEOUT_MS (overload.py), then get a quick 503. gunicorn's defaults, stated.
backlog = 2048
worker_connections = 1000
max_requests = settings.GUNICORN_MAX_REQUESTS
max_requests_jitter = settings.GUNICORN_MAX_REQUESTS_JITTER
forwarded_allow_ips = settings.FORWARDED_ALLOW_IPS

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
loglevel = settings.LOG_LEVEL.lower()
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
    """Show the worker the signals that reach it before its own handlers do (worker.py).
    SIG_QUEUE is the master's internal queue: tests/test_internals_gunicorn.py pins it."""
    worker.early_signals = server.SIG_QUEUE
    if metrics_port:
        from {{ cookiecutter.package_name }} import metrics  # noqa: PLC0415

        metrics.worker_started()
    if settings.tracing:  # the span processor's thread belongs to the worker, not the master
        from {{ cookiecutter.package_name }} import tracing  # noqa: PLC0415

        tracing.start_provider()


def worker_exit(server: Any, worker: Any) -> None:
    """Send the spans a stopping worker still holds."""
    if settings.tracing:
        from {{ cookiecutter.package_name }} import tracing  # noqa: PLC0415

        tracing.stop_provider()


def child_exit(server: Any, worker: Any) -> None:
    """Fold a reaped worker's metric files into the archive, so recycling never grows them."""
    if metrics_port:
        from {{ cookiecutter.package_name }} import promfiles  # noqa: PLC0415

        promfiles.archive(worker.pid)


def when_ready(server: Any) -> None:
    """Say how many workers start and why, since a container's CPU quota changes it; the app
    is imported by now, so the garbage collector runs again, past what the import made: enabled
    alone, its first collection would walk all of it before the first worker forks."""
    gc.freeze()
    gc.enable()
    server.log.info("%d workers x %d threads (%s)", workers, threads, workers_reason)
