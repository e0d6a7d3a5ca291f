"""The Anthropic decoder on frames the recordings don't carry: text and thinking that
arrive in `content_block_start`, a whole message with signed thinking, and the words a
user reads when a body is not what the API sends."""

from __future__ import annotations

import orjson
import pytest

from core.events import ReasoningDelta, TextDelta, ToolCallDelta
from core.providers.anthropic_messages import AnthropicMessagesAdapter, AnthropicMessagesDecoder
from core.providers.base import Frame, ProviderError
from core.store.models import ModelConfig


def frame(event: str | None, payload: dict | str | list) -> Frame:
    data = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
    return Frame(at=0.0, raw=f"event: {event}\ndata: {data}", event=event, data=data)


def streamed(*frames: Frame) -> tuple[AnthropicMessagesDecoder, list]:
    decoder = AnthropicMessagesDecoder(stream=True)
    return decoder, [event for f in frames for event in decoder.feed(f)]


START = frame("message_start", {"type": "message_start", "message": {"id": "msg_e", "model": "claude-e",
                                                                   "usage": {"input_tokens": 4, "output_tokens": 1}}})  # fmt: skip
STOP = frame("message_stop", {"type": "message_stop"})


def test_text_and_thinking_carried_by_content_block_start_are_shown():
    decoder, events = streamed(
        START,
        frame("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "thinking", "thinking": "Opening thought. "}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "thinking_delta", "thinking": "More."}}),
        frame("content_block_stop", {"type": "content_block_stop", "index": 0}),
        frame("content_block_start", {"type": "content_block_start", "index": 1,
                                      "content_block": {"type": "text", "text": "Hello"}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 1,
                                      "delta": {"type": "text_delta", "text": ", world"}}),
        frame("content_block_stop", {"type": "content_block_stop", "index": 1}),
        STOP,
    )  # fmt: skip
    decoder.finish()
    assert events == [ReasoningDelta("Opening thought. "), ReasoningDelta("More."), TextDelta("Hello"), TextDelta(", world")]
    final = decoder.response.snapshot()
    assert (final["content"], final["reasoning"]) == ("Hello, world", "Opening thought. More.")
    assert final["thinking_blocks"] == [{"thinking": "Opening thought. More.", "signature": None}]


def test_a_tool_call_is_shown_when_its_block_starts_and_numbered_in_order():
    _, events = streamed(
        START,
        frame("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}}),
        frame("content_block_start", {"type": "content_block_start", "index": 1,
                                      "content_block": {"type": "tool_use", "id": "toolu_a", "name": "first", "input": {}}}),
        frame("content_block_start", {"type": "content_block_start", "index": 2,
                                      "content_block": {"type": "tool_use", "id": "toolu_b", "name": "second", "input": {}}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 2,
                                      "delta": {"type": "input_json_delta", "partial_json": ""}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 2,
                                      "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
    )  # fmt: skip
    assert events == [
        ToolCallDelta(0, "toolu_a", "first", ""),
        ToolCallDelta(1, "toolu_b", "second", ""),
        ToolCallDelta(1, None, None, "{}"),
    ]


def test_deltas_for_a_block_that_never_started_show_only_text():
    decoder, events = streamed(
        START,
        frame("content_block_delta", {"type": "content_block_delta", "index": 3,
                                      "delta": {"type": "thinking_delta", "thinking": "orphan"}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 3,
                                      "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
        frame("content_block_delta", {"type": "content_block_delta", "index": 3,
                                      "delta": {"type": "text_delta", "text": "still text"}}),
        frame("content_block_stop", {"type": "content_block_stop", "index": 3}),
        STOP,
    )  # fmt: skip
    decoder.finish()
    assert events == [TextDelta("still text")]
    assert "thinking_blocks" not in decoder.response.snapshot()


def test_a_whole_message_keeps_text_thinking_and_its_signature():
    decoder = AnthropicMessagesDecoder(stream=False)
    message = {
        "id": "msg_w", "type": "message", "role": "assistant", "model": "claude-w", "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 5},
        "content": [
            {"type": "thinking", "thinking": "Reasoned.", "signature": "sig=="},
            {"type": "text", "text": "Answer."},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
            {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {"n": 1}},
        ],
    }  # fmt: skip
    events = decoder.feed(frame(None, message))
    decoder.finish()
    assert events == [ReasoningDelta("Reasoned."), TextDelta("Answer."),
                      ToolCallDelta(0, "toolu_1", "f", "{}"), ToolCallDelta(1, "toolu_2", "g", '{"n": 1}')]  # fmt: skip
    final = decoder.response.snapshot()
    assert final["thinking_blocks"] == [{"thinking": "Reasoned.", "signature": "sig=="}]
    assert (final["id"], final["model"], final["finish_reason"]) == ("msg_w", "claude-w", "stop")
    assert (final["usage"]["prompt_tokens"], final["usage"]["cached_tokens"], final["usage"]["total_tokens"]) == (15, 5, 35)


@pytest.mark.parametrize("body", [{"id": "x", "role": "assistant"}, {"type": "completion", "completion": "hi"}])
def test_a_whole_body_that_is_not_a_message_says_so(body):
    decoder = AnthropicMessagesDecoder(stream=False)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(frame(None, body))
    assert caught.value.error_type == "malformed_chunk"
    assert caught.value.message == f"response is not a message: {str(body)[:120]!r}"


@pytest.mark.parametrize(
    ("event", "data", "error_type", "said"),
    [
        ("content_block_delta", '{"type": "content_block_delta", "ind', "malformed_chunk",
         "malformed chunk (not JSON): '{\"type\": \"content_block_delta\", \"ind'"),
        ("content_block_delta", "[1, 2]", "malformed_chunk", "malformed chunk (not an object): '[1, 2]'"),
        ("error", "upstream exploded", "provider_error", "upstream exploded"),
        ("error", '"overloaded"', "provider_error", "overloaded"),
    ],
)
def test_a_frame_that_is_not_a_json_object_is_reported_in_words(event, data, error_type, said):
    decoder = AnthropicMessagesDecoder(stream=True)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(frame(event, data))
    assert caught.value.error_type == error_type
    assert said in caught.value.message


def test_a_stream_that_ends_before_message_stop_says_the_connection_was_cut():
    decoder, _ = streamed(START, frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                               "delta": {"type": "text_delta", "text": "part"}}))  # fmt: skip
    with pytest.raises(ProviderError) as caught:
        decoder.finish()
    assert (caught.value.error_type, caught.value.message) == (
        "stream_cut", "stream ended before message_stop: the connection was cut"
    )
    AnthropicMessagesDecoder(stream=False).finish()  # a whole message has no message_stop to wait for


@pytest.mark.parametrize(
    ("base_url", "endpoint"),
    [
        (None, "https://api.anthropic.com/v1/messages"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/messages"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/messages"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/messages"),
        ("http://127.0.0.1:8080/proxy/v1/", "http://127.0.0.1:8080/proxy/v1/messages"),
        ("http://127.0.0.1:8080/v10", "http://127.0.0.1:8080/v10/v1/messages"),
    ],
)
def test_the_endpoint_never_doubles_v1(base_url, endpoint):
    config = ModelConfig(name="a", provider="anthropic", model="claude-e", base_url=base_url)
    assert AnthropicMessagesAdapter().endpoint(config) == endpoint
