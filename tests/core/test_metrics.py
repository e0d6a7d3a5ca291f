"""The metric definitions in DESIGN.md, on a recorder fed hand-picked times."""

from __future__ import annotations

import pytest

from core.metrics import MetricsRecorder, Prices, decode_rate, estimate_tokens, live_figures, percentile

USAGE = {"prompt_tokens": 100, "completion_tokens": 11, "total_tokens": 111, "reasoning_tokens": 4, "cached_tokens": 60}


def recorder_at(*delta_times: float, stream: bool = True, last_byte: float | None = None) -> MetricsRecorder:
    """A recorder with t0 = 0, headers at 0.05 s and content deltas at `delta_times` (seconds)."""
    recorder = MetricsRecorder(stream=stream)
    recorder.start(at=0.0)
    recorder.on_headers(at=0.05)
    for at in delta_times:
        recorder.on_delta(at)
    recorder.last_byte_at = last_byte if last_byte is not None else delta_times[-1]
    return recorder


def test_percentile_is_nearest_rank():
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert percentile(values, 0.5) == 5.0
    assert percentile(values, 0.95) == 10.0
    assert percentile([7.0], 0.5) == percentile([7.0], 0.95) == 7.0
    assert percentile([1.0, 100.0], 0.5) == 1.0


def test_times_are_measured_from_t0():
    metrics = recorder_at(0.2, 0.25, 0.35, 0.45, last_byte=0.5).finish(usage=USAGE, output_text="x", prices=Prices())
    assert (metrics["ttfb_ms"], metrics["ttft_ms"], metrics["total_ms"]) == (50.0, 200.0, 500.0)
    assert metrics["chunks"] == 4
    # gaps 50, 100, 100 ms
    assert (metrics["itl_p50_ms"], metrics["itl_p95_ms"], metrics["itl_max_ms"]) == (100.0, 100.0, 100.0)


def test_tpot_and_decode_tps_use_completion_tokens_after_the_first():
    metrics = recorder_at(0.2, 0.3, last_byte=1.2).finish(usage=USAGE, output_text="x", prices=Prices())
    # (total − ttft) / (completion − 1) = 1000 ms / 10
    assert metrics["tpot_ms"] == 100.0
    assert metrics["decode_tps"] == 10.0
    assert decode_rate(200.0, 1200.0, 11) == (100.0, 10.0)
    assert decode_rate(200.0, 1200.0, 1) == (None, None)  # one token: no decode window
    assert decode_rate(None, 1200.0, 11) == (None, None)  # no content


def test_a_single_delta_has_no_gaps():
    metrics = recorder_at(0.2).finish(usage=USAGE, output_text="x", prices=Prices())
    assert metrics["itl_p50_ms"] is metrics["itl_p95_ms"] is metrics["itl_max_ms"] is None


def test_non_streamed_ttft_is_the_total():
    metrics = recorder_at(0.8, stream=False).finish(usage=USAGE, output_text="x", prices=Prices())
    assert metrics["ttft_ms"] == metrics["total_ms"] == 800.0
    assert metrics["tpot_ms"] is None and metrics["decode_tps"] is None
    assert metrics["stream"] is False and metrics["chunks"] == 1


def test_a_non_streamed_failure_without_content_has_no_ttft():
    """Like a streamed one: a 401 answered in 4 ms has no first token, not a TTFT of 4 ms."""
    for stream in (True, False):
        recorder = MetricsRecorder(stream=stream)
        recorder.start(at=0.0)
        recorder.on_headers(at=0.004)
        recorder.last_byte_at = 0.005
        metrics = recorder.finish(usage=None, output_text="", prices=Prices())
        assert metrics["ttft_ms"] is None and metrics["total_ms"] == 5.0


def test_provider_usage_is_taken_as_sent():
    metrics = recorder_at(0.1).finish(usage=USAGE, output_text="ignored", prices=Prices())
    assert metrics["usage_source"] == "provider"
    assert [metrics[k] for k in ("prompt_tokens", "completion_tokens", "reasoning_tokens", "cached_tokens", "total_tokens")] == [
        100, 11, 4, 60, 111,
    ]  # fmt: skip


