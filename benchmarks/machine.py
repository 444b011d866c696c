"""The machine a run came from: cores, CPU, Python, the packages that serve, wrk, the load."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from .load import wrk_version

PACKAGES = ("flask", "werkzeug", "gunicorn", "watchdog", "cookiecutter")


def usable_cpus() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def package_version(name: str) -> str:
    """An installed distribution's version, or "-" when it is missing."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def docker_version() -> str | None:
    """The Docker engine's version, or None when none answers."""
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def describe() -> dict[str, Any]:
    """Everything the machine line names, for the JSON report."""
    return {
        "cores": usable_cpus(),
        "cpu": cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": {name: package_version(name) for name in PACKAGES},
        "wrk": wrk_version(),
        "docker": docker_version(),
        "load_average_start": round(os.getloadavg()[0], 2),
    }


def line(machine: dict[str, Any]) -> str:
    """One line naming the machine, for the table's heading and the README."""
    packages = ", ".join(f"{name} {v}" for name, v in machine["packages"].items())
    docker = f", Docker {machine['docker']}" if machine.get("docker") else ""
    start, end = machine["load_average_start"], machine.get("load_average_end", "?")
    load = f"1-min load average {start} → {end}"
    clock = {"cgroup": "exact, a cgroup per server", "ticks": "scheduler ticks"}.get(
        machine.get("cpu_clock", ""), machine.get("cpu_clock", "?")
    )
    return (
        f"{machine['cores']} cores ({machine['cpu']}), {machine['os']}, "
        f"Python {machine['python']}; {packages}; wrk {machine['wrk']}{docker}; {load}; "
        f"server CPU time: {clock}"
    )
