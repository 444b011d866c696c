"""cpus.py on fake cgroup trees: v2 and v1 quotas, nesting, rounding, and no cgroup at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import cpus


@pytest.fixture(autouse=True)
def eight_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host's affinity mask, whatever machine runs the tests."""
    monkeypatch.setattr(cpus, "affinity", lambda: 8)


def tree(root: Path, files: dict[str, str]) -> Path:
    """Write a fake /sys/fs/cgroup (and /proc/self/cgroup as `proc`) under root."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    return root


def usable(root: Path) -> tuple[int, str]:
    return cpus.usable_cpus(root / "sys", root / "proc")


V2 = {"sys/cgroup.controllers": "cpu memory", "proc": "0::/"}


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("100000 100000", 1), ("150000 100000", 2), ("50000 100000", 1), ("max 100000", 8)],
    ids=["one-cpu", "one-and-a-half-rounds-up", "half-is-still-one", "no-quota"],
)
def test_v2_quota_in_a_container(tmp_path: Path, cpu_max: str, expected: int) -> None:
    count, reason = usable(tree(tmp_path, {**V2, "sys/cpu.max": cpu_max}))
    assert count == expected
    assert ("cpu.max" in reason) == (cpu_max != "max 100000")


def test_v2_takes_the_tightest_limit_up_the_hierarchy(tmp_path: Path) -> None:
    files = {
        **V2,
        "proc": "0::/kubepods/pod1/app",
        "sys/kubepods/cpu.max": "max 100000",
        "sys/kubepods/pod1/cpu.max": "200000 100000",
        "sys/kubepods/pod1/app/cpu.max": "max 100000",
    }
    assert usable(tree(tmp_path, files))[0] == 2


def test_a_quota_above_the_affinity_mask_changes_nothing(tmp_path: Path) -> None:
    count, reason = usable(tree(tmp_path, {**V2, "sys/cpu.max": "1600000 100000"}))
    assert count == 8
    assert "affinity mask" in reason


@pytest.mark.parametrize(("quota", "expected"), [("50000", 1), ("300000", 3), ("-1", 8)])
def test_v1_cfs_quota(tmp_path: Path, quota: str, expected: int) -> None:
    files = {
        "proc": "4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc",
        "sys/cpu,cpuacct/cpu.cfs_quota_us": quota,
        "sys/cpu,cpuacct/cpu.cfs_period_us": "100000",
    }
    assert usable(tree(tmp_path, files))[0] == expected


def test_without_a_cgroup_filesystem_the_affinity_mask_decides(tmp_path: Path) -> None:
    assert usable(tmp_path) == (8, "8 CPUs in the affinity mask")
