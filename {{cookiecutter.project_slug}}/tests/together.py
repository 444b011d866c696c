"""Calls released together, each from a thread of its own, for the race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def at_once(call: Callable[[T], R], args: Sequence[T], timeout: float = 60) -> list[R]:
    """`call(arg)` for every arg, each on its own thread, all released by one barrier.

    A thread per call, started here: a ThreadPoolExecutor may hand a task to a thread it
    counts as idle instead of starting one, and a barrier waiting for every task then waits
    for ever (CI hung that way). The barrier's timeout makes a missing party a failure.
    `call` must bound its own time (a request timeout below `timeout`).
    """
    barrier = threading.Barrier(len(args), timeout=timeout)
    results: list[object] = [None] * len(args)

    def run(index: int, arg: T) -> None:
        try:
            barrier.wait()
            results[index] = call(arg)
        except BaseException as exc:  # raised again in the caller's thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=pair, daemon=True) for pair in enumerate(args)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(2 * timeout)
    assert not any(thread.is_alive() for thread in threads), "a call outlived its timeout"
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]
