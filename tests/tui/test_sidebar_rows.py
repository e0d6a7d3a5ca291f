"""What the metrics sidebar says, row by row: live while a run streams, final after it,
and how a row is laid out in the ~30-column sidebar."""

from __future__ import annotations

from tui.widgets.metrics.figures import final_rows, live_rows, render_rows

FINISHED = {
    "ttfb_ms": 9.5, "ttft_ms": 160.0, "total_ms": 3140.0, "chunks": 201, "itl_p50_ms": 15.0,
    "itl_p95_ms": 20.0, "itl_max_ms": 23.0, "tpot_ms": 15.0, "decode_tps": 67.0, "prompt_tokens": 18,
    "completion_tokens": 201, "reasoning_tokens": 0, "cached_tokens": 0, "total_tokens": 219,
    "cost_usd": 0.000123, "retries": 1, "stream": True, "usage_source": "provider",
}  # fmt: skip


def test_before_the_first_byte_the_live_figures_say_they_are_waiting() -> None:
    assert live_rows(stream=True, elapsed_ms=120.0, ttft_ms=None, chunks=0, tokens=0, tps=None) == [
        ("", "#Live · streaming"),
        ("elapsed", "120 ms"),
        ("TTFB", "waiting…"),
        ("TTFT", "waiting…"),
        ("chunks", "0"),
        ("tokens", "~0"),
        ("speed", "—"),
    ]


def test_mid_stream_the_live_figures_are_shown_with_estimated_tokens_marked() -> None:
    rows = live_rows(
        stream=True, elapsed_ms=2350.0, ttft_ms=160.0, chunks=147, tokens=147, tps=67.2, ttfb_ms=9.5, decode_ms=2190.0
    )
    assert rows == [
        ("", "#Live · streaming"),
        ("elapsed", "2.35 s"),
        ("TTFB", "9.5 ms"),
        ("TTFT", "160 ms"),
        ("chunks", "147"),
        ("tokens", "~147"),
        ("speed", "~67.2 tok/s"),
    ]


def test_two_chunks_over_a_long_decode_give_no_live_speed_yet() -> None:
    """A rate from a burst of two chunks says nothing: it shows as a dash until more came."""
    rows = live_rows(stream=True, elapsed_ms=900.0, ttft_ms=160.0, chunks=2, tokens=2, tps=2.7, ttfb_ms=9.5, decode_ms=740.0)
    assert rows[-1] == ("speed", "—")


def test_a_quick_burst_of_chunks_gives_no_live_speed_until_a_tenth_of_a_second_of_decode() -> None:
    """Eight chunks within 40 ms of the first token give a rate of nothing in particular."""
    burst = live_rows(stream=True, elapsed_ms=200.0, ttft_ms=160.0, chunks=8, tokens=8, tps=175.0, decode_ms=40.0)
    assert burst[-1] == ("speed", "—")
    later = live_rows(stream=True, elapsed_ms=560.0, ttft_ms=160.0, chunks=8, tokens=8, tps=17.5, decode_ms=400.0)
    assert later[-1] == ("speed", "~17.5 tok/s")


def test_a_call_made_without_streaming_says_so_and_its_phase_is_a_line_of_its_own() -> None:
    rows = live_rows(
        stream=False, elapsed_ms=900.0, ttft_ms=None, chunks=0, tokens=0, tps=None,
        phase="HTTP 429 — retrying in 7 s (1/2)",
    )  # fmt: skip
    assert rows[0] == ("", "#Live · not streamed")
    assert rows[-1] == ("", "HTTP 429 — retrying in 7 s (1/2)")
    assert ("", "HTTP 429 — retrying in 7 s (1/2)") not in live_rows(
        stream=False, elapsed_ms=900.0, ttft_ms=None, chunks=0, tokens=0, tps=None
    )


