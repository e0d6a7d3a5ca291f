"""The server's own timings (Ollama durations, llama.cpp `timings`) in one shape, and
the words they are shown in."""

from __future__ import annotations

import math

import pytest

from core.providers.base import Frame
from core.providers.openai_chat import OpenAIChatDecoder
from core.server_timings import from_llamacpp, from_ollama, server_details, server_rows, server_says

OLLAMA_DONE = {
    "done": True, "done_reason": "stop", "total_duration": 2_345_000_000, "load_duration": 1_200_000_000,
    "prompt_eval_count": 26, "prompt_eval_duration": 80_000_000, "eval_count": 41, "eval_duration": 1_000_000_000,
}  # fmt: skip
LLAMACPP_TIMINGS = {
    "prompt_n": 12, "prompt_ms": 35.2, "prompt_per_token_ms": 2.93, "prompt_per_second": 340.9,
    "predicted_n": 128, "predicted_ms": 1600.0, "predicted_per_token_ms": 12.5, "predicted_per_second": 80.0,
}  # fmt: skip


def test_ollama_nanoseconds_become_milliseconds_and_rates() -> None:
    assert from_ollama(OLLAMA_DONE) == {
        "source": "ollama", "load_ms": 1200.0, "prompt_tokens": 26, "prompt_ms": 80.0, "prompt_tps": 325.0,
        "decode_tokens": 41, "decode_ms": 1000.0, "decode_tps": 41.0, "total_ms": 2345.0,
    }  # fmt: skip
    assert server_says(from_ollama(OLLAMA_DONE)) == "load 1.2 s, prompt 80 ms, decode 41 tok/s"


def test_llamacpp_timings_are_kept_in_the_same_shape() -> None:
    timings = from_llamacpp(LLAMACPP_TIMINGS)
    assert timings == {
        "source": "llama.cpp", "prompt_tokens": 12, "prompt_ms": 35.2, "prompt_tps": 340.9,
        "decode_tokens": 128, "decode_ms": 1600.0, "decode_tps": 80.0, "total_ms": 1635.2,
    }  # fmt: skip
    assert server_says(timings) == "prompt 35 ms, decode 80 tok/s"
    assert server_details(timings) == (
        "prompt 12 tok in 35 ms (340.9 tok/s) · decode 128 tok in 1.6 s (80.0 tok/s) · total 1.6 s"
    )
    assert server_rows(timings) == [("prompt", "35 ms"), ("decode", "80.0 tok/s"), ("total", "1.6 s")]


@pytest.mark.parametrize("bad", ["80", -5, math.nan, math.inf, True, None, [1], {"x": 1}])
def test_hostile_values_are_left_out_not_shown(bad: object) -> None:
    timings = from_ollama({"load_duration": bad, "eval_count": 10, "eval_duration": 500_000_000})
    assert timings is not None and "load_ms" not in timings
    assert timings["decode_tps"] == 20.0
    assert from_llamacpp({"prompt_n": bad, "prompt_ms": bad}) is None  # nothing usable: nothing shown
    assert from_llamacpp(bad) is None


def test_nothing_to_say_is_none() -> None:
    assert from_ollama({"done": True}) is None
    assert server_says(None) is None and server_says({"source": "ollama"}) is None
    assert server_rows("junk") == [] and server_details(None) is None


def test_openai_decoder_normalises_llamacpp_timings_on_the_last_chunk() -> None:
    decoder = OpenAIChatDecoder(stream=True)
    last = (
        '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"id":"c","model":"gemma",'
        '"usage":{"prompt_tokens":12,"completion_tokens":128,"total_tokens":140},'
        '"timings":' + __import__("json").dumps(LLAMACPP_TIMINGS) + "}"
    )
    decoder.feed(Frame(0.0, "data: " + last, None, last))
    snapshot = decoder.response.snapshot()
    assert snapshot["timings"] == LLAMACPP_TIMINGS  # the raw object stays beside the normalised one
    assert snapshot["server_timings"]["decode_tps"] == 80.0
