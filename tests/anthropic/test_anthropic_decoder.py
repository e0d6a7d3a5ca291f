"""The decoder on hand-written frames: what the simulator and the recordings don't send."""

from __future__ import annotations

import orjson
import pytest

from core.events import ReasoningDelta, TextDelta
from core.providers.anthropic_messages import AnthropicMessagesDecoder
from core.providers.base import Frame, ProviderError


def frame(event: str, payload: dict | str) -> Frame:
    data = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
    return Frame(at=0.0, raw=f"event: {event}\ndata: {data}", event=event, data=data)


def feed_all(decoder: AnthropicMessagesDecoder, frames: list[Frame]) -> list:
    return [event for f in frames for event in decoder.feed(f)]


START = {
    "type": "message_start",
    "message": {"id": "msg_1", "model": "claude-x", "usage": {"input_tokens": 20, "output_tokens": 1,
                "cache_creation_input_tokens": 300, "cache_read_input_tokens": 700}},
}  # fmt: skip


def test_cumulative_usage_overrides_and_cache_tokens_count_as_prompt():
    decoder = AnthropicMessagesDecoder(stream=True)
    feed_all(decoder, [
        frame("message_start", START),
        frame("message_delta", {"type": "message_delta", "delta": {"stop_reason": "max_tokens"},
                                "usage": {"output_tokens": 42, "input_tokens": 25}}),
        frame("message_stop", {"type": "message_stop"}),
    ])  # fmt: skip
    decoder.finish()
    usage = decoder.response.usage
    assert usage["prompt_tokens"] == 25 + 300 + 700
    assert usage["cached_tokens"] == 700 and usage["completion_tokens"] == 42
    assert usage["total_tokens"] == 1025 + 42
    assert usage["cache_creation_input_tokens"] == 300 and usage["input_tokens"] == 25
    assert decoder.response.snapshot()["finish_reason"] == "length"