def test_usage_is_estimated_when_the_provider_sent_none():
    metrics = recorder_at(0.1).finish(
        usage=None, output_text="r" * 9 + "t" * 10, reasoning_text="r" * 9, prompt_text="p" * 17, prices=Prices()
    )
    assert metrics["usage_source"] == "estimated"
    assert (metrics["prompt_tokens"], metrics["completion_tokens"], metrics["reasoning_tokens"]) == (5, 5, 3)
    assert metrics["total_tokens"] == 10 and metrics["cached_tokens"] == 0
    assert metrics["output_chars"] == 19
    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2


def test_usage_without_completion_tokens_is_estimated_but_keeps_the_prompt_count():
    metrics = recorder_at(0.1).finish(usage={"prompt_tokens": 42, "completion_tokens": None}, output_text="abcdefgh", prices=Prices())
    assert (metrics["usage_source"], metrics["prompt_tokens"], metrics["completion_tokens"]) == ("estimated", 42, 2)


def test_cost_prices_cached_input_apart():
    prices = Prices(input=3.0, cached_input=0.3, output=15.0)
    # 40 uncached x 3 + 60 cached x 0.3 + 11 out x 15 = 120 + 18 + 165 per million
    assert prices.cost(100, 60, 11) == pytest.approx(303 / 1_000_000, abs=1e-15)
    assert Prices(input=3.0, output=15.0).cost(100, 60, 11) == pytest.approx((300 + 165) / 1_000_000, abs=1e-15)
    metrics = recorder_at(0.1).finish(usage=USAGE, output_text="x", prices=prices)
    assert metrics["cost_usd"] == 0.000303


def test_no_content_leaves_ttft_empty_but_the_total_measured():
    recorder = MetricsRecorder()
    recorder.start(at=0.0)
    recorder.last_byte_at = 0.3
    metrics = recorder.finish(usage=None, output_text="", prices=Prices())
    assert (metrics["ttft_ms"], metrics["total_ms"], metrics["chunks"], metrics["completion_tokens"]) == (None, 300.0, 0, 0)


def test_live_figures_estimate_tokens_from_characters():
    recorder = recorder_at(0.0)
    live = live_figures(recorder, output_chars=41)
    assert live["tokens"] == 11 and live["chunks"] == 1 and live["ttft_ms"] == 0.0


def test_itl_p95_is_the_95th_percentile_of_many_gaps_not_the_90th():
    """With 20 gaps of 1..20 ms, p95 is the 19th (19 ms) — p90 would be 18, the max 20."""
    times = [0.1]
    for gap_ms in range(1, 21):
        times.append(times[-1] + gap_ms / 1000.0)
    metrics = recorder_at(*times).finish(usage=USAGE, output_text="x", prices=Prices())
    assert metrics["itl_p50_ms"] == pytest.approx(10.0, abs=1e-6)
    assert metrics["itl_p95_ms"] == pytest.approx(19.0, abs=1e-6)
    assert metrics["itl_max_ms"] == pytest.approx(20.0, abs=1e-6)
    assert metrics["chunks"] == 21


def test_a_free_cached_input_costs_nothing_rather_than_the_input_price():
    """A provider that caches for free (cached price 0) must not be billed the input price."""
    prices = Prices(input=3.0, cached_input=0.0, output=15.0)
    # 40 uncached x 3 + 60 cached x 0 + 11 out x 15
    assert prices.cost(100, 60, 11) == pytest.approx(285 / 1_000_000, abs=1e-15)


def test_the_providers_total_tokens_is_kept_when_it_is_not_prompt_plus_completion():
    """Some providers count more than prompt + completion in the total (e.g. tool tokens);
    the figure shown is theirs, not a sum llmwb made up."""
    usage = dict(USAGE, total_tokens=130)
    metrics = recorder_at(0.1).finish(usage=usage, output_text="x", prices=Prices())
    assert metrics["total_tokens"] == 130
    without_total = {k: v for k, v in USAGE.items() if k != "total_tokens"}
    assert recorder_at(0.1).finish(usage=without_total, output_text="x", prices=Prices())["total_tokens"] == 111


