"""The OpenAI chunk decoder on hand-written frames: tool-call assembly (Ollama's
index collisions included), usage shapes, errors inside a 200, odd endings."""

from __future__ import annotations

import orjson
import pytest

from core.events import ReasoningDelta, TextDelta, ToolCallDelta
from core.providers.base import Frame, ProviderError
from core.providers.openai_chat import OpenAIChatDecoder, normalise_usage


def feed_all(decoder: OpenAIChatDecoder, *payloads) -> list:
    events = []
    for payload in payloads:
        data = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
        events.extend(decoder.feed(Frame(0.0, "data: " + data, None, data)))
    return events


def delta(**fields) -> dict:
    return {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": fields, "finish_reason": None}]}


def call(index, call_id=None, name=None, arguments=None) -> dict:
    function = {k: v for k, v in (("name", name), ("arguments", arguments)) if v is not None}
    return {k: v for k, v in (("index", index), ("id", call_id), ("type", "function" if call_id else None), ("function", function)) if v is not None}


def finish(reason: str, usage=None) -> dict:
    return {"choices": [{"index": 0, "delta": {}, "finish_reason": reason}], **({"usage": usage} if usage else {})}


def test_parallel_calls_by_index_with_fragments():
    decoder = OpenAIChatDecoder(stream=True)
    events = feed_all(
        decoder,
        delta(tool_calls=[call(0, "call_A", "get_weather", "")]),
        delta(tool_calls=[call(0, arguments='{"ci')]),
        delta(tool_calls=[call(1, "call_B", "get_time", '{"tz"')]),
        delta(tool_calls=[call(0, arguments='ty": "东京"}')]),
        delta(tool_calls=[call(1, arguments=': "UTC"}')]),
        finish("tool_calls"),
        "[DONE]",
    )
    decoder.finish()
    calls = decoder.response.snapshot()["tool_calls"]
    assert [(c["index"], c["id"], c["name"], c["arguments"]) for c in calls] == [
        (0, "call_A", "get_weather", {"city": "东京"}),
        (1, "call_B", "get_time", {"tz": "UTC"}),
    ]
    assert [(e.index, e.arguments_delta) for e in events] == [(0, ""), (0, '{"ci'), (1, '{"tz"'), (0, 'ty": "东京"}'), (1, ': "UTC"}')]


def test_ollama_index_zero_for_every_call_is_told_apart_by_id():
    decoder = OpenAIChatDecoder(stream=True)
    events = feed_all(
        decoder,
        delta(tool_calls=[call(0, "call_1", "get_weather", '{"city": "Paris"}')]),
        delta(tool_calls=[call(0, "call_2", "get_weather", '{"city": "Tokyo"}')]),
        delta(tool_calls=[call(0, "call_3", "get_time", "{}")]),
        finish("tool_calls"),
        "[DONE]",
    )
    calls = decoder.response.snapshot()["tool_calls"]
    assert [(c["index"], c["id"], c["arguments"]) for c in calls] == [
        (0, "call_1", {"city": "Paris"}),
        (1, "call_2", {"city": "Tokyo"}),
        (2, "call_3", {}),
    ]
    assert [e.index for e in events] == [0, 1, 2]


def test_a_repeated_id_on_every_fragment_stays_one_call():
    decoder = OpenAIChatDecoder(stream=True)
    feed_all(
        decoder,
        delta(tool_calls=[call(0, "call_X", "f", '{"a"')]),
        delta(tool_calls=[call(0, "call_X", None, ": 1}")]),
    )
    [only] = decoder.response.snapshot()["tool_calls"]
    assert (only["id"], only["arguments"]) == ("call_X", {"a": 1})


def test_collisions_after_a_fragmented_call_continue_the_newest_slot():
    decoder = OpenAIChatDecoder(stream=True)
    feed_all(
        decoder,
        delta(tool_calls=[call(0, "call_1", "f", '{"n": 1}')]),
        delta(tool_calls=[call(0, "call_2", "g", '{"n"')]),
        delta(tool_calls=[call(0, arguments=": 2}")]),  # no id: belongs to call_2
    )
    calls = decoder.response.snapshot()["tool_calls"]
    assert [(c["id"], c["arguments"]) for c in calls] == [("call_1", {"n": 1}), ("call_2", {"n": 2})]


def test_invalid_arguments_are_kept_raw():
    decoder = OpenAIChatDecoder(stream=True)
    feed_all(decoder, delta(tool_calls=[call(0, "c", "f", '{"a": ')]))
    [entry] = decoder.response.snapshot()["tool_calls"]
    assert (entry["arguments"], entry["arguments_raw"], entry["arguments_valid"]) == ('{"a": ', '{"a": ', False)


def test_reasoning_content_and_reasoning_are_both_read():
    decoder = OpenAIChatDecoder(stream=True)
    events = feed_all(decoder, delta(reasoning_content="deep"), delta(reasoning="seek"), delta(content="ok", reasoning=None))
    assert events == [ReasoningDelta("deep"), ReasoningDelta("seek"), TextDelta("ok")]


def test_usage_shapes_are_normalised():
    openai_usage = {
        "prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70,
        "prompt_tokens_details": {"cached_tokens": 30}, "completion_tokens_details": {"reasoning_tokens": 8},
    }  # fmt: skip
    assert normalise_usage(openai_usage) == {
        "prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70, "reasoning_tokens": 8, "cached_tokens": 30,
    }  # fmt: skip
    deepseek = {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70, "prompt_cache_hit_tokens": 12}
    assert normalise_usage(deepseek)["cached_tokens"] == 12
    bare = normalise_usage({"prompt_tokens": 5, "completion_tokens": 1})
    assert (bare["reasoning_tokens"], bare["cached_tokens"], bare["total_tokens"]) == (0, 0, None)


def test_the_usage_chunk_with_empty_or_null_choices():
    decoder = OpenAIChatDecoder(stream=True)
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    feed_all(decoder, delta(content="hi"), finish("stop"), {"choices": [], "usage": usage}, {"choices": None, "usage": usage}, "[DONE]")
    decoder.finish()
    assert decoder.response.usage["completion_tokens"] == 2


def test_llama_cpp_timings_are_kept():
    decoder = OpenAIChatDecoder(stream=True)
    feed_all(decoder, delta(content="x"), {**finish("stop"), "timings": {"predicted_per_second": 41.5}})
    assert decoder.response.snapshot()["timings"] == {"predicted_per_second": 41.5}


@pytest.mark.parametrize(
    ("error", "error_type"),
    [
        ({"message": "Overloaded", "type": "server_error", "code": "overloaded"}, "overloaded"),
        ({"message": "Too many", "code": 429}, "rate_limit"),
        ({"message": "upstream died", "code": 502}, "server_error"),
        ({"message": "odd"}, "provider_error"),
        ("plain string", "provider_error"),
    ],
)
def test_an_error_payload_is_an_error_even_mid_stream(error, error_type):
    decoder = OpenAIChatDecoder(stream=True)
    feed_all(decoder, delta(content="partial"))
    with pytest.raises(ProviderError) as raised:
        feed_all(decoder, {"error": error})
    assert raised.value.error_type == error_type
    assert raised.value.message.startswith("provider error in stream: ")
    assert decoder.response.content == "partial"


def test_malformed_chunks():
    decoder = OpenAIChatDecoder(stream=True)
    with pytest.raises(ProviderError, match=r"malformed chunk \(not JSON\)") as raised:
        feed_all(decoder, '{"choices": [{"delta": {"content": "cut sho')
    assert raised.value.error_type == "malformed_chunk"
    with pytest.raises(ProviderError, match=r"not an object"):
        feed_all(decoder, "[1, 2]")


def test_an_end_without_done_or_finish_reason_is_a_cut():
    decoder = OpenAIChatDecoder(stream=True)
    feed_all(decoder, delta(content="half"))
    with pytest.raises(ProviderError) as raised:
        decoder.finish()
    assert raised.value.error_type == "stream_cut"


def test_an_end_after_a_finish_reason_without_done_is_whole():
    decoder = OpenAIChatDecoder(stream=True)
    feed_all(decoder, delta(content="all"), finish("length"))
    decoder.finish()
    snapshot = decoder.response.snapshot()
    assert (snapshot["finish_reason"], snapshot["provider_finish_reason"]) == ("length", "length")


def test_only_the_first_choice_is_assembled():
    decoder = OpenAIChatDecoder(stream=True)
    second = {"choices": [{"index": 1, "delta": {"content": "other"}, "finish_reason": None}]}
    assert feed_all(decoder, delta(content="one"), second) == [TextDelta("one")]


def test_a_whole_completion_yields_one_event_per_part():
    decoder = OpenAIChatDecoder(stream=False)
    body = {
        "id": "chatcmpl-9", "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "content": "text", "reasoning_content": "why",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}],
        }}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }  # fmt: skip
    events = feed_all(decoder, body)
    decoder.finish()
    assert events == [ReasoningDelta("why"), TextDelta("text"), ToolCallDelta(0, "c1", "f", '{"a": 1}')]
    snapshot = decoder.response.snapshot()
    assert (snapshot["id"], snapshot["finish_reason"], snapshot["usage"]["total_tokens"]) == ("chatcmpl-9", "tool_calls", 3)


