"""What Ollama's lines say, decoded exactly: tool calls in every shape servers send
them (no id, no name, arguments as text or absent, several in one line), a done line
that leaves fields out, and the message a cut stream or body ends with."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.events import ToolCallDelta
from core.providers import base
from core.providers.base import Frame, ProviderError
from core.providers.ollama_native import OllamaChatDecoder


def line(obj: Any) -> Frame:
    text = obj if isinstance(obj, str) else json.dumps(obj)
    return Frame(0.0, text, None, text)


def calls_line(*calls: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "message": {"role": "assistant", "content": "", "tool_calls": list(calls)}, "done": False}


def test_calls_without_ids_are_numbered_in_arrival_order_across_lines() -> None:
    decoder = OllamaChatDecoder(stream=True)
    first = decoder.feed(line(calls_line({"function": {"name": "a", "arguments": {"x": 1}}}, {"function": {"name": "b", "arguments": {}}})))
    second = decoder.feed(line(calls_line({"function": {"name": "c", "arguments": {"y": "z"}}})))
    assert [(d.index, d.id, d.name) for d in [*first, *second]] == [(0, "call_0", "a"), (1, "call_1", "b"), (2, "call_2", "c")]
    assert [call["id"] for call in decoder.response.snapshot()["tool_calls"]] == ["call_0", "call_1", "call_2"]


def test_arguments_sent_as_json_text_are_kept_as_sent() -> None:
    decoder = OllamaChatDecoder(stream=True)
    (delta,) = decoder.feed(line(calls_line({"id": "t1", "function": {"name": "f", "arguments": '{"city": "Oslo"}'}})))
    assert delta == ToolCallDelta(0, "t1", "f", '{"city": "Oslo"}')
    assert decoder.response.snapshot()["tool_calls"][0]["arguments_raw"] == '{"city": "Oslo"}'


def test_a_call_without_arguments_has_an_empty_object() -> None:
    decoder = OllamaChatDecoder(stream=True)
    (delta,) = decoder.feed(line(calls_line({"id": "t1", "function": {"name": "now"}})))
    assert delta.arguments_delta == "{}"


def test_a_call_without_a_name_is_kept_unnamed() -> None:
    decoder = OllamaChatDecoder(stream=True)
    (delta,) = decoder.feed(line(calls_line({"id": "t1", "function": {"arguments": {"q": 1}}})))
    assert (delta.id, delta.name, delta.arguments_delta) == ("t1", None, '{"q":1}')


@pytest.mark.parametrize(
    ("call", "words"),
    [
        ({"id": "t1", "function": {"name": 7, "arguments": {}}}, "tool call name is int"),
        ({"id": 42, "function": {"name": "f", "arguments": {}}}, "tool call id is int"),
    ],
)
def test_a_call_with_a_number_for_a_name_or_id_is_a_malformed_chunk_naming_the_field(call: dict[str, Any], words: str) -> None:
    with pytest.raises(ProviderError) as raised:
        OllamaChatDecoder(stream=True).feed(line(calls_line(call)))
    assert raised.value.error_type == base.MALFORMED and words in raised.value.message


def test_a_done_line_without_a_reason_or_prompt_count_is_a_stop_with_zero_prompt_tokens() -> None:
    decoder = OllamaChatDecoder(stream=True)
    decoder.feed(line({"model": "m", "message": {"role": "assistant", "content": "hi"}, "done": False}))
    decoder.feed(line({"model": "m", "message": {"role": "assistant", "content": ""}, "done": True, "eval_count": 3}))
    decoder.finish()
    response = decoder.response.snapshot()
    assert (response["finish_reason"], response["provider_finish_reason"]) == ("stop", "stop")
    assert response["usage"]["prompt_tokens"] == 0 and response["usage"]["total_tokens"] == 3


def test_a_tool_turn_without_a_reason_still_waits_on_its_tool_results() -> None:
    decoder = OllamaChatDecoder(stream=True)
    decoder.feed(line(calls_line({"function": {"name": "f", "arguments": {}}})))
    decoder.feed(line({"model": "m", "message": {"role": "assistant", "content": ""}, "done": True}))
    assert decoder.response.snapshot()["finish_reason"] == "tool_calls"


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (True, "response ended before a line with done: true: it is incomplete"),
        (False, "response ended before done: true: it is incomplete"),
    ],
)
def test_an_answer_without_its_done_says_what_was_missing(stream: bool, message: str) -> None:
    decoder = OllamaChatDecoder(stream=stream)
    decoder.feed(line({"model": "m", "message": {"role": "assistant", "content": "par"}, "done": False}))
    with pytest.raises(ProviderError) as raised:
        decoder.finish()
    assert (raised.value.error_type, raised.value.message) == (base.STREAM_CUT, message)


@pytest.mark.parametrize(
    ("message", "words"),
    [({"content": 5}, "content is int"), ({"content": "", "thinking": ["a"]}, "thinking is list")],
)
def test_a_number_or_list_where_text_belongs_is_malformed_naming_the_field(message: dict[str, Any], words: str) -> None:
    with pytest.raises(ProviderError) as raised:
        OllamaChatDecoder(stream=True).feed(line({"model": "m", "message": message, "done": False}))
    assert raised.value.error_type == base.MALFORMED and words in raised.value.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{" + "x" * 200, f"malformed chunk (not JSON): {('{' + 'x' * 200)[:120]!r}"),
        ("[" + "1," * 100 + "1]", f"malformed chunk (not an object): {('[' + '1,' * 100 + '1]')[:120]!r}"),
    ],
)
def test_a_malformed_line_is_quoted_up_to_120_characters(data: str, message: str) -> None:
    with pytest.raises(ProviderError) as raised:
        OllamaChatDecoder(stream=True).feed(line(data))
    assert raised.value.message == message


def test_a_line_in_a_shape_ollama_never_sends_is_quoted_up_to_120_characters() -> None:
    data = json.dumps({"model": "m", "message": "not an object", "pad": "p" * 200})
    with pytest.raises(ProviderError) as raised:
        OllamaChatDecoder(stream=True).feed(line(data))
    assert raised.value.error_type == base.MALFORMED and raised.value.message.endswith(f": {data[:120]!r}")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("model 'x' not found", "provider error in response: model 'x' not found"),
        ({"message": "out of memory", "code": 500}, 'provider error in response: {"message":"out of memory","code":500}'),
    ],
)
def test_an_error_line_says_the_servers_error_as_sent(error: Any, message: str) -> None:
    with pytest.raises(ProviderError) as raised:
        OllamaChatDecoder(stream=True).feed(line({"error": error}))
    assert (raised.value.error_type, raised.value.message) == (base.PROVIDER_ERROR, message)


def test_the_first_model_named_is_the_one_kept() -> None:
    decoder = OllamaChatDecoder(stream=True)
    decoder.feed(line({"model": "qwen3:0.6b", "message": {"role": "assistant", "content": "a"}, "done": False}))
    decoder.feed(line({"model": "other", "message": {"role": "assistant", "content": "b"}, "done": False}))
    assert decoder.response.snapshot()["model"] == "qwen3:0.6b"
