"""The Anthropic decoder on frames with a field left out or of the wrong type: what a
server may omit is read with its documented default (block index 0, empty text, no
usage change), what is the wrong type is reported naming the field, and an error is
recognised by its event line or by its body alone, in the words the provider used."""

from __future__ import annotations

import orjson
import pytest

from core.events import ReasoningDelta, TextDelta, ToolCallDelta
from core.providers.anthropic_messages import AnthropicMessagesAdapter, AnthropicMessagesDecoder, normalise_usage
from core.providers.base import Frame, ProviderError
from core.store.models import ModelConfig


def frame(event: str | None, payload: dict | str | list) -> Frame:
    data = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
    return Frame(at=0.0, raw=f"event: {event}\ndata: {data}", event=event, data=data)


def block_start(index: int | None, block: dict) -> Frame:
    obj = {"type": "content_block_start", "content_block": block} | ({} if index is None else {"index": index})
    return frame("content_block_start", obj)


def block_delta(index: int | None, delta: dict) -> Frame:
    obj = {"type": "content_block_delta", "delta": delta} | ({} if index is None else {"index": index})
    return frame("content_block_delta", obj)


def block_stop(index: int | None) -> Frame:
    return frame("content_block_stop", {"type": "content_block_stop"} | ({} if index is None else {"index": index}))


START = frame("message_start", {"type": "message_start", "message": {"id": "msg_1", "model": "claude-t",
                                                                   "usage": {"input_tokens": 9, "output_tokens": 1,
                                                                             "cache_read_input_tokens": 4}}})  # fmt: skip
STOP = frame("message_stop", {"type": "message_stop"})


def streamed(*frames: Frame) -> tuple[AnthropicMessagesDecoder, list]:
    decoder = AnthropicMessagesDecoder(stream=True)
    return decoder, [event for f in frames for event in decoder.feed(f)]


def failure(decoder: AnthropicMessagesDecoder, *frames: Frame) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        for f in frames:
            decoder.feed(f)
    return caught.value


# --- usage -----------------------------------------------------------------------------


def test_usage_sums_cache_reads_and_writes_into_the_prompt_even_without_input_tokens():
    assert normalise_usage({"output_tokens": 5, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 2}) == {
        "output_tokens": 5, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 2,
        "prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17, "reasoning_tokens": 0, "cached_tokens": 10,
    }  # fmt: skip


def test_usage_without_output_tokens_totals_the_prompt_alone():
    usage = normalise_usage({"input_tokens": 3})
    assert (usage["completion_tokens"], usage["total_tokens"], usage["reasoning_tokens"]) == (None, 3, 0)


def test_a_null_usage_in_message_delta_keeps_the_counts_so_far():
    decoder, _ = streamed(
        START,
        frame("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": None}),
        STOP,
    )
    usage = decoder.response.snapshot()["usage"]
    assert (usage["prompt_tokens"], usage["cached_tokens"], usage["completion_tokens"]) == (13, 4, 1)


# --- blocks without an index, fields left out --------------------------------------------


def test_frames_without_an_index_belong_to_block_zero():
    decoder, events = streamed(
        START,
        block_start(None, {"type": "thinking", "thinking": ""}),
        block_delta(None, {"type": "thinking_delta", "thinking": "Hm."}),
        block_delta(None, {"type": "signature_delta", "signature": "c2ln"}),
        block_stop(None),
        block_start(None, {"type": "tool_use", "id": "toolu_0", "name": "f", "input": {}}),
        block_delta(None, {"type": "input_json_delta", "partial_json": '{"a": 1}'}),
        STOP,
    )
    assert events == [ReasoningDelta("Hm."), ToolCallDelta(0, "toolu_0", "f", ""), ToolCallDelta(0, None, None, '{"a": 1}')]
    assert decoder.response.snapshot()["thinking_blocks"] == [{"thinking": "Hm.", "signature": "c2ln"}]


def test_three_streamed_tool_calls_get_slots_zero_one_two():
    _, events = streamed(
        START,
        *(block_start(i, {"type": "tool_use", "id": f"toolu_{i}", "name": "f", "input": {}}) for i in range(3)),
    )
    assert [(e.index, e.id) for e in events] == [(0, "toolu_0"), (1, "toolu_1"), (2, "toolu_2")]


