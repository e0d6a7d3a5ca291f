"""Decoding Ollama's /api/chat: NDJSON lines (and the one non-streamed object) into
deltas and the final response, errors into error events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.events import ReasoningDelta, TextDelta, ToolCallDelta
from core.providers import base
from core.providers.base import Frame, ProviderError
from core.providers.ollama_native import OllamaChatDecoder


def line(obj: Any) -> Frame:
    text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
    return Frame(0.0, text, None, text)


def msg(**message: Any) -> dict[str, Any]:
    return {"model": "qwen3:0.6b", "created_at": "2025-01-01T00:00:00Z", "message": {"role": "assistant", **message}, "done": False}


DONE = {
    "model": "qwen3:0.6b", "created_at": "2025-01-01T00:00:01Z", "message": {"role": "assistant", "content": ""},
    "done": True, "done_reason": "stop", "total_duration": 1_500_000_000, "load_duration": 1_000_000_000,
    "prompt_eval_count": 11, "prompt_eval_duration": 100_000_000, "eval_count": 20, "eval_duration": 400_000_000,
}  # fmt: skip


def feed_all(decoder: OllamaChatDecoder, *objs: Any) -> list[Any]:
    events: list[Any] = []
    for obj in objs:
        events.extend(decoder.feed(line(obj)))
    decoder.finish()
    return events


def test_thinking_then_text_then_done_with_usage_and_server_timings() -> None:
    decoder = OllamaChatDecoder(stream=True)
    events = feed_all(decoder, msg(content="", thinking="Let me "), msg(content="", thinking="think."), msg(content="Hi"), msg(content=" there"), DONE)
    assert events == [ReasoningDelta("Let me "), ReasoningDelta("think."), TextDelta("Hi"), TextDelta(" there")]
    response = decoder.response.snapshot()
    assert (response["content"], response["reasoning"]) == ("Hi there", "Let me think.")
    assert (response["finish_reason"], response["provider_finish_reason"], response["model"]) == ("stop", "stop", "qwen3:0.6b")
    assert response["usage"] == {"prompt_tokens": 11, "completion_tokens": 20, "total_tokens": 31, "reasoning_tokens": 0, "cached_tokens": 0}
    timings = response["server_timings"]
    assert (timings["load_ms"], timings["prompt_ms"], timings["decode_tps"], timings["total_ms"]) == (1000.0, 100.0, 50.0, 1500.0)


def test_tool_calls_arrive_whole_with_arguments_as_json_text() -> None:
    decoder = OllamaChatDecoder(stream=True)
    calls = [
        {"id": "call_a", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "東京"}}},
        {"function": {"name": "get_time", "arguments": {}}},  # Ollama before 0.12: no id
    ]
    events = feed_all(decoder, msg(content="", tool_calls=calls), DONE)
    assert events == [
        ToolCallDelta(0, "call_a", "get_weather", '{"city":"東京"}'),
        ToolCallDelta(1, "call_1", "get_time", "{}"),
    ]
    response = decoder.response.snapshot()
    assert [c["arguments"] for c in response["tool_calls"]] == [{"city": "東京"}, {}]
    # Ollama says "stop" for a tool-calling turn; the turn still waits on tool results.
    assert (response["finish_reason"], response["provider_finish_reason"]) == ("tool_calls", "stop")


def test_length_is_the_normalised_length() -> None:
    decoder = OllamaChatDecoder(stream=True)
    feed_all(decoder, msg(content="cut"), {**DONE, "done_reason": "length"})
    assert decoder.response.snapshot()["finish_reason"] == "length"


def test_non_streamed_body_is_one_object() -> None:
    decoder = OllamaChatDecoder(stream=False)
    whole = {**DONE, "message": {"role": "assistant", "content": "Hello", "thinking": "hm"}}
    assert feed_all(decoder, whole) == [ReasoningDelta("hm"), TextDelta("Hello")]
    assert decoder.response.snapshot()["usage"]["completion_tokens"] == 20


def test_error_line_is_an_error_with_the_servers_message_and_keeps_the_partial_text() -> None:
    decoder = OllamaChatDecoder(stream=True)
    decoder.feed(line(msg(content="Half an ans")))
    with pytest.raises(ProviderError) as caught:
        decoder.feed(line({"error": "an error was encountered while running the model: out of memory"}))
    assert caught.value.error_type == base.PROVIDER_ERROR
    assert "out of memory" in caught.value.message
    assert decoder.response.content == "Half an ans"


@pytest.mark.parametrize(
    "bad",
    ['{"message":{"content":"cut sho', "[1, 2]", json.dumps(msg(content=7)), json.dumps(msg(tool_calls=[{"function": {"name": 3}}]))],
)
def test_malformed_lines_are_malformed_chunks(bad: str) -> None:
    with pytest.raises(ProviderError) as caught:
        OllamaChatDecoder(stream=True).feed(line(bad))
    assert caught.value.error_type == base.MALFORMED


def test_a_stream_without_its_done_line_was_cut() -> None:
    decoder = OllamaChatDecoder(stream=True)
    decoder.feed(line(msg(content="partial")))
    with pytest.raises(ProviderError) as caught:
        decoder.finish()
    assert caught.value.error_type == base.STREAM_CUT
    assert decoder.response.snapshot()["usage"] is None  # no counts arrived: llmwb estimates, and says so
