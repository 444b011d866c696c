"""Readiness checks: each component that depends on something outside the process (a
database, a queue) registers a check for it when it wires itself into the app; /readyz runs
them all. A check signals failure by raising; `NotReady` says why in words safe to show.

A check gets BUDGET seconds: it runs on a thread of its own, so a dependency that stops
answering makes /readyz a quick 503, and a check still stuck from an earlier probe is waited
for rather than started again. An outage is logged twice, when it starts and when it ends (with
how long it lasted), not once per probe or request: every pod would log it every few seconds."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as Late

from flask import Flask

log = logging.getLogger(__name__)
Check = Callable[[], None]
EXTENSION = "readiness_checks"
BUDGET = 1.0  # seconds /readyz waits for a check: the kubelet's probe times out after 1 s
TRIAL = 1.0  # seconds between the requests let through to a failing dependency, to see it back
_pools: dict[int, ThreadPoolExecutor] = {}  # pid -> the checks' threads (none cross a fork)


class NotReady(Exception):
    """A check's failure whose text is safe for /readyz and the log (no secrets, no SQL)."""


class Outages:
    """Which dependencies are failing, since when; logs each change of state once."""

    def __init__(self) -> None:
        self.since: dict[str, float] = {}
        self.reasons: dict[str, str] = {}
        self.trials: dict[str, float] = {}  # name -> when the next request may try it
        self.lock = threading.Lock()

    def failing(self, name: str, reason: str) -> None:
        """`name` failed (a check, or a request that needed it): log it if it was up."""
        with self.lock:
            self.trials[name] = time.monotonic() + TRIAL
            if name in self.since:
                return
            self.since[name], self.reasons[name] = time.monotonic(), reason
        log.warning("outage started", extra={"check": name, "error": reason})

    def shedding(self, name: str) -> str | None:
        """While `name` fails, why, for every request but one a TRIAL: the others answer at
        once instead of each waiting out its bound behind a dependency known to be down."""
        if name not in self.since:  # the common case, without the lock
            return None
        with self.lock:
            if name not in self.since or time.monotonic() >= self.trials.get(name, 0.0):
                self.trials[name] = time.monotonic() + TRIAL
                return None
            return self.reasons[name]

    def calm(self, name: str) -> None:
        """`name` has not failed for a TRIAL: end its outage, if any. For failures that come
        and go request by request (overload.py's), which `passing` would log for each."""
        if name in self.since and time.monotonic() >= self.trials.get(name, 0.0):
            self.passing(name)

    def passing(self, name: str) -> None:
        """`name` answered: log the outage's end and length if there was one."""
        if name not in self.since:  # the common case, without the lock
            return
        with self.lock:
            since = self.since.pop(name, None)
        if since is not None:
            failed_for = round(time.monotonic() - since, 1)
            log.warning("outage ended", extra={"check": name, "failed_for_s": failed_for})


def outages(app: Flask) -> Outages:
    """The app's outage record, shared by its checks and its database errors."""
    return app.extensions.setdefault("outages", Outages())  # type: ignore[no-any-return]


def add_check(app: Flask, name: str, check: Check) -> None:
    """Register `check` under `name` (the key /readyz reports it by)."""
    app.extensions.setdefault(EXTENSION, {})[name] = check


def executor() -> ThreadPoolExecutor:
    """This process's threads for checks, started on first use (never in gunicorn's master)."""
    if (pool := _pools.get(os.getpid())) is None:
        _pools.clear()
        pool = _pools[os.getpid()] = ThreadPoolExecutor(4, thread_name_prefix="readiness")
    return pool


def run_checks(app: Flask) -> dict[str, str]:
    """Every registered check's result: "ok", "failing", or a `NotReady` reason."""
    results: dict[str, str] = {}
    running: dict[str, Future[None]] = app.extensions.setdefault("readiness_running", {})
    record = outages(app)
    for name, check in app.extensions.get(EXTENSION, {}).items():
        future = running.get(name)
        if future is None or future.done():
            future = running[name] = executor().submit(check)
        try:
            future.result(timeout=BUDGET)
        except NotReady as error:
            results[name] = str(error)
            record.failing(name, str(error))
        except Exception as error:  # the error's class only: its text may hold secrets
            results[name] = "failing"
            late = isinstance(error, Late)
            record.failing(name, f"no answer within {BUDGET} s" if late else type(error).__name__)
        else:
            results[name] = "ok"
            record.passing(name)
    return results
