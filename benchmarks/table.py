"""The report: targets checked against one run's figures, and the one table that shows them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .cpu import COMPARISONS
from .overload import rows as overload_rows

HEADER = (
    "figure",
    "req/s",
    "p50 / median",
    "p99 / worst",
    "errors / refused",
    "server CPU/req (IQR)",
    "vs bare Flask",
    "vs limit",
    "target",
)


@dataclass(frozen=True)
class Target:
    """One of the issue's targets: which row it belongs to, what it asks, what the run gave."""

    row: str
    wants: str
    value: float | None
    met: bool | None  # None: not measured in this run (e.g. no Docker engine)
    note: str = ""  # after the value: the spread of the rounds it came from
    judged: bool = True  # False: a reading shown beside the targets, with no limit

    def cell(self) -> str:
        """How the target reads in the table."""
        if not self.judged:
            return f"{self.wants}: {self.value:g} (no target{self.note})"
        if self.met is None:
            return f"{self.wants}: not measured"
        return f"{self.wants}: {'met' if self.met else 'MISSED'} ({self.value:g}{self.note})"


def cpu_targets(http: dict[str, dict[str, Any]]) -> list[Target]:
    """Each row's median CPU per request against its baseline's, by interleaved rounds; the
    cell says when the rounds' spread (IQR) is wider than the gap between ratio and limit."""
    targets = []
    for c in COMPARISONS:
        if (vs := http.get(c.row, {}).get("cpu_vs", {}).get(c.baseline)) is None:
            continue
        ratio, (q1, q3) = vs["ratio"], vs["iqr"]
        spread = f"; IQR {q1:.2f}-{q3:.2f}"
        if c.limit is None:
            targets.append(Target(c.row, f"CPU/req vs {c.against}", ratio, None, spread, False))
            continue
        noisy = q3 - q1 > abs(ratio - c.limit)
        note = spread + (", wider than the gap" if noisy else "")
        targets.append(
            Target(c.row, f"CPU/req ≤ {c.limit:.2f}x {c.against}", ratio, ratio <= c.limit, note)
        )
    return targets


def http_targets(http: dict[str, dict[str, Any]]) -> list[Target]:
    """The CPU targets, p99 against bare Flask, and the baked defaults over plain gunicorn."""
    healthz, plain = http["service_healthz"], http["plain_gunicorn"]
    over_plain = round(healthz["rps"] / plain["rps"], 2) if plain["rps"] else 0.0
    scale_p99 = [
        Target(key, "p99 ≤ 1.20x 10³ rows", row["p99_vs_small"], row["p99_vs_small"] <= 1.2)
        for key, row in http.items()
        if "p99_vs_small" in row
    ]
    return [
        *cpu_targets(http),
        *scale_p99,
        Target(
            "service_healthz",
            "p99 ≤ 1.2x bare Flask",
            healthz["p99_vs_bare_flask"],
            healthz["p99_vs_bare_flask"] is not None and healthz["p99_vs_bare_flask"] <= 1.2,
        ),
        Target(
            "plain_gunicorn", "gunicorn.conf.py req/s ≥ 1.5x this", over_plain, over_plain >= 1.5
        ),
    ]


def other_targets(report: dict[str, Any]) -> list[Target]:
    """Dev reload with watchdog, refused connections on either reloader, gunicorn's first 200,
    the image's size."""
    watchdog, gunicorn = report["reload"]["watchdog"], report["startup"]["gunicorn"]
    targets = [
        Target(
            "reload_watchdog", "median ≤ 0.4 s", watchdog["median_s"], watchdog["median_s"] <= 0.4
        ),
        Target(
            "start_gunicorn", "median ≤ 0.4 s", gunicorn["median_s"], gunicorn["median_s"] <= 0.4
        ),
    ]
    for name, reload in report["reload"].items():
        targets.append(
            Target(f"reload_{name}", "0 refused", reload["refused"], reload["refused"] == 0)
        )
    added = report["docker"].get("added_mb")
    targets.append(Target("image", "≤ 30 MB", added, None if added is None else added <= 30))
    return targets