class FakeClock:
    """Stands in for perf_counter so a test can say exactly when "now" is."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_figures_are_milliseconds_from_a_nonzero_t0_to_the_microsecond(monkeypatch):
    """perf_counter never starts at 0: every figure subtracts t0, kept to 3 decimals."""
    fake = FakeClock(1000.0)
    monkeypatch.setattr("core.metrics.clock", fake)
    recorder = MetricsRecorder()
    recorder.start()  # t0 from the clock
    fake.now = 1000.0123456
    recorder.on_headers()  # headers from the clock
    for at in (1000.2000004, 1000.2104444, 1000.2336666):
        recorder.on_delta(at)
    fake.now = 1000.5432109
    assert recorder.elapsed_ms() == pytest.approx(543.2109, abs=1e-6)
    metrics = recorder.finish(usage=USAGE, output_text="x", prices=Prices())  # no last byte: now
    assert (metrics["ttfb_ms"], metrics["ttft_ms"], metrics["total_ms"]) == (12.346, 200.0, 543.211)
    # gaps 10.444, 23.2222 ms
    assert (metrics["itl_p50_ms"], metrics["itl_p95_ms"], metrics["itl_max_ms"]) == (10.444, 23.222, 23.222)
    recorder.last_byte_at = 1000.3337777
    assert recorder.finish(usage=USAGE, output_text="x", prices=Prices())["total_ms"] == 333.778


def test_decode_rate_keeps_three_and_two_decimals_and_needs_two_tokens_and_a_window():
    assert decode_rate(0.0, 7.0, 4) == (2.333, 428.57)
    assert decode_rate(100.0, 200.0, 2) == (100.0, 10.0)  # two tokens: one step
    assert decode_rate(100.0, 100.5, 2) == (0.5, 2000.0)  # a sub-millisecond window still counts
    assert decode_rate(100.0, 100.0, 5) == (None, None)  # first and last token together


def test_prices_never_go_negative_when_the_cache_covers_the_whole_prompt():
    assert Prices(input=1.0, cached_input=0.5, output=0.0).cost(10, 10, 0) == pytest.approx(5 / 1_000_000, abs=1e-15)
    # a tiny cost keeps its tenth decimal
    metrics = recorder_at(0.1).finish(
        usage={"prompt_tokens": 3, "completion_tokens": 1, "cached_tokens": 0}, output_text="x", prices=Prices(input=0.0123)
    )
    assert metrics["cost_usd"] == 0.0000000369 and metrics["total_tokens"] == 4


def test_missing_usage_fields_count_zero_not_one():
    metrics = recorder_at(0.1).finish(usage={"completion_tokens": 5}, output_text="x", prices=Prices())
    assert [metrics[k] for k in ("prompt_tokens", "reasoning_tokens", "cached_tokens", "total_tokens")] == [0, 0, 0, 5]


def test_the_run_facts_are_carried_into_the_metrics():
    recorder = recorder_at(0.1)
    recorder.request_id, recorder.retries = "req_42", 2
    metrics = recorder.finish(usage=None, output_text="abcd", prices=Prices())
    assert (metrics["request_id"], metrics["retries"]) == ("req_42", 2)
    # no prompt or reasoning text given: nothing estimated for them
    assert (metrics["prompt_tokens"], metrics["reasoning_tokens"]) == (0, 0)


def test_live_figures_come_from_the_stamps_and_rate_tokens_after_the_first(monkeypatch):
    fake = FakeClock(50.0)
    monkeypatch.setattr("core.metrics.clock", fake)
    recorder = MetricsRecorder()
    recorder.start()
    recorder.on_delta(50.1)
    fake.now = 50.3
    assert live_figures(recorder, output_chars=44)["tps"] is None  # one delta: no window to rate yet
    recorder.on_delta(50.6)
    fake.now = 50.8  # the consumer looks later: only elapsed moves with it
    live = live_figures(recorder, output_chars=44)  # 11 tokens: 10 after the first, in 500 ms of stamps
    assert live["elapsed_ms"] == pytest.approx(800.0)
    assert (live["ttft_ms"], live["last_delta_ms"], live["chunks"], live["tokens"]) == (100.0, 600.0, 2, 11)
    assert live["tps"] == pytest.approx(20.0)
    assert live["ttft_ms"] == recorder.finish(usage=None, output_text="x" * 44, prices=Prices())["ttft_ms"]
    before_content = MetricsRecorder()
    before_content.start()
    assert live_figures(before_content, output_chars=0)["tps"] is None
    assert live_figures(before_content, output_chars=0)["ttft_ms"] is None
