"""A whole (non-streamed) chat completion: what is read off it, and how a broken one
is reported. Also a whole completion sent where a stream was asked for."""

from __future__ import annotations

import orjson
import pytest

from core.events import TextDelta
from core.providers.base import Frame, ProviderError
from core.providers.openai_chat import OpenAIChatDecoder


def body_frame(body: dict) -> Frame:
    data = orjson.dumps(body).decode()
    return Frame(at=0.0, raw=data, event=None, data=data)


def completion(message: dict, finish_reason: str | None = "stop") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}]}  # fmt: skip


@pytest.mark.parametrize("body", [{"id": "x", "choices": []}, {"id": "x", "choices": None}, {"id": "x"}])
def test_a_response_without_choices_says_so(body):
    decoder = OpenAIChatDecoder(stream=False)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(body_frame(body))
    assert (caught.value.error_type, caught.value.message) == ("malformed_chunk", "response has no choices")


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ({"content": "ok", "reasoning_content": 12}, "reasoning is int, not a string"),
        ({"content": {"text": "ok"}}, "content is dict, not a string"),
        ({"content": "ok", "refusal": ["no"]}, "refusal is list, not a string"),
        ({"content": None, "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"a": 1}}}]},
         "tool call arguments is dict, not a string"),
        ({"content": "ok"}, "finish_reason is int, not a string"),
    ],
)
def test_a_field_of_the_wrong_type_is_a_malformed_chunk_naming_it(message, said):
    decoder = OpenAIChatDecoder(stream=False)
    finish_reason = 1 if "finish_reason" in said else "stop"
    with pytest.raises(ProviderError) as caught:
        decoder.feed(body_frame(completion(message, finish_reason)))
    assert caught.value.error_type == "malformed_chunk"
    assert caught.value.message.startswith(f"malformed chunk ({said}): ")


def test_a_whole_completion_answering_a_stream_request_is_whole_even_without_finish_reason():
    # Some servers ignore `stream: true` and answer with one JSON body: no [DONE] will
    # follow, yet nothing was cut.
    decoder = OpenAIChatDecoder(stream=True)
    events = decoder.feed(body_frame(completion({"content": "All of it."}, finish_reason=None)))
    assert events == [TextDelta("All of it.")]
    decoder.finish()  # not a stream_cut
    final = decoder.response.snapshot()
    assert (final["content"], final["id"], final["model"]) == ("All of it.", "chatcmpl-1", "m")


def test_a_tool_call_without_arguments_has_empty_raw_arguments():
    decoder = OpenAIChatDecoder(stream=False)
    decoder.feed(body_frame(completion({"content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                                         "function": {"name": "now"}}]}, "tool_calls")))  # fmt: skip
    [call] = decoder.response.snapshot()["tool_calls"]
    assert (call["id"], call["name"], call["arguments_raw"]) == ("c1", "now", "")