def evaluate(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target against this run, as JSON-ready dicts."""
    targets = http_targets(report["http"]) + other_targets(report)
    return [asdict(t) for t in targets]


def cells_for(report: dict[str, Any], row: str) -> str:
    """The target cell of a row: every target that belongs to it."""
    return "; ".join(Target(**t).cell() for t in report["targets"] if t["row"] == row)


def num(value: float | None, fmt: str, unit: str = "") -> str:
    """A number formatted for the table, blank when absent."""
    return "" if value is None else f"{value:{fmt}}{unit}"


def cpu_cell(row: dict[str, Any]) -> str:
    """Median server CPU per request over the rounds, with its interquartile range."""
    cpu = row.get("server_cpu")
    if cpu is None:
        return num(row["server_cpu_us_per_request"], ".0f", " µs")
    q1, q3 = cpu["iqr_us"]
    return f"{cpu['median_us']:.0f} µs ({q1:.0f}-{q3:.0f})"


def http_rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """One table row per HTTP row."""
    return [
        (
            r["label"],
            num(r["rps"], ",.0f"),
            num(r["p50_ms"], ".1f", " ms"),
            num(r["p99_ms"], ".1f", " ms"),
            str(r["errors"]),
            cpu_cell(r),
            num(r["vs_bare_flask"], ".2f"),
            num(r["vs_limit"], ".2f"),
            cells_for(report, key),
        )
        for key, r in report["http"].items()
    ]


def timing_row(
    label: str, figures: dict[str, Any], target: str = "", extra: str = ""
) -> tuple[str, ...]:
    """A row of median and worst seconds (reloads, start-ups)."""
    median, worst = figures["median_s"], figures["worst_s"]
    return (label, "", f"{median:.2f} s", f"{worst:.2f} s", extra, "", "", "", target)


def value_row(label: str, value: str, target: str = "") -> tuple[str, ...]:
    """A row with a single figure, shown in the median column."""
    return (label, "", value, "", "", "", "", "", target)


def docker_rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """compose up to healthy and the image size, or why they were not measured."""
    docker = report["docker"]
    if "up_to_healthy_s" not in docker:
        if "failed" in docker:
            return [
                value_row("Docker: compose up → healthy, image size", "FAILED", docker["failed"])
            ]
        return [value_row("Docker: compose up → healthy, image size", "skipped", docker["skipped"])]
    return [
        value_row("start-up: docker compose up → healthy", f"{docker['up_to_healthy_s']:.1f} s"),
        value_row(
            "image: added on top of the base",
            f"{docker['added_mb']:.1f} MB",
            cells_for(report, "image"),
        ),
    ]


def other_rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """Reloads, start-ups, the image and generation."""
    rows = []
    for name, reload in report["reload"].items():
        rows.append(
            timing_row(
                f"dev reload, {name} reloader: save → new response ({reload['saves']} saves)",
                reload,
                cells_for(report, f"reload_{name}"),
                f"{reload['refused']} refused",
            )
        )
    gunicorn = report["startup"]["gunicorn"]
    rows.append(
        timing_row(
            f"start-up: gunicorn.conf.py → first 200 /healthz ({gunicorn['starts']} starts)",
            gunicorn,
            cells_for(report, "start_gunicorn"),
            f"{gunicorn['median_s'] / gunicorn['floor_median_s']:.2f}x the floor below",
        )
    )
    rows.append(
        timing_row(
            f"start-up floor: a bare interpreter importing the same {gunicorn['libraries']} "
            "library modules, no app",
            {"median_s": gunicorn["floor_median_s"], "worst_s": gunicorn["floor_worst_s"]},
        )
    )
    rows += docker_rows(report)
    if "auth" in report:  # the authenticated row could not run: say why, as for Docker
        label = "service GET /api/items/1, bearer token"
        rows.append(value_row(label, "skipped", report["auth"]["skipped"]))
    rows.append(
        value_row(
            "generation: one cookiecutter --no-input bake",
            f"{report['generation']['bake_s']:.2f} s",
        )
    )
    return rows


def markdown_line(row: tuple[str, ...], widths: list[int]) -> str:
    """One Markdown table line, cells padded to their column's width."""
    return "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"


def render(report: dict[str, Any]) -> str:
    """The whole table as Markdown, columns aligned."""
    overloaded = overload_rows(report.get("overload", {}))
    rows: list[tuple[str, ...]] = [HEADER, *http_rows(report), *overloaded, *other_rows(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join(
        [markdown_line(rows[0], widths), rule] + [markdown_line(r, widths) for r in rows[1:]]
    )
