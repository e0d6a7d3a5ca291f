"""The server's own timings at their edges: a zero is a figure (but no rate), a lone
figure is worth showing, rates and milliseconds keep the precision shown, llama.cpp's
own rates win over computed ones, and the words a duration, a rate or a missing phase
part are shown in — the sidebar, the compare column and the run details."""

from __future__ import annotations

import pytest

from core.server_timings import from_llamacpp, from_ollama, server_details, server_rows, server_says


def test_zeros_are_figures_but_give_no_rate():
    assert from_ollama({"load_duration": 0, "eval_count": 0, "eval_duration": 0}) == {
        "source": "ollama", "load_ms": 0.0, "decode_tokens": 0, "decode_ms": 0.0,
    }  # fmt: skip
    assert from_llamacpp({"prompt_n": 0, "prompt_ms": 0}) == {"source": "llama.cpp", "prompt_tokens": 0, "prompt_ms": 0.0}


def test_one_figure_alone_is_kept():
    assert from_ollama({"total_duration": 5_000_000}) == {"source": "ollama", "total_ms": 5.0}
    assert from_llamacpp({"predicted_n": 7}) == {"source": "llama.cpp", "decode_tokens": 7}


def test_ollama_milliseconds_keep_three_decimals_and_rates_two():
    timings = from_ollama({"prompt_eval_count": 10, "prompt_eval_duration": 3_000_000, "eval_count": 7.9,
                           "eval_duration": 1_234_567})  # fmt: skip
    assert timings == {
        "source": "ollama", "prompt_tokens": 10, "prompt_ms": 3.0, "prompt_tps": 3333.33,
        "decode_tokens": 7, "decode_ms": 1.235, "decode_tps": 5668.02,
    }  # fmt: skip


def test_llamacpp_rates_are_computed_when_the_server_gives_none_and_rounded_when_it_does():
    computed = from_llamacpp({"prompt_n": 10, "prompt_ms": 4.0, "predicted_n": 3, "predicted_ms": 7.0})
    assert computed == {
        "source": "llama.cpp", "prompt_tokens": 10, "prompt_ms": 4.0, "prompt_tps": 2500.0,
        "decode_tokens": 3, "decode_ms": 7.0, "decode_tps": 428.57, "total_ms": 11.0,
    }  # fmt: skip
    given = from_llamacpp({"prompt_per_second": 340.9123, "predicted_per_second": 80.006, "prompt_ms": 0.5004, "predicted_ms": 2.0})
    assert given == {
        "source": "llama.cpp", "prompt_ms": 0.5004, "prompt_tps": 340.91, "decode_ms": 2.0, "decode_tps": 80.01, "total_ms": 2.5,
    }  # fmt: skip


@pytest.mark.parametrize("only", [{"prompt_ms": 35.0}, {"predicted_ms": 35.0}])
def test_llamacpp_total_needs_both_phases(only):
    assert "total_ms" not in from_llamacpp(only)


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(0.04, "0.0 ms"), (9.5, "9.5 ms"), (9.96, "10.0 ms"), (10, "10 ms"), (999, "999 ms"), (1000, "1.0 s"), (61_500, "61.5 s")],
)
def test_a_duration_is_shown_with_the_precision_its_size_needs(ms, shown):
    assert server_rows({"load_ms": ms}) == [("load", shown)]


def test_the_one_line_summary_falls_back_to_decode_time_without_a_rate():
    assert server_says({"source": "ollama", "decode_ms": 1500.0}) == "decode 1.5 s"
    assert server_says({"source": "x", "prompt_ms": 80.0, "decode_tps": 41.4}) == "prompt 80 ms, decode 41 tok/s"
    assert server_says({"source": "x", "total_ms": 80.0}) is None  # the summary leaves total out


def test_the_narrow_column_rows_in_order_with_a_rate_or_else_a_decode_time():
    assert server_rows({"source": "x", "load_ms": 5.0, "prompt_ms": 20.0, "decode_tps": 1234.56, "total_ms": 2500.0}) == [
        ("load", "5.0 ms"), ("prompt", "20 ms"), ("decode", "1,234.6 tok/s"), ("total", "2.5 s"),
    ]  # fmt: skip
    assert server_rows({"source": "x", "decode_ms": 40.0}) == [("decode", "40 ms")]
    assert server_rows({"source": "x"}) == []


def test_the_details_line_shows_each_phase_with_what_it_has():
    assert server_details({"source": "x", "prompt_tokens": 1024}) == "prompt 1,024 tok"
    assert server_details({"source": "x", "decode_ms": 1300.0, "decode_tps": 2345.67}) == "decode in 1.3 s (2,345.7 tok/s)"
    assert server_details({"source": "x", "decode_tps": 50.0}) is None  # a rate alone names no phase
    assert server_details({"source": "x", "load_ms": 120.0, "total_ms": 1800.0}) == "load 120 ms · total 1.8 s"
    assert server_details({"source": "x"}) is None
