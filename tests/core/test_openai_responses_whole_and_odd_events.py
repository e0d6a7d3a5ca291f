"""The Responses API decoder on what the recorded streams do not show: whole
(non-streamed) responses of every item kind and status, function-call events that
name their call only by index or only by item id, and the exact words of each error."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from core.events import ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta
from core.providers import base
from core.providers.base import Frame, ProviderError
from core.providers.openai_responses import OpenAIResponsesDecoder


def feed(decoder: OpenAIResponsesDecoder, kind: str, payload: dict[str, Any]) -> list:
    data = orjson.dumps({"type": kind, **payload}).decode()
    return list(decoder.feed(Frame(0.0, f"event: {kind}\ndata: {data}", kind, data)))


def whole(obj: dict[str, Any], *, stream: bool = False) -> tuple[list, dict[str, Any]]:
    decoder = OpenAIResponsesDecoder(stream=stream)
    data = orjson.dumps(obj).decode()
    events = list(decoder.feed(Frame(0.0, data, None, data)))
    decoder.finish()
    return events, decoder.response.snapshot()


def failure(decoder: OpenAIResponsesDecoder, data: str) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        decoder.feed(Frame(0.0, data, None, data))
    return raised.value


MESSAGE = {"type": "message", "content": [{"type": "output_text", "text": "Hello"}, {"type": "output_text", "text": " there"}]}


# --- whole responses ---------------------------------------------------------------


def test_a_whole_response_gives_every_item_in_order_and_skips_kinds_it_does_not_show() -> None:
    output = [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "First"}, {"type": "summary_text", "text": "Second"}]},
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
        MESSAGE,
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": '{"a":1}'},
        {"type": "function_call", "call_id": "call_2", "name": "g"},
    ]
    events, final = whole({"id": "resp_1", "object": "response", "model": "gpt-x", "status": "completed", "output": output})
    assert events == [
        ReasoningDelta("First\n\nSecond"), TextDelta("Hello"), TextDelta(" there"),
        ToolCallDelta(0, "call_1", "f", '{"a":1}'), ToolCallDelta(1, "call_2", "g", ""),
    ]  # fmt: skip
    assert (final["id"], final["model"], final["finish_reason"]) == ("resp_1", "gpt-x", "tool_calls")
    assert [call["arguments_raw"] for call in final["tool_calls"]] == ['{"a":1}', ""]


def test_reasoning_without_a_summary_is_the_reasoning_text_itself() -> None:
    item = {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "Think"}, {"type": "reasoning_text", "text": "again"}]}
    events, final = whole({"object": "response", "output": [item, MESSAGE]})
    assert events[0] == ReasoningDelta("Think\n\nagain") and final["reasoning"] == "Think\n\nagain"


def test_refusal_parts_of_a_whole_message_are_refusals_and_empty_parts_show_nothing() -> None:
    content = [
        {"type": "refusal", "refusal": "I can't"},
        {"type": "refusal", "refusal": ""},
        {"type": "output_text", "text": ""},
        {"type": "refusal", "refusal": " help with that."},
    ]
    events, final = whole({"object": "response", "output": [{"type": "message", "content": content}]})
    assert events == [RefusalDelta("I can't"), RefusalDelta(" help with that.")]
    assert final["refusal"] == "I can't help with that." and final["content"] == ""


def test_a_refusal_part_without_its_text_is_skipped() -> None:
    events, _ = whole({"object": "response", "output": [{"type": "message", "content": [{"type": "refusal"}, {"type": "output_text", "text": "ok"}]}]})
    assert events == [TextDelta("ok")]


def test_an_output_list_without_the_object_label_is_still_a_response() -> None:
    events, final = whole({"id": "resp_2", "output": [MESSAGE], "status": "completed"})
    assert [e.content for e in events] == ["Hello", " there"] and final["finish_reason"] == "stop"


def test_a_response_object_without_output_is_an_empty_answer() -> None:
    events, final = whole({"object": "response", "status": "completed", "id": "resp_3"})
    assert events == [] and (final["finish_reason"], final["id"]) == ("stop", "resp_3")


@pytest.mark.parametrize(
    ("details", "finish", "provider_finish"),
    [({"reason": "max_output_tokens"}, "length", "max_output_tokens"), (None, "length", "length")],
)
def test_an_incomplete_whole_response_is_cut_for_the_reason_it_gives(details, finish, provider_finish) -> None:
    _, final = whole({"object": "response", "status": "incomplete", "incomplete_details": details, "output": [MESSAGE]})
    assert (final["finish_reason"], final["provider_finish_reason"], final["content"]) == (finish, provider_finish, "Hello there")


def test_a_whole_response_that_is_not_one_is_malformed_and_says_what_came() -> None:
    obj = {"choices": [{"message": {"content": "x" * 200}}]}
    error = failure(OpenAIResponsesDecoder(stream=False), orjson.dumps(obj).decode())
    assert error.error_type == base.MALFORMED
    assert error.message == f"response is not a Responses API response: {str(obj)[:120]!r}"


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"object": "response", "id": "resp_f", "status": "failed"}, "provider error in response: the response failed"),
        ({"object": "response", "id": "resp_f", "status": "failed", "error": {"code": "server_error", "message": "Boom"}},
         "provider error in response: Boom (server_error)"),
        ({"object": "response", "id": "resp_f", "status": "completed", "error": {"message": "Quota gone"}},
         "provider error in response: Quota gone"),
    ],
)  # fmt: skip
def test_a_failed_whole_response_is_an_error_that_keeps_its_id(obj: dict[str, Any], message: str) -> None:
    for stream in (False, True):  # a streamed request a server answered whole reads the same
        decoder = OpenAIResponsesDecoder(stream=stream)
        error = failure(decoder, orjson.dumps(obj).decode())
        assert error.message == message
        assert decoder.response.id == "resp_f"


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"type": "function_call", "call_id": "c", "name": "f", "arguments": 5}, "function_call arguments is int"),
    ],
)
def test_a_whole_item_with_a_number_for_text_is_malformed_naming_the_field(item: dict[str, Any], words: str) -> None:
    error = failure(OpenAIResponsesDecoder(stream=False), orjson.dumps({"object": "response", "output": [item]}).decode())
    assert error.error_type == base.MALFORMED and words in error.message


# --- streamed events ---------------------------------------------------------------------


def test_argument_deltas_find_their_call_by_output_index_alone() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.output_item.added", {"output_index": 1, "item": {"type": "function_call", "call_id": "c1", "name": "f"}})
    feed(decoder, "response.output_item.added", {"output_index": 2, "item": {"type": "function_call", "call_id": "c2", "name": "g"}})
    events = feed(decoder, "response.function_call_arguments.delta", {"output_index": 2, "delta": '{"b":'})
    events += feed(decoder, "response.function_call_arguments.delta", {"output_index": 1, "delta": '{"a":1}'})
    events += feed(decoder, "response.function_call_arguments.delta", {"output_index": 2, "delta": "2}"})
    assert events == [ToolCallDelta(1, None, None, '{"b":'), ToolCallDelta(0, None, None, '{"a":1}'), ToolCallDelta(1, None, None, "2}")]
    feed(decoder, "response.completed", {"response": {"status": "completed"}})
    assert [c["arguments_raw"] for c in decoder.response.snapshot()["tool_calls"]] == ['{"a":1}', '{"b":2}']


def test_argument_deltas_and_the_done_item_find_their_call_by_item_id_when_the_index_is_left_out() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.output_item.added", {"output_index": 0, "item": {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f"}})
    feed(decoder, "response.output_item.added", {"output_index": 1, "item": {"type": "function_call", "id": "fc_2", "call_id": "c2", "name": "g"}})
    events = feed(decoder, "response.function_call_arguments.delta", {"item_id": "fc_1", "delta": '{"a":1}'})
    # The second call's arguments come only whole, on its done item, which names it by id alone.
    events += feed(decoder, "response.output_item.done", {"item": {"type": "function_call", "id": "fc_2", "call_id": "c2", "name": "g", "arguments": '{"b":2}'}})
    assert events == [ToolCallDelta(0, None, None, '{"a":1}'), ToolCallDelta(1, "c2", "g", '{"b":2}')]
    assert len(decoder.response.snapshot()["tool_calls"]) == 2


def test_argument_deltas_for_a_call_never_announced_are_ignored() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    assert feed(decoder, "response.function_call_arguments.delta", {"output_index": 4, "item_id": "fc_9", "delta": "{}"}) == []
    assert decoder.response.snapshot()["tool_calls"] == []


def test_a_refusal_delta_is_the_refusal_text() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    assert feed(decoder, "response.refusal.delta", {"delta": "No."}) == [RefusalDelta("No.")]


@pytest.mark.parametrize(
    ("kind", "payload", "words"),
    [
        ("response.refusal.delta", {"delta": 3}, "refusal delta is int"),
        ("response.reasoning_summary_text.delta", {"delta": 3}, "reasoning delta is int"),
        ("response.function_call_arguments.delta", {"output_index": 0, "delta": 3}, "function_call_arguments delta is int"),
    ],
)
def test_a_number_where_a_delta_text_belongs_is_malformed_naming_the_field(kind: str, payload: dict[str, Any], words: str) -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.output_item.added", {"output_index": 0, "item": {"type": "function_call", "call_id": "c", "name": "f"}})
    with pytest.raises(ProviderError) as raised:
        feed(decoder, kind, payload)
    assert raised.value.error_type == base.MALFORMED and words in raised.value.message


def test_incomplete_without_a_reason_is_length() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.incomplete", {"response": {"status": "incomplete"}})
    assert decoder.response.snapshot()["finish_reason"] == "length"


def test_a_failed_event_without_an_error_still_says_the_response_failed() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    with pytest.raises(ProviderError) as raised:
        feed(decoder, "response.failed", {"response": {"status": "failed"}})
    assert raised.value.message == "provider error in stream: the response failed"


def test_an_error_event_with_its_error_nested_reads_the_nested_error() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    with pytest.raises(ProviderError) as raised:
        feed(decoder, "error", {"sequence_number": 2, "error": {"type": "server_error", "message": "Upstream died"}})
    assert raised.value.message == "provider error in stream: Upstream died (server_error)"


def test_three_calls_announced_one_after_another_take_three_slots() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    events = []
    for n in range(3):
        item = {"type": "function_call", "id": f"fc_{n}", "call_id": f"c{n}", "name": f"f{n}"}
        events += feed(decoder, "response.output_item.added", {"output_index": n, "item": item})
    assert events == [ToolCallDelta(n, f"c{n}", f"f{n}", "") for n in range(3)]


def test_arguments_sent_on_the_added_item_are_not_repeated_when_it_is_done() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    item = {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f", "arguments": '{"a":1}'}
    events = feed(decoder, "response.output_item.added", {"output_index": 0, "item": item})
    events += feed(decoder, "response.output_item.done", {"output_index": 0, "item": item})
    assert events == [ToolCallDelta(0, "c1", "f", '{"a":1}')]
    assert decoder.response.snapshot()["tool_calls"][0]["arguments_raw"] == '{"a":1}'


def test_streamed_arguments_are_not_repeated_by_the_done_item() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.output_item.added", {"output_index": 0, "item": {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f"}})
    events = feed(decoder, "response.function_call_arguments.delta", {"output_index": 0, "delta": '{"a":1}'})
    events += feed(decoder, "response.output_item.done", {"output_index": 0, "item": {"type": "function_call", "id": "fc_1", "arguments": '{"a":1}'}})
    assert events == [ToolCallDelta(0, None, None, '{"a":1}')]


def test_a_call_that_arrives_only_done_is_the_whole_call_at_once() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    events = feed(decoder, "response.output_item.done", {"output_index": 3, "item": {"type": "function_call", "id": "fc_9", "call_id": "c9", "name": "g", "arguments": "{}"}})
    assert events == [ToolCallDelta(0, "c9", "g", "{}")]


def test_a_done_call_with_no_arguments_and_other_done_items_add_nothing() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.output_item.added", {"output_index": 0, "item": {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f"}})
    assert feed(decoder, "response.output_item.done", {"output_index": 0, "item": {"type": "function_call", "id": "fc_1"}}) == []
    assert feed(decoder, "response.output_item.added", {"output_index": 1, "item": {"type": "message", "id": "msg_1"}}) == []
    assert feed(decoder, "response.output_item.done", {"output_index": 1, "item": {"type": "message", "id": "msg_1", "content": []}}) == []
    assert len(decoder.response.snapshot()["tool_calls"]) == 1


@pytest.mark.parametrize(
    ("kind", "payload", "words"),
    [
        ("response.output_text.delta", {"delta": 1}, "output_text delta is int"),
        ("response.output_item.added", {"output_index": 0, "item": {"type": "function_call", "call_id": "c", "arguments": 2}}, "function_call arguments is int"),
        ("response.output_item.done", {"output_index": 0, "item": {"type": "function_call", "id": "x", "arguments": 2}}, "function_call arguments is int"),
    ],
)
def test_numbers_where_text_belongs_in_other_events_are_malformed_naming_the_field(kind: str, payload: dict[str, Any], words: str) -> None:
    with pytest.raises(ProviderError) as raised:
        feed(OpenAIResponsesDecoder(stream=True), kind, payload)
    assert raised.value.error_type == base.MALFORMED and words in raised.value.message


def test_the_done_item_of_an_announced_call_with_a_number_for_arguments_is_malformed() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.output_item.added", {"output_index": 0, "item": {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f"}})
    with pytest.raises(ProviderError) as raised:
        feed(decoder, "response.output_item.done", {"output_index": 0, "item": {"type": "function_call", "id": "fc_1", "arguments": 7}})
    assert "function_call arguments is int" in raised.value.message


def test_the_created_event_names_the_response_and_its_model() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.created", {"response": {"id": "resp_c", "model": "gpt-5-mini", "status": "in_progress"}})
    final = decoder.response.snapshot()
    assert (final["id"], final["model"]) == ("resp_c", "gpt-5-mini")


@pytest.mark.parametrize(
    ("usage", "counts"),
    [
        ({"input_tokens": 5, "output_tokens": 3}, (5, 3, 8)),
        ({"input_tokens": 5}, (5, None, 5)),
        ({"output_tokens": 3}, (0, 3, 3)),
        ({"input_tokens": 5, "output_tokens": 3, "total_tokens": 9}, (5, 3, 9)),
    ],
)
def test_usage_without_a_total_adds_up_what_it_gives(usage: dict[str, Any], counts: tuple) -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.completed", {"response": {"status": "completed", "usage": usage}})
    got = decoder.response.snapshot()["usage"]
    assert (got["prompt_tokens"], got["completion_tokens"], got["total_tokens"]) == counts
    assert (got["reasoning_tokens"], got["cached_tokens"]) == (0, 0)  # no details given: none of either


def test_usage_details_give_the_reasoning_and_cached_counts() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    usage = {"input_tokens": 50, "output_tokens": 30, "input_tokens_details": {"cached_tokens": 40}, "output_tokens_details": {"reasoning_tokens": 20}}
    feed(decoder, "response.completed", {"response": {"status": "completed", "usage": usage}})
    got = decoder.response.snapshot()["usage"]
    assert (got["reasoning_tokens"], got["cached_tokens"], got["total_tokens"]) == (20, 40, 80)


def raw_feed(decoder: OpenAIResponsesDecoder, data: str, event: str | None = None) -> list:
    return list(decoder.feed(Frame(0.0, data, event, data)))


def test_frames_without_data_carry_nothing() -> None:
    assert raw_feed(OpenAIResponsesDecoder(stream=True), "", event="ping") == []
    assert raw_feed(OpenAIResponsesDecoder(stream=True), "") == []


def test_the_kind_is_read_from_the_type_field_or_else_from_the_event_line() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    events = raw_feed(decoder, '{"type": "response.output_text.delta", "delta": "typed"}')  # no event: line
    events += raw_feed(decoder, '{"delta": " untyped"}', event="response.output_text.delta")  # no type field
    assert events == [TextDelta("typed"), TextDelta(" untyped")]


@pytest.mark.parametrize(
    ("data", "event"),
    [('{"type": "error", "message": "Overloaded", "code": "server_error"}', None), ('{"message": "Overloaded", "code": "server_error"}', "error")],
)
def test_an_error_is_known_by_its_type_or_by_its_event_line(data: str, event: str | None) -> None:
    with pytest.raises(ProviderError) as raised:
        raw_feed(OpenAIResponsesDecoder(stream=True), data, event=event)
    assert raised.value.message == "provider error in stream: Overloaded (server_error)"


def test_a_streamed_request_answered_with_one_whole_response_reads_it_whole() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    events = raw_feed(decoder, orjson.dumps({"id": "resp_w", "object": "response", "status": "completed", "output": [MESSAGE]}).decode())
    decoder.finish()  # the whole response was the end of the stream
    assert [e.content for e in events] == ["Hello", " there"] and decoder.response.snapshot()["finish_reason"] == "stop"


def test_an_untyped_event_frame_is_not_mistaken_for_a_whole_response() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    assert raw_feed(decoder, '{"sequence_number": 4}', event="response.content_part.added") == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("{" + "y" * 200, "malformed chunk (not JSON): "),
        ("[" + "2," * 100 + "2]", "malformed chunk (not an object): "),
    ],
)
def test_a_frame_that_is_no_json_object_is_quoted_up_to_120_characters(data: str, words: str) -> None:
    with pytest.raises(ProviderError) as raised:
        raw_feed(OpenAIResponsesDecoder(stream=True), data)
    assert (raised.value.error_type, raised.value.message) == (base.MALFORMED, f"{words}{data[:120]!r}")


def test_an_event_in_a_shape_no_server_sends_is_malformed_and_quoted() -> None:
    data = orjson.dumps({"type": "response.output_item.added", "item": "not an object", "pad": "p" * 200}).decode()
    with pytest.raises(ProviderError) as raised:
        raw_feed(OpenAIResponsesDecoder(stream=True), data)
    assert raised.value.error_type == base.MALFORMED
    assert raised.value.message.startswith("malformed chunk (") and raised.value.message.endswith(f": {data[:120]!r}")


def test_a_stream_without_its_terminal_event_was_cut() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.output_text.delta", {"delta": "half"})
    with pytest.raises(ProviderError) as raised:
        decoder.finish()
    assert (raised.value.error_type, raised.value.message) == (base.STREAM_CUT, "stream ended before response.completed: the connection was cut")


def test_the_endpoint_is_the_base_url_and_responses_whatever_its_trailing_slash() -> None:
    from core.providers.openai_responses import OpenAIResponsesAdapter
    from core.store.models import ModelConfig

    config = ModelConfig(name="r", provider="openai-responses", model="m", base_url="http://127.0.0.1:8000/v1/")
    assert OpenAIResponsesAdapter().endpoint(config) == "http://127.0.0.1:8000/v1/responses"
