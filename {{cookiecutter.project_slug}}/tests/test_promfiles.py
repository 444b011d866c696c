"""Folding dead workers' files: real processes write multiprocess files and exit; the scrape
reads the same before and after their files are folded into the archive, a busy lock leaves
them (still counted) for the next reap, and a new worker's file not yet sized delays a scrape
instead of failing it."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import promfiles

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

WORKER = """
from prometheus_client import Counter, Gauge, Histogram
import os
Counter("jobs", "Jobs", ["kind"]).labels("a").inc({n})
Histogram("latency_seconds", "Latency", buckets=(0.1, 1.0)).observe({n} / 8)  # exact sums
Gauge("peak", "Peak", multiprocess_mode="max").set({n})
Gauge("last", "Last", multiprocess_mode="mostrecent").set({n})
Gauge("busy", "Busy", multiprocess_mode="livesum").set(1)
print(os.getpid())
"""


@pytest.fixture
def directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PROMETHEUS_MULTIPROC_DIR."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return tmp_path


def worker(directory: Path, n: int) -> int:
    """Run a process that counts n and exits, as a recycled worker does; its pid."""
    result = subprocess.run(
        [sys.executable, "-c", WORKER.format(n=n)],
        env={"PROMETHEUS_MULTIPROC_DIR": str(directory)},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout)


def without(exposition: bytes, metric: bytes) -> list[bytes]:
    """The exposition's lines but those of one metric, sorted (families come in file order)."""
    return sorted(line for line in exposition.splitlines() if metric not in line)


def test_folding_changes_nothing_a_scrape_sees(directory: Path) -> None:
    pids = [worker(directory, n) for n in (1, 2, 3)]
    before = promfiles.exposition()
    assert b'jobs_total{kind="a"} 6.0' in before
    for pid in pids:
        promfiles.archive(pid)
    # A live-only gauge leaves with its worker; everything else reads exactly as before.
    assert without(promfiles.exposition(), b"busy") == without(before, b"busy")
    left = sorted(p.name for p in directory.glob("*.db"))
    archived = ("counter", "gauge_max", "gauge_mostrecent", "histogram")
    assert left == [f"{kind}_archive.db" for kind in archived]


def test_a_busy_lock_leaves_the_files_for_the_next_reap(directory: Path) -> None:
    first = worker(directory, 1)
    with promfiles.locked(directory, fcntl.LOCK_SH):  # a scrape in progress
        promfiles.archive(first, timeout=0.05)
    assert (directory / f"counter_{first}.db").exists()
    assert b'jobs_total{kind="a"} 1.0' in promfiles.exposition()
    second = worker(directory, 2)
    promfiles.archive(second)
    assert not list(directory.glob(f"counter_{first}.db"))
    assert b'jobs_total{kind="a"} 3.0' in promfiles.exposition()


def test_a_scrape_waits_for_a_new_worker_to_size_its_file(directory: Path) -> None:
    worker(directory, 1)
    fresh = directory / "counter_999999.db"
    fresh.write_bytes(b"")  # created, as by a worker throttled before it could size the file
    sized = threading.Timer(0.15, lambda: fresh.write_bytes(bytes(8)))  # header: nothing used
    sized.start()
    try:
        assert b'jobs_total{kind="a"} 1.0' in promfiles.exposition()
    finally:
        sized.join()


def test_reset_empties_the_directory(directory: Path) -> None:
    worker(directory, 1)
    promfiles.reset(directory)
    assert list(directory.iterdir()) == []