def test_the_final_figures_of_a_run_with_provider_usage() -> None:
    rows = final_rows(FINISHED, status="ok", finish_reason="stop")
    assert rows == [
        ("", "#Timing"),
        ("TTFB", "9.5 ms"),
        ("TTFT", "160 ms"),
        ("total", "3.14 s"),
        ("chunks", "201"),
        ("ITL p50", "15 ms"),
        ("ITL p95", "20 ms"),
        ("ITL max", "23 ms"),
        ("TPOT", "15 ms"),
        ("decode", "67.0 tok/s"),
        ("", "#Tokens"),
        ("prompt", "18"),
        ("completion", "201"),
        ("reasoning", "0"),
        ("cached", "0"),
        ("total", "219"),
        ("cost", "$0.000123"),
        ("", "#Run"),
        ("status", "ok"),
        ("finish", "stop"),
        ("retries", "1"),
        ("stream", "yes"),
        ("request id", "—"),
    ]


def test_estimated_usage_marks_the_counts_it_estimated_and_the_cost_only() -> None:
    rows = dict(final_rows({**FINISHED, "usage_source": "estimated"}))
    shown = final_rows({**FINISHED, "usage_source": "estimated"})
    assert ("", "#Tokens · ~ estimated") in shown
    assert (rows["completion"], rows["cost"], rows["prompt"], rows["cached"]) == ("~201", "~$0.000123", "18", "0")
    assert ("total", "~219") in shown


def test_reasoning_tokens_are_marked_estimated_only_when_they_were() -> None:
    """A provider that streamed its reasoning without counting it: llmwb's estimate, marked."""
    estimated = dict(final_rows({**FINISHED, "reasoning_tokens": 40, "reasoning_estimated": True}))
    counted = dict(final_rows({**FINISHED, "reasoning_tokens": 40, "reasoning_estimated": False}))
    assert (estimated["reasoning"], counted["reasoning"]) == ("~40", "40")
    assert estimated["completion"] == "201"  # the provider's own count stays unmarked


def test_without_a_status_or_finish_reason_those_rows_are_left_out() -> None:
    labels = [label for label, _value in final_rows({"stream": False})]
    assert "status" not in labels and "finish" not in labels
    assert ("stream", "no") in final_rows({"stream": False})
    assert ("TTFT", "—") in final_rows({"stream": False})


def test_a_request_id_gets_a_line_of_its_own_shortened_in_the_middle() -> None:
    long_id = "req_0123456789abcdefghijklmnopqrstuvwxyz"
    rows = final_rows({**FINISHED, "request_id": long_id})
    assert rows[-2:] == [("request id", ""), ("", "req_01234567…nopqrstuvwxyz")]
    assert len(rows[-1][1]) == 26  # the sidebar's width: label and value columns
    assert final_rows({**FINISHED, "request_id": "req_short"})[-1] == ("", "req_short")
    exactly_wide = "req_" + "x" * 22  # 26 characters: the line's width, shown whole
    assert final_rows({**FINISHED, "request_id": exactly_wide})[-1] == ("", exactly_wide)


def test_rows_are_laid_out_as_label_and_right_aligned_value_with_a_blank_line_between_sections() -> None:
    shown = render_rows([("", "#Timing"), ("TTFT", "160 ms"), ("", "#Run"), ("", "HTTP 429 — retrying"), ("tokens", "~147")])
    assert shown.plain.split("\n") == [
        "Timing",
        "TTFT                160 ms",
        "",
        "Run",
        "HTTP 429 — retrying",
        "tokens                ~147",
    ]


def test_headings_stand_out_labels_and_notes_are_dimmed_and_estimates_are_in_the_warning_colour() -> None:
    shown = render_rows([("", "#Timing"), ("TTFT", "160 ms"), ("", "HTTP 429 — retrying"), ("tokens", "~147")])
    styled = [(shown.plain[span.start : span.end], span.style) for span in shown.spans]
    assert styled == [
        ("Timing", "bold $accent"),
        ("TTFT".ljust(11), "dim"),
        ("HTTP 429 — retrying", "dim"),
        ("tokens".ljust(11), "dim"),
        ("~147".rjust(15), "$text-warning"),
    ]  # "160 ms", measured, in the text's own colour