@pytest.mark.parametrize(
    "payload",
    [
        {"choices": ["not an object"]},
        {"choices": [{"index": 0, "delta": "text"}]},
        {"choices": [{"index": 0, "delta": {"content": 5}}]},
        {"choices": [{"index": 0, "delta": {"reasoning": ["a"]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [call(0, "c", "f", {"city": "Paris"})]}}]},
    ],
)
def test_json_in_a_shape_no_server_sends_is_a_malformed_chunk(payload):
    """Not an `internal` error, and nothing half-typed left to break the final join."""
    decoder = OpenAIChatDecoder(stream=True)
    feed_all(decoder, delta(content="kept"))
    with pytest.raises(ProviderError, match=r"malformed chunk") as raised:
        feed_all(decoder, payload)
    assert raised.value.error_type == "malformed_chunk"
    assert decoder.response.snapshot()["content"] == "kept"


def test_usage_that_is_not_an_object_is_noted_not_fatal():
    """A bad usage value costs the usage, not the answer (tests/hostile covers the rest)."""
    decoder = OpenAIChatDecoder(stream=True)
    feed_all(decoder, delta(content="kept"))
    feed_all(decoder, {"usage": "lots", "choices": []})
    snapshot = decoder.response.snapshot()
    assert (snapshot["content"], snapshot["usage"]) == ("kept", None)
    assert "usage is str" in snapshot["usage_note"]


def test_a_whole_response_with_a_non_text_content_is_a_malformed_chunk():
    decoder = OpenAIChatDecoder(stream=False)
    with pytest.raises(ProviderError, match=r"malformed chunk") as raised:
        feed_all(decoder, {"choices": [{"index": 0, "message": {"content": {"text": "x"}}, "finish_reason": "stop"}]})
    assert raised.value.error_type == "malformed_chunk"