def test_text_and_thinking_blocks_that_start_without_their_text_field_are_empty():
    decoder, events = streamed(
        START,
        block_start(0, {"type": "thinking", "signature": ""}),
        block_start(1, {"type": "text"}),
        block_delta(1, {"type": "text_delta"}),
        block_delta(0, {"type": "thinking_delta"}),
        block_delta(1, {"type": "text_delta", "text": "ok"}),
        STOP,
    )
    assert events == [TextDelta("ok")]
    assert decoder.response.snapshot()["content"] == "ok"


def test_a_signature_delta_without_a_signature_leaves_the_signature_as_it_was():
    decoder, _ = streamed(
        START,
        block_start(0, {"type": "thinking", "thinking": ""}),
        block_delta(0, {"type": "thinking_delta", "thinking": "T"}),
        block_delta(0, {"type": "signature_delta", "signature": "abc"}),
        block_delta(0, {"type": "signature_delta"}),
        block_stop(0),
        STOP,
    )
    assert decoder.response.snapshot()["thinking_blocks"] == [{"thinking": "T", "signature": "abc"}]


def test_a_redacted_thinking_block_without_data_is_kept_as_redacted_with_empty_data():
    decoder, _ = streamed(START, block_start(0, {"type": "redacted_thinking"}), block_stop(0), STOP)
    assert decoder.response.snapshot()["thinking_blocks"] == [{"redacted_data": ""}]


def test_a_frame_with_an_event_line_and_no_data_is_skipped():
    decoder = AnthropicMessagesDecoder(stream=True)
    assert decoder.feed(Frame(at=0.0, raw="event: content_block_delta", event="content_block_delta", data="")) == []


def test_a_ping_is_skipped_whatever_its_body():
    decoder = AnthropicMessagesDecoder(stream=True)
    assert decoder.feed(frame("ping", "keep-alive")) == []


# --- fields of the wrong type are named ----------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        (frame("message_start", {"type": "message_start", "message": {"id": 7, "model": "m"}}), "message id is int, not a string"),
        (frame("message_start", {"type": "message_start", "message": {"id": "i", "model": ["m"]}}), "model is list, not a string"),
        (block_delta(0, {"type": "text_delta", "text": 5}), "text is int, not a string"),
        (block_delta(0, {"type": "thinking_delta", "thinking": {"t": 1}}), "thinking is dict, not a string"),
        (block_delta(0, {"type": "input_json_delta", "partial_json": 12}), "partial_json is int, not a string"),
        (frame("message_delta", {"type": "message_delta", "delta": {"stop_reason": 1}}), "stop_reason is int, not a string"),
    ],
)
def test_a_field_of_the_wrong_type_is_a_malformed_chunk_naming_the_field(bad, said):
    decoder = AnthropicMessagesDecoder(stream=True)
    decoder.feed(block_start(0, {"type": "thinking", "thinking": ""}) if "thinking" in bad.data else
                 block_start(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}))  # fmt: skip
    error = failure(decoder, bad)
    assert error.error_type == "malformed_chunk"
    assert error.message.startswith(f"malformed chunk ({said}): ")


def test_a_malformed_chunk_quotes_its_first_120_characters():
    decoder = AnthropicMessagesDecoder(stream=True)
    not_json = "{" + "x" * 300
    assert failure(decoder, frame("content_block_delta", not_json)).message == f"malformed chunk (not JSON): {not_json[:120]!r}"
    not_object = "[" + ", ".join(["1"] * 100) + "]"
    assert failure(decoder, frame("content_block_delta", not_object)).message == (
        f"malformed chunk (not an object): {not_object[:120]!r}"
    )
    wrong_shape = orjson.dumps({"type": "content_block_delta", "delta": "x" * 200}).decode()
    assert failure(decoder, frame("content_block_delta", wrong_shape)).message.endswith(f": {wrong_shape[:120]!r}")


# --- errors: by event line or by body -----------------------------------------------------


