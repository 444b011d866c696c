"""prometheus_client's multiprocess files, kept bounded: each worker writes its own files in
PROMETHEUS_MULTIPROC_DIR; when gunicorn reaps a worker, the master folds its files into one
archive per metric type (prometheus/client_python#275: otherwise every recycled worker leaves
files behind, and every scrape reads them all). Scrapes read under a shared lock and the master
swaps files under an exclusive one, so a scrape never counts a worker twice or not at all."""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict  # internal: tests/test_internals.py pins it
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

Value = tuple[float, float]  # (value, timestamp), as the files store them
LOCK = ".archive.lock"  # not *.db, so the collector never reads it
# How long a scrape waits for a new worker to size its file. Under a CPU quota the worker can be
# throttled between the two steps for a whole CFS period (100 ms by default).
SIZING_WAIT = 0.5


def _add(a: Value, b: Value) -> Value:
    return (a[0] + b[0], 0.0)


# File prefix -> how two workers' values of one sample combine. The files hold per-bucket
# counts, so histograms add like counters. gauge_all (one series per pid) is never folded.
FOLD: dict[str, Callable[[Value, Value], Value]] = {
    "counter": _add,
    "histogram": _add,
    "summary": _add,
    "gauge_sum": _add,
    "gauge_max": max,
    "gauge_min": min,
    "gauge_mostrecent": lambda a, b: a if a[1] >= b[1] else b,
}
_pending: set[int] = set()  # reaped pids whose files could not be folded yet


def directory() -> Path:
    """PROMETHEUS_MULTIPROC_DIR, which prometheus_client read when it was first imported."""
    return Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


@contextlib.contextmanager
def locked(path: Path, mode: int, timeout: float | None = None) -> Iterator[None]:
    """flock on the directory's lock file; with a timeout, TimeoutError when it stays busy."""
    fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, mode | (fcntl.LOCK_NB if deadline else 0))
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError("the metrics archive lock stayed busy") from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # and with it the lock


def reset(path: Path) -> None:
    """Empty the directory: a new master must not count an earlier one's workers."""
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        child.unlink()


def exposition() -> bytes:
    """Every live and archived worker's samples, in the text format (for /metrics)."""
    path = directory()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(path))
    deadline = time.monotonic() + SIZING_WAIT
    while True:
        try:
            with locked(path, fcntl.LOCK_SH):
                return generate_latest(registry)
        except struct.error:  # a new worker's file caught between create and size (#1199)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _read(path: Path) -> dict[str, Value]:
    if path.stat().st_size == 0:  # the worker died before its file had a header
        return {}
    return {key: (value, ts) for key, value, ts, _ in MmapedDict.read_all_values_from_file(path)}


def archive(pid: int, timeout: float = 5.0) -> None:
    """gunicorn's child_exit, in the master: fold a reaped worker's files into the archives."""
    path = directory()
    mark_process_dead(pid, str(path))  # live* gauges: simply removed
    _pending.add(pid)
    swaps = []
    for prefix, fold in FOLD.items():  # build the new archives outside the lock
        dead = [f for p in sorted(_pending) if (f := path / f"{prefix}_{p}.db").exists()]
        if not dead:
            continue
        final = path / f"{prefix}_archive.db"
        totals = _read(final) if final.exists() else {}
        for file in dead:  # nobody writes a reaped worker's file any more
            for key, value in _read(file).items():
                totals[key] = fold(totals[key], value) if key in totals else value
        staged = final.with_suffix(".db.new")
        staged.unlink(missing_ok=True)
        new = MmapedDict(str(staged))
        for key, (number, ts) in totals.items():
            new.write_value(key, number, ts)
        new.close()
        swaps.append((staged, final, dead))
    try:
        with locked(path, fcntl.LOCK_EX, timeout):
            for staged, final, dead in swaps:
                staged.replace(final)
                for file in dead:
                    file.unlink()
        _pending.clear()
    except TimeoutError:  # the files stay (and are still counted); the next reap retries
        for staged, _, _ in swaps:
            staged.unlink(missing_ok=True)
