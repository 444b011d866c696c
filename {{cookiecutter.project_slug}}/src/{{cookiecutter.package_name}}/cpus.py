"""How many CPUs this process may use: the least of its affinity mask and its cgroup's CPU
quota (`docker run --cpus`, a Kubernetes CPU limit), so gunicorn sizes itself to the
container rather than to the host."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")


def affinity() -> int:
    """CPUs the scheduler may run this process on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def read(path: Path) -> str | None:
    """A cgroup file's text, or None where it is missing or unreadable."""
    try:
        return path.read_text().strip()
    except OSError:
        return None


def ratio(quota: str, period: str) -> float | None:
    """CPUs a quota grants per period; None for no quota or for text we cannot read."""
    try:
        return int(quota) / int(period) if int(quota) > 0 and int(period) > 0 else None
    except ValueError:
        return None


def v2_quota(root: Path, own: str) -> float | None:
    """cgroup v2: the tightest `cpu.max` ("<quota> <period>" or "max <period>") from this
    process's cgroup up to the root; the root itself in a container's cgroup namespace."""
    directory, quotas = root / own.lstrip("/"), []
    while True:
        quota, _, period = (read(directory / "cpu.max") or "").partition(" ")
        if cpus := ratio(quota, period):  # "max" (no quota) reads as None
            quotas.append(cpus)
        if directory == root or root not in directory.parents:
            return min(quotas, default=None)
        directory = directory.parent


def v1_quota(root: Path, own: str) -> float | None:
    """cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us`, -1 meaning no quota."""
    for controller in ("cpu,cpuacct", "cpu"):
        for directory in (root / controller / own.lstrip("/"), root / controller):
            quota = read(directory / "cpu.cfs_quota_us")
            period = read(directory / "cpu.cfs_period_us")
            if quota and period:
                return ratio(quota, period)
    return None


def own_cgroup(proc_self_cgroup: Path, controller: str) -> str:
    """This process's cgroup path for a v1 controller, or the v2 one (`0::/path`)."""
    for line in (read(proc_self_cgroup) or "").splitlines():
        number, controllers, path = line.split(":", 2)
        if (controller and controller in controllers.split(",")) or (
            not controller and number == "0"
        ):
            return path
    return "/"


def usable_cpus(root: Path = CGROUP, proc_self_cgroup: Path = PROC_SELF_CGROUP) -> tuple[int, str]:
    """The CPU count to size workers by, and why: a quota is rounded up to whole CPUs."""
    mask = affinity()
    if (root / "cgroup.controllers").exists():
        quota, kind = v2_quota(root, own_cgroup(proc_self_cgroup, "")), "cgroup v2 cpu.max"
    else:
        quota, kind = v1_quota(root, own_cgroup(proc_self_cgroup, "cpu")), "cgroup v1 cfs quota"
    if quota is None or math.ceil(quota) >= mask:
        beyond = "" if quota is None else f" ({kind} {quota:g} is no tighter)"
        return mask, f"{mask} CPUs in the affinity mask{beyond}"
    return max(1, math.ceil(quota)), f"{kind} {quota:g} CPUs, under the affinity mask's {mask}"