def test_an_error_body_without_an_error_event_line_is_still_an_error():
    error = failure(
        AnthropicMessagesDecoder(stream=True),
        frame(None, {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}),
    )
    assert (error.error_type, error.message) == ("rate_limit", "provider error in stream: Slow down (rate_limit_error)")


def test_an_error_event_whose_body_is_the_error_itself_keeps_its_words():
    error = failure(AnthropicMessagesDecoder(stream=True), frame("error", {"type": "overloaded_error", "message": "Overloaded"}))
    assert (error.error_type, error.message) == ("overloaded", "provider error in stream: Overloaded (overloaded_error)")


@pytest.mark.parametrize("data", ["upstream exploded", '["upstream", "exploded"]'])
def test_an_error_event_says_whether_it_came_in_a_stream_or_a_whole_response(data):
    assert failure(AnthropicMessagesDecoder(stream=True), frame("error", data)).message.startswith("provider error in stream: ")
    assert failure(AnthropicMessagesDecoder(stream=False), frame("error", data)).message.startswith(
        "provider error in response: "
    )


# --- whole (non-streamed) messages ----------------------------------------------------------


def test_a_whole_answer_without_a_type_but_with_content_is_read():
    decoder = AnthropicMessagesDecoder(stream=False)
    events = decoder.feed(frame(None, {"content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn"}))
    assert events == [TextDelta("hi")]


def test_a_whole_message_without_content_is_an_empty_answer():
    decoder = AnthropicMessagesDecoder(stream=False)
    assert decoder.feed(frame(None, {"type": "message", "id": "msg_e", "stop_reason": "max_tokens"})) == []
    final = decoder.response.snapshot()
    assert (final["content"], final["finish_reason"]) == ("", "length")


def test_a_whole_message_keeps_every_block_in_order_with_missing_fields_empty():
    decoder = AnthropicMessagesDecoder(stream=False)
    message = {
        "type": "message", "stop_reason": "tool_use",
        "content": [
            {"type": "thinking", "thinking": "First.", "signature": "s1"},
            {"type": "text", "text": "Calling."},
            {"type": "thinking"},
            {"type": "text"},
            {"type": "thinking", "thinking": "Second.", "signature": "s2"},
            {"type": "redacted_thinking"},
            {"type": "tool_use", "id": "toolu_a", "name": "f", "input": {"city": "Zürich"}},
            {"type": "tool_use", "id": "toolu_b", "name": "g"},
            {"type": "tool_use", "id": "toolu_c", "name": "h", "input": {}},
        ],
    }  # fmt: skip
    events = decoder.feed(frame(None, message))
    assert events == [
        ReasoningDelta("First."), TextDelta("Calling."), ReasoningDelta("Second."),
        ToolCallDelta(0, "toolu_a", "f", '{"city": "Zürich"}'), ToolCallDelta(1, "toolu_b", "g", "{}"),
        ToolCallDelta(2, "toolu_c", "h", "{}"),
    ]  # fmt: skip
    assert decoder.response.snapshot()["thinking_blocks"] == [
        {"thinking": "First.", "signature": "s1"}, {"thinking": "", "signature": None},
        {"thinking": "Second.", "signature": "s2"}, {"redacted_data": ""},
    ]  # fmt: skip


def test_a_whole_message_with_a_stop_reason_of_the_wrong_type_names_it():
    error = failure(AnthropicMessagesDecoder(stream=False), frame(None, {"type": "message", "content": [], "stop_reason": 3}))
    assert error.message.startswith("malformed chunk (stop_reason is int, not a string): ")


def test_a_long_body_that_is_not_a_message_is_quoted_to_120_characters():
    body = {"id": "x" * 300}
    error = failure(AnthropicMessagesDecoder(stream=False), frame(None, body))
    assert error.message == f"response is not a message: {str(body)[:120]!r}"


def test_the_base_url_loses_only_its_trailing_slashes():
    config = ModelConfig(name="a", provider="anthropic", model="m", base_url="http://127.0.0.1:9/gateway/BOX/")
    assert AnthropicMessagesAdapter().endpoint(config) == "http://127.0.0.1:9/gateway/BOX/v1/messages"
