"""A server's CPU time: exact (nanoseconds, recycled workers included) from a cgroup of its
own where the bench may make one (root, cgroup v1 cpuacct or v2), else the tick-sampled counts
of its process tree in /proc, which the kernel may charge to whichever task ran at each tick."""

from __future__ import annotations

import os
import time
from pathlib import Path

# cgroup v1's cpuacct hierarchy, a hybrid system's v2 tree, a pure v2 system.
ROOTS = (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))


def usage_file(group: Path) -> Path:
    """Where a cgroup keeps its CPU time: cpuacct.usage (v1, ns) or cpu.stat (v2, µs)."""
    v1 = group / "cpuacct.usage"
    return v1 if v1.exists() else group / "cpu.stat"


def own_cgroup(name: str, pid: int) -> Path | None:
    """A new cgroup holding `pid`, started a moment ago and not forked yet; None if not allowed."""
    for root in ROOTS:
        if not usage_file(root).exists():
            continue
        group = root / f"bench-{os.getpid()}-{name}"
        try:
            group.mkdir()
        except OSError:
            continue
        try:
            (group / "cgroup.procs").write_text(str(pid))
            usage_seconds(group)
        except (OSError, ValueError):
            remove(group)
            continue
        return group
    return None


def usage_seconds(group: Path) -> float:
    """CPU seconds every task of the cgroup has used, exited ones included."""
    path = usage_file(group)
    if path.name == "cpuacct.usage":
        return int(path.read_text()) / 1e9
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return int(value) / 1e6
    raise ValueError(f"{path} has no usage_usec")


def remove(group: Path | None) -> None:
    """Remove a cgroup once its last task has exited (a worker may outlive its master briefly)."""
    if group is None:
        return
    for _ in range(100):
        try:
            group.rmdir()
        except FileNotFoundError:
            return
        except OSError:  # still busy
            time.sleep(0.02)
        else:
            return