def test_redacted_thinking_is_kept_opaque_beside_signed_thinking():
    decoder = AnthropicMessagesDecoder(stream=True)
    events = feed_all(decoder, [
        frame("message_start", START),
        frame("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "redacted_thinking", "data": "EncRypt3d"}}),
        frame("content_block_stop", {"type": "content_block_stop", "index": 0}),
        frame("content_block_start", {"type": "content_block_start", "index": 1,
                                      "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 1,
                                      "delta": {"type": "thinking_delta", "thinking": "Hmm."}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 1,
                                      "delta": {"type": "signature_delta", "signature": "c2ln"}}),
        frame("content_block_stop", {"type": "content_block_stop", "index": 1}),
        frame("content_block_start", {"type": "content_block_start", "index": 2,
                                      "content_block": {"type": "text", "text": ""}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 2,
                                      "delta": {"type": "text_delta", "text": "Done."}}),
        frame("some_future_event", {"type": "some_future_event"}),
        frame("message_stop", {"type": "message_stop"}),
    ])  # fmt: skip
    assert events == [ReasoningDelta("Hmm."), TextDelta("Done.")]
    assert decoder.response.extras["thinking_blocks"] == [
        {"redacted_data": "EncRypt3d"},
        {"thinking": "Hmm.", "signature": "c2ln"},
    ]


def test_whole_message_keeps_redacted_thinking_and_tool_input():
    decoder = AnthropicMessagesDecoder(stream=False)
    message = {
        "id": "msg_2", "type": "message", "model": "claude-x", "stop_reason": "tool_use",
        "usage": {"input_tokens": 5, "output_tokens": 7},
        "content": [
            {"type": "redacted_thinking", "data": "xyz"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": "é"}},
        ],
    }  # fmt: skip
    decoder.feed(Frame(at=0.0, raw="", event=None, data=orjson.dumps(message).decode()))
    decoder.finish()
    final = decoder.response.snapshot()
    assert final["thinking_blocks"] == [{"redacted_data": "xyz"}]
    assert final["tool_calls"][0]["arguments_raw"] == '{"a": "é"}'
    assert final["finish_reason"] == "tool_calls" and final["usage"]["prompt_tokens"] == 5


@pytest.mark.parametrize(
    ("kind", "error_type"),
    [("overloaded_error", "overloaded"), ("rate_limit_error", "rate_limit"), ("api_error", "server_error"),
     ("something_new", "provider_error")],
)  # fmt: skip
def test_error_events_map_to_error_types(kind, error_type):
    decoder = AnthropicMessagesDecoder(stream=True)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(frame("error", {"type": "error", "error": {"type": kind, "message": "nope"}}))
    assert caught.value.error_type == error_type
    assert caught.value.message == f"provider error in stream: nope ({kind})"


def test_ping_and_malformed_frames():
    decoder = AnthropicMessagesDecoder(stream=True)
    assert decoder.feed(frame("ping", {"type": "ping"})) == []
    with pytest.raises(ProviderError) as caught:
        decoder.feed(frame("content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"ty'))
    assert caught.value.error_type == "malformed_chunk"
    with pytest.raises(ProviderError) as cut:
        decoder.finish()
    assert cut.value.error_type == "stream_cut"


@pytest.mark.parametrize(
    "event, payload",
    [
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": "text"}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": 7}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": ["text_delta"]}),
    ],
)
def test_json_in_a_shape_no_server_sends_is_a_malformed_chunk(event, payload):
    """Not an `internal` error, and nothing half-typed left to break the final join."""
    decoder = AnthropicMessagesDecoder(stream=True)
    feed_all(decoder, [
        frame("message_start", START),
        frame("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "kept"}}),
    ])  # fmt: skip
    with pytest.raises(ProviderError, match=r"malformed chunk") as caught:
        decoder.feed(frame(event, payload))
    assert caught.value.error_type == "malformed_chunk"
    assert decoder.response.snapshot()["content"] == "kept"


def test_usage_that_is_not_an_object_is_noted_not_fatal():
    """A bad usage value costs the usage, not the answer (tests/hostile covers the rest)."""
    decoder = AnthropicMessagesDecoder(stream=True)
    feed_all(decoder, [
        frame("message_start", START),
        frame("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "kept"}}),
        frame("message_delta", {"type": "message_delta", "delta": {}, "usage": "many"}),
    ])  # fmt: skip
    snapshot = decoder.response.snapshot()
    assert (snapshot["content"], snapshot["usage"]) == ("kept", None)
    assert "usage is str" in snapshot["usage_note"]


def test_a_null_in_message_delta_usage_keeps_the_cache_counts_from_message_start():
    """The API sends `"cache_read_input_tokens": null` in message_delta: not a reset to 0."""
    decoder = AnthropicMessagesDecoder(stream=True)
    feed_all(decoder, [
        frame("message_start", START),
        frame("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                "usage": {"output_tokens": 9, "input_tokens": None,
                                          "cache_read_input_tokens": None, "cache_creation_input_tokens": None}}),
        frame("message_stop", {"type": "message_stop"}),
    ])  # fmt: skip
    decoder.finish()
    usage = decoder.response.usage
    assert (usage["prompt_tokens"], usage["cached_tokens"], usage["completion_tokens"]) == (20 + 300 + 700, 700, 9)
    assert usage["cache_creation_input_tokens"] == 300


def test_several_signature_deltas_join_into_one_signature():
    decoder = AnthropicMessagesDecoder(stream=True)
    feed_all(decoder, [
        frame("message_start", START),
        frame("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "thinking_delta", "thinking": "Let me "}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "thinking_delta", "thinking": "think."}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "signature_delta", "signature": "AAA"}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "signature_delta", "signature": "BBB"}}),
        frame("content_block_stop", {"type": "content_block_stop", "index": 0}),
        frame("message_stop", {"type": "message_stop"}),
    ])  # fmt: skip
    assert decoder.response.extras["thinking_blocks"] == [{"thinking": "Let me think.", "signature": "AAABBB"}]


def test_input_json_delta_on_a_text_block_adds_no_tool_call():
    """Arguments only belong to a tool_use block; a stray one must not invent a call."""
    decoder = AnthropicMessagesDecoder(stream=True)
    events = feed_all(decoder, [
        frame("message_start", START),
        frame("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "input_json_delta", "partial_json": "{\"a\":1}"}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "text_delta", "text": "hi"}}),
        frame("content_block_start", {"type": "content_block_start", "index": 1,
                                      "content_block": {"type": "tool_use", "id": "toolu_9", "name": "f", "input": {}}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 1,
                                      "delta": {"type": "input_json_delta", "partial_json": "{\"b\":"}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 1,
                                      "delta": {"type": "input_json_delta", "partial_json": "2}"}}),
        frame("message_stop", {"type": "message_stop"}),
    ])  # fmt: skip
    decoder.finish()
    assert [type(e).__name__ for e in events] == ["TextDelta", "ToolCallDelta", "ToolCallDelta", "ToolCallDelta"]
    calls = decoder.response.snapshot()["tool_calls"]
    assert [(c["index"], c["id"], c["name"], c["arguments"]) for c in calls] == [(0, "toolu_9", "f", {"b": 2})]


@pytest.mark.parametrize(
    ("kind", "error_type"),
    [("authentication_error", "auth"), ("permission_error", "auth"), ("not_found_error", "not_found"),
     ("invalid_request_error", "bad_request"), ("request_too_large", "bad_request")],
)  # fmt: skip
def test_the_other_mid_stream_error_types(kind, error_type):
    decoder = AnthropicMessagesDecoder(stream=True)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(frame("error", {"type": "error", "error": {"type": kind, "message": "no"}}))
    assert caught.value.error_type == error_type
