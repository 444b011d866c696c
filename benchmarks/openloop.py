"""An open-loop load generator: requests sent at a fixed rate whatever the answers do (wrk is
closed-loop: each connection waits for its answer, so a slow server slows the load down and its
queue never shows; wrk2 is not in Debian). asyncio on raw sockets, in two processes: a request
takes an idle kept-alive connection or opens one, and a connection the server closes (a shed
request's) is not reused. Each latency counts from the moment the request was due, not sent, so
a late generator shows in the figures instead of hiding the server's queue."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from .common import HOST

TIMEOUT_S = 10.0  # an answer later than this counts as failed (status 0)
PROCESSES = 2  # generator processes, each with its share of the rate
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class Outcome:
    """What one open-loop run got: statuses, latencies by status, and the generator's lag."""

    rate: float
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    latency_ms: dict[int, list[float]] = field(default_factory=dict)  # from when it was due
    sent_ms: dict[int, list[float]] = field(default_factory=dict)  # from when it left
    lag_ms: list[float] = field(default_factory=list)  # how late each request left
    retry_after: Counter[str] = field(default_factory=Counter)  # on 503s
    errors: Counter[str] = field(default_factory=Counter)  # why a request got no answer

    def add(self, other: Outcome) -> None:
        """Fold in another generator's outcome of the same run (each had part of the rate)."""
        self.statuses.update(other.statuses)
        for mine, theirs in ((self.latency_ms, other.latency_ms), (self.sent_ms, other.sent_ms)):
            for status, values in theirs.items():
                mine.setdefault(status, []).extend(values)
        self.lag_ms.extend(other.lag_ms)
        self.retry_after.update(other.retry_after)
        self.errors.update(other.errors)

    def record(self, status: int, ms: float, sent_ms: float, retry_after: str | None) -> None:
        """One answer (status 0: none)."""
        self.statuses[status] += 1
        self.latency_ms.setdefault(status, []).append(ms)
        self.sent_ms.setdefault(status, []).append(sent_ms)
        if status == 503:
            self.retry_after[retry_after or "missing"] += 1


def percentile(values: list[float], percent: float) -> float | None:
    """Nearest-rank percentile in ms, rounded to 0.1; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))], 1)


def header(head: bytes, name: bytes) -> str | None:
    """A response header's value from the raw head (lower-case `name`)."""
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return None


async def exchange(port: int, raw: bytes, idle: list[Connection]) -> tuple[int, str | None]:
    """Send one request and read its answer; (status, Retry-After). A kept-alive connection
    the server closed meanwhile (its keep-alive timeout, a recycled worker) gets the request
    again on a new one, as HTTP clients do for an idempotent request."""
    reused = bool(idle)
    reader, writer = idle.pop() if idle else await asyncio.open_connection(HOST, port)
    try:
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(header(head, b"content-length") or 0))
    except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
        writer.close()
        nothing = not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial
        if reused and nothing:
            return await exchange(port, raw, [])
        raise
    except BaseException:
        writer.close()
        raise
    if (header(head, b"connection") or "").lower() == "close":
        writer.close()
    else:
        idle.append((reader, writer))
    return int(head[9:12]), header(head, b"retry-after")


async def one(port: int, raw: bytes, due: float, idle: list[Connection], out: Outcome) -> None:
    """One request due at `due` (the loop's clock), recorded in `out`."""
    loop = asyncio.get_running_loop()
    sent = loop.time()
    out.lag_ms.append((sent - due) * 1000)
    try:
        status, retry_after = await asyncio.wait_for(exchange(port, raw, idle), TIMEOUT_S)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
        status, retry_after = 0, None
        out.errors[type(exc).__name__] += 1
    now = loop.time()
    out.record(status, (now - due) * 1000, (now - sent) * 1000, retry_after)


async def drive(port: int, path: str, rate: float, seconds: float) -> Outcome:
    """`rate` GETs of `path` a second for `seconds`, then wait for every answer."""
    raw = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    out, idle, tasks = Outcome(rate, seconds), [], set()
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n in range(int(rate * seconds)):
        due = start + n / rate
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        task = asyncio.create_task(one(port, raw, due, idle, out))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    return out


def run_one(port: int, path: str, rate: float, seconds: float) -> Outcome:
    """drive() on a fresh event loop (in a generator process)."""
    return asyncio.run(drive(port, path, rate, seconds))


def run(
    port: int, path: str, rate: float, seconds: float, started: Callable[[], None] = lambda: None
) -> Outcome:
    """The load from PROCESSES generator processes, each sending its share of `rate` (one
    event loop on a shared, busy machine falls behind); `started` is called once they are
    forked, so a thread it starts is not forked with them."""
    with ProcessPoolExecutor(PROCESSES) as pool:
        parts = [
            pool.submit(run_one, port, path, rate / PROCESSES, seconds) for _ in range(PROCESSES)
        ]
        started()
        total = Outcome(rate, seconds)
        for part in parts:
            total.add(part.result())
    return total


def summary(out: Outcome, capacity: float) -> dict[str, object]:
    """The figures of one run for the JSON report."""
    ok, shed = out.latency_ms.get(200, []), out.latency_ms.get(503, [])
    failed = sum(n for status, n in out.statuses.items() if status not in (200, 503))
    return {
        "offered_rps": round(out.rate, 1),
        "of_capacity": round(out.rate / capacity, 2) if capacity else None,
        "sent": sum(out.statuses.values()),
        "ok": len(ok),
        "shed": len(shed),
        "failed": failed,
        "statuses": {str(k): v for k, v in sorted(out.statuses.items())},
        "goodput_rps": round(len(ok) / out.seconds, 1),
        "p50_ms": percentile(ok, 50),
        "p99_ms": percentile(ok, 99),
        "max_ms": round(max(ok), 1) if ok else None,
        "p99_from_sent_ms": percentile(out.sent_ms.get(200, []), 99),
        "shed_p99_ms": percentile(shed, 99),
        "retry_after": dict(out.retry_after),
        "errors": dict(out.errors),
        "generator_lag_p99_ms": percentile(out.lag_ms, 99),
    }
