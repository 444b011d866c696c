"""The bench's CPU clock: a cgroup per server counts every task exactly, exited ones too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import cpuclock

# A parent that forks a worker, which spins for half a second of CPU and exits before it.
SPIN = """
import os, time
if os.fork() == 0:
    started = time.process_time()
    while time.process_time() - started < 0.5:
        pass
    os._exit(0)
os.wait()
"""


def test_cgroup_v2_usage_is_read_in_seconds(tmp_path: Path) -> None:
    (tmp_path / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    assert cpuclock.usage_seconds(tmp_path) == 1.5


def test_cgroup_v1_usage_is_read_in_seconds(tmp_path: Path) -> None:
    (tmp_path / "cpuacct.usage").write_text("250000000\n")
    assert cpuclock.usage_seconds(tmp_path) == 0.25


def test_a_worker_that_exited_is_still_counted() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()\n" + SPIN],
                               stdin=subprocess.PIPE)  # fmt: skip
    group = cpuclock.own_cgroup("clock-test", process.pid)
    try:
        if group is None:
            pytest.skip("no cgroup may be made here (root, cgroup v1 cpuacct or v2): ticks it is")
        assert process.stdin is not None
        process.stdin.close()  # now it forks, inside the cgroup
        process.wait(timeout=30)
        assert cpuclock.usage_seconds(group) >= 0.5
    finally:
        process.kill()
        process.wait()
        cpuclock.remove(group)
    assert group is None or not group.exists()
