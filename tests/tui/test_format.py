"""tui.format: one way to write each figure, in the app and the CLI."""

from __future__ import annotations

from types import SimpleNamespace

from tui import format as fmt


def test_durations_read_the_same_everywhere() -> None:
    assert fmt.duration(0.42) == "0.4 ms"
    assert fmt.duration(152.34) == "152 ms"
    assert fmt.duration(2345.6) == "2.35 s"
    assert fmt.duration(12_345.0) == "12.3 s"
    assert fmt.duration(247_000) == "4 m 07 s"
    assert fmt.duration(None) == fmt.duration("fast") == fmt.duration(True) == "—"
    assert fmt.duration(float("nan")) == fmt.tokens(float("inf")) == fmt.cost(float("nan")) == "—"


def test_costs_keep_sub_cent_digits_and_mark_estimates() -> None:
    assert fmt.cost(0.00012345) == "$0.000123"
    assert fmt.cost(0.5) == "$0.5000"
    assert fmt.cost(1234.5) == "$1,234.50"
    assert fmt.cost(0) == "$0"
    assert fmt.cost(0.00012345, estimated=True) == "~$0.000123"
    assert fmt.cost(None) == "—"


def test_token_counts_carry_one_leading_estimated_mark() -> None:
    assert fmt.tokens(1234) == "1,234"
    assert fmt.tokens(16, estimated=True) == "~16"
    assert fmt.run_tokens({"prompt_tokens": 12, "completion_tokens": 40, "usage_source": "estimated"}) == "~12+40"
    assert fmt.run_tokens({}) == "—"


def test_no_rate_for_a_burst_too_short_to_mean_anything() -> None:
    # Three chunks in a fraction of a millisecond once read as "~21,739 tok/s".
    burst = {"decode_tps": 21_739.1, "chunks": 3, "ttft_ms": 40.0, "total_ms": 40.1, "stream": True}
    assert fmt.decode_rate(burst) == "—"
    few_but_slow = {**burst, "chunks": 50, "total_ms": 90.0}  # 50 ms of decode
    assert fmt.decode_rate(few_but_slow) == "—"
    real = {**burst, "chunks": 50, "decode_tps": 41.25, "total_ms": 1500.0}
    assert fmt.decode_rate(real) == "41.2 tok/s"
    assert fmt.decode_rate({**real, "usage_source": "estimated"}) == "~41.2 tok/s"
    assert fmt.rate(41.25, chunks=4, decode_ms=2000) == "—"


def test_summary_rate_needs_a_decode_window() -> None:
    row = SimpleNamespace(decode_tps=900.0, ttft_ms=100.0, total_ms=120.0, usage_estimated=False)
    assert fmt.summary_rate(row) == "—"
    row.total_ms = 2100.0
    assert fmt.summary_rate(row) == "900.0 tok/s"


def test_the_best_rate_mark_never_goes_to_a_hidden_rate() -> None:
    from core.compare import SummaryRow, best_marks

    def row(tps: float, total: float) -> SummaryRow:
        return SummaryRow("m", "stream", "ok", None, 100.0, total, tps, 1, 9, False, 0.0, "stop", None)

    burst = row(9_000.0, 111.0)  # 11 ms of decode: shown as —
    assert best_marks([burst, row(42.7, 950.0), row(41.0, 982.0)])["decode_tps"] == 0  # what core alone picks
    assert best_marks(fmt.shown_rates([burst, row(42.7, 950.0), row(41.0, 982.0)]))["decode_tps"] == 1
