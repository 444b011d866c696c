"""Server CPU per request, compared round by round: every row is loaded once per interleaved
round, so a row and its baseline are measured seconds apart and each round gives one ratio.
The median ratio is judged; the interquartile range says how far the rounds disagree."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Comparison:
    """A row whose CPU per request must stay within `limit` times a baseline row's (None: a
    reading the table shows without a verdict)."""

    row: str
    baseline: str
    limit: float | None
    against: str  # the baseline as the table names it


COMPARISONS = (
    Comparison("service_healthz", "bare_flask", 1.10, "bare Flask"),
    Comparison("service_healthz", "metrics_off", 1.10, "metrics off"),
    *(
        Comparison(f"service_{op}{db}", f"sqla_{op}{db}", 1.15, "bare Flask+SQLAlchemy")
        for db in ("", "_pg")
        for op in ("post_items", "get_item")
    ),
    Comparison("model_post_items", "hand_post_items", 1.15, "by hand"),
    Comparison("service_get_item_auth", "service_get_item", 1.10, "auth off"),
    # The scale rows: each request on the large table against the same on the 10³-row one.
    *(
        Comparison(f"scale_{op}_large{db}", f"scale_{op}_small{db}", 1.2, "10³ rows")
        for db in ("", "_pg")
        for op in ("first_page", "deep_page", "get_item", "post_items", "patch_item")
    ),
    Comparison("model_healthz", "bare_flask", 1.05, "bare Flask"),
    # Readings that split /healthz's gap: the middlewares other issues require, around bare
    # Flask, and what the service's Flask app adds inside the same middlewares.
    Comparison("bare_middlewares", "bare_flask", None, "bare Flask"),
    Comparison("service_healthz", "bare_middlewares", None, "bare Flask in them"),
)


def blocks(keys: list[str]) -> list[list[str]]:
    """The rows in groups that a round loads back to back: a row with every row it is judged
    against (transitively), so that a pair is measured about a second apart, not a whole round.
    The machine's speed drifts within seconds (benchmarks/README.md), and the pair drifts less."""
    group = {key: [key] for key in keys}
    for c in COMPARISONS:
        if c.row in group and c.baseline in group and group[c.row] is not group[c.baseline]:
            merged = group[c.row] + group[c.baseline]
            for key in merged:
                group[key] = merged
    unique = {id(members): members for members in group.values()}
    return [sorted(members, key=keys.index) for members in unique.values()]


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile (one value: itself three times)."""
    if len(values) < 2:
        return (values[0],) * 3 if values else (0.0, 0.0, 0.0)
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def summary(rounds_us: list[float]) -> dict[str, Any]:
    """A row's CPU per request over its rounds: the median and the interquartile range."""
    q1, median, q3 = quartiles([r for r in rounds_us if r])
    return {"median_us": round(median, 1), "iqr_us": [round(q1, 1), round(q3, 1)]}


def compare(rounds_us: list[float], baseline_us: list[float]) -> dict[str, Any]:
    """The row against its baseline: one ratio per round both rows answered in."""
    pairs = [
        (mine, base) for mine, base in zip(rounds_us, baseline_us, strict=False) if mine and base
    ]
    ratios = [mine / base for mine, base in pairs]
    q1, median, q3 = quartiles(ratios)
    added = [mine - base for mine, base in pairs]
    return {
        "ratio": round(median, 3),
        "iqr": [round(q1, 3), round(q3, 3)],
        "added_us": round(quartiles(added)[1], 1),
        "rounds": len(ratios),
    }


def add_comparisons(results: dict[str, dict[str, Any]], rounds: dict[str, list[float]]) -> None:
    """Each measured row's CPU summary, and its comparisons under `cpu_vs` by baseline."""
    for key, row_rounds in rounds.items():
        results[key]["server_cpu"] = summary(row_rounds)
    for c in COMPARISONS:
        if c.row in rounds and c.baseline in rounds:
            results[c.row].setdefault("cpu_vs", {})[c.baseline] = compare(
                rounds[c.row], rounds[c.baseline]
            )
