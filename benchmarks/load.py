"""wrk as the load generator: find it, run one slice of load, merge slices into one figure."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .common import HERE, BenchError

INSTALL_HINT = "wrk is not installed; install it with: apt-get install wrk"
MARKER = "BENCH-JSON "
ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


def wrk_binary() -> str:
    """The wrk executable, or BenchError with the install command."""
    path = shutil.which("wrk")
    if path is None:
        raise BenchError(INSTALL_HINT)
    return path


def wrk_version() -> str:
    """wrk's version as it reports it (`wrk -v` exits 1 after printing it)."""
    result = subprocess.run(
        [wrk_binary(), "-v"], capture_output=True, text=True, timeout=10, check=False
    )
    words = (result.stdout + result.stderr).split()
    return words[1] if len(words) > 1 else "unknown"


def write_script(path: Path, request_lua: str | None) -> Path:
    """A wrk script: the row's request setup (if any) followed by the JSON report."""
    report = (HERE / "report.lua").read_text()
    setup = (HERE / request_lua).read_text() if request_lua else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{setup}\n{report}")
    return path


@dataclass
class Load:
    """Totals of one or more wrk runs against one row: requests, time, errors, latencies."""

    requests: int = 0
    duration_us: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latency_us: Counter[int] = field(default_factory=Counter)
    server_cpu_s: float = 0.0  # CPU the server used meanwhile (its processes, not wrk's)
    # Each folded run's server CPU per request in µs: one figure per interleaved round.
    cpu_rounds_us: list[float] = field(default_factory=list)

    def add(self, other: Load) -> None:
        """Fold another run of the same row into this one."""
        self.requests += other.requests
        self.duration_us += other.duration_us
        self.errors.update(other.errors)
        self.latency_us.update(other.latency_us)
        self.server_cpu_s += other.server_cpu_s
        self.cpu_rounds_us.append(other.cpu_us_per_request)  # 0.0: no request answered

    @property
    def rps(self) -> float:
        """Completed requests per second over all runs."""
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def cpu_us_per_request(self) -> float:
        """Server CPU time per completed request, in microseconds."""
        return self.server_cpu_s / self.requests * 1e6 if self.requests else 0.0

    @property
    def error_count(self) -> int:
        """Socket errors, timeouts and responses with status >= 400."""
        return sum(self.errors.values())

    def percentile_ms(self, percent: float) -> float:
        """Nearest-rank percentile of the latency histogram, in milliseconds."""
        total = sum(self.latency_us.values())
        if not total:
            return 0.0
        rank, seen = percent / 100 * total, 0
        for value, count in sorted(self.latency_us.items()):
            seen += count
            if seen >= rank:
                return value / 1000
        return max(self.latency_us) / 1000


def parse(stdout: str) -> Load:
    """The Load in wrk's output (the report script's JSON line)."""
    line = next((x for x in stdout.splitlines() if x.startswith(MARKER)), None)
    if line is None:
        raise BenchError(f"wrk printed no report:\n{stdout[-2000:]}")
    data = json.loads(line[len(MARKER) :])
    return Load(
        requests=int(data["requests"]),
        duration_us=int(data["duration_us"]),
        errors=Counter({kind: int(data["errors"][kind]) for kind in ERROR_KINDS}),
        latency_us=Counter({int(value): int(count) for value, count in data["latency_us"]}),
    )


def run_wrk(url: str, seconds: int, connections: int, threads: int, script: Path) -> Load:
    """Load `url` for `seconds` with `connections` kept-alive connections; the Load it measured."""
    argv = [
        wrk_binary(),
        f"--threads={min(threads, connections)}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=5s",
        f"--script={script}",
        url,
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if result.returncode != 0:
        raise BenchError(f"wrk exited {result.returncode}: {result.stderr.strip()[:500]}")
    return parse(result.stdout)
