"""The report: targets checked against one run's figures, and the one table that shows them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

HEADER = (
    "figure",
    "req/s",
    "p50 / median",
    "p99 / worst",
    "errors / refused",
    "server CPU/req",
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

    def cell(self) -> str:
        """How the target reads in the table."""
        if self.met is None:
            return f"{self.wants}: not measured"
        return f"{self.wants}: {'met' if self.met else 'MISSED'} ({self.value:g})"


def http_targets(http: dict[str, dict[str, Any]]) -> list[Target]:
    """The service's overhead over bare Flask, and the baked defaults over plain gunicorn."""
    healthz, plain = http["service_healthz"], http["plain_gunicorn"]
    over_plain = round(healthz["rps"] / plain["rps"], 2) if plain["rps"] else 0.0
    return [
        Target(
            "service_healthz",
            "req/s ≥ 0.90x bare Flask",
            healthz["vs_bare_flask"],
            healthz["vs_bare_flask"] is not None and healthz["vs_bare_flask"] >= 0.90,
        ),
        Target(
            "service_healthz",
            "p99 ≤ 1.2x bare Flask",
            healthz["p99_vs_bare_flask"],
            healthz["p99_vs_bare_flask"] is not None and healthz["p99_vs_bare_flask"] <= 1.2,
        ),
        Target(
            "plain_gunicorn", "gunicorn.conf.py req/s ≥ 1.5x this", over_plain, over_plain >= 1.5
        ),
        Target(
            "model_post_items",
            "CPU/request ≤ 1.15x by hand",
            http["model_post_items"]["cpu_vs_baseline"],
            (http["model_post_items"]["cpu_vs_baseline"] or 99) <= 1.15,
        ),
        Target(
            "service_healthz",
            "CPU/request ≤ 1.10x metrics off",
            http["service_healthz"]["cpu_vs_baseline"],
            (http["service_healthz"]["cpu_vs_baseline"] or 99) <= 1.10,
        ),
        Target(
            "model_healthz",
            "CPU/request ≤ 1.05x bare Flask",
            http["model_healthz"]["cpu_vs_baseline"],
            (http["model_healthz"]["cpu_vs_baseline"] or 99) <= 1.05,
        ),
        *(
            Target(key, "req/s ≥ 0.85x bare Flask+SQLAlchemy", ratio, ratio >= 0.85)
            for key, row in http.items()
            if (ratio := row.get("vs_bare_sqlalchemy")) is not None
        ),
    ]


def other_targets(report: dict[str, Any]) -> list[Target]:
    """Dev reload with watchdog, refused connections on either reloader, the image's size."""
    watchdog = report["reload"]["watchdog"]
    targets = [
        Target(
            "reload_watchdog", "median ≤ 0.5 s", watchdog["median_s"], watchdog["median_s"] <= 0.5
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


def http_rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """One table row per HTTP row."""
    return [
        (
            r["label"],
            num(r["rps"], ",.0f"),
            num(r["p50_ms"], ".1f", " ms"),
            num(r["p99_ms"], ".1f", " ms"),
            str(r["errors"]),
            num(r["server_cpu_us_per_request"], ".0f", " µs"),
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
        )
    )
    rows += docker_rows(report)
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
    rows: list[tuple[str, ...]] = [HEADER, *http_rows(report), *other_rows(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join(
        [markdown_line(rows[0], widths), rule] + [markdown_line(r, widths) for r in rows[1:]]
    )
