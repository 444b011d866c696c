"""The bench's CPU comparisons: ratios paired by round, the median judged, the spread shown."""

from __future__ import annotations

from benchmarks import cpu, table


def test_ratios_pair_rounds_and_skip_a_round_without_answers() -> None:
    vs = cpu.compare([110.0, 0.0, 120.0, 300.0], [100.0, 100.0, 100.0, 200.0])
    assert vs["rounds"] == 3  # the second round answered nothing on the row
    assert vs["ratio"] == 1.2  # median of 1.1, 1.2 and 1.5
    assert vs["iqr"] == [1.15, 1.35]
    assert vs["added_us"] == 20.0


def test_a_drifting_machine_moves_both_rows_not_the_ratio() -> None:
    baseline = [100.0, 150.0, 200.0, 250.0, 300.0]
    vs = cpu.compare([1.05 * x for x in baseline], baseline)
    assert vs["ratio"] == 1.05
    assert vs["iqr"] == [1.05, 1.05]
    assert cpu.summary(baseline) == {"median_us": 200.0, "iqr_us": [150.0, 250.0]}


def test_a_round_loads_each_row_beside_its_baselines() -> None:
    keys = ["limit", "bare_flask", "service_healthz", "sqla_get_item", "metrics_off"]
    keys += ["service_get_item", "dev_server"]
    assert cpu.blocks(keys) == [
        ["limit"],
        ["bare_flask", "service_healthz", "metrics_off"],
        ["sqla_get_item", "service_get_item"],
        ["dev_server"],
    ]


def http(ratio: float, iqr: list[float]) -> dict[str, dict[str, object]]:
    """A report's HTTP part with one comparison: the service's /healthz against bare Flask."""
    vs = {"ratio": ratio, "iqr": iqr, "added_us": 1.0, "rounds": 9}
    return {"service_healthz": {"cpu_vs": {"bare_flask": vs}}}


def test_the_target_cell_says_when_the_spread_is_wider_than_the_gap() -> None:
    (clear,) = table.cpu_targets(http(1.02, [1.01, 1.03]))
    assert clear.met
    assert clear.cell() == "CPU/req ≤ 1.10x bare Flask: met (1.02; IQR 1.01-1.03)"
    (close,) = table.cpu_targets(http(1.08, [1.03, 1.13]))
    assert close.met
    assert close.cell().endswith("IQR 1.03-1.13, wider than the gap)")
    (missed,) = table.cpu_targets(http(1.25, [1.2, 1.3]))
    assert not missed.met
    assert "MISSED (1.25; IQR 1.20-1.30)" in missed.cell()


def test_a_reading_is_shown_without_a_verdict() -> None:
    vs = {"ratio": 1.2, "iqr": [1.1, 1.3], "added_us": 40.0, "rounds": 9}
    (reading,) = table.cpu_targets({"bare_middlewares": {"cpu_vs": {"bare_flask": vs}}})
    assert not reading.judged
    assert reading.cell() == "CPU/req vs bare Flask: 1.2 (no target; IQR 1.10-1.30)"
