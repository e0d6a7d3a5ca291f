"""Streamed chat chunks the recordings don't carry: several choices in one chunk, and a
delta field of the wrong type, reported in words that name it."""

from __future__ import annotations

import orjson
import pytest

from core.events import TextDelta
from core.providers.base import Frame, ProviderError
from core.providers.openai_chat import OpenAIChatDecoder


def chunk_frame(choices: list) -> Frame:
    data = orjson.dumps({"id": "c1", "model": "m", "choices": choices}).decode()
    return Frame(at=0.0, raw="data: " + data, event=None, data=data)


def test_the_first_choice_is_the_answer_whatever_order_the_choices_come_in():
    decoder = OpenAIChatDecoder(stream=True)
    events = decoder.feed(chunk_frame([
        {"index": 1, "delta": {"content": "second choice"}},
        {"index": 0, "delta": {"content": "first choice"}, "finish_reason": "stop"},
    ]))  # fmt: skip
    assert events == [TextDelta("first choice")]
    decoder.finish()
    final = decoder.response.snapshot()
    assert (final["content"], final["finish_reason"]) == ("first choice", "stop")


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        ({"content": 5}, "content is int, not a string"),
        ({"reasoning_content": ["a"]}, "reasoning is list, not a string"),
        ({"refusal": {"no": 1}}, "refusal is dict, not a string"),
        ({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": 1.5}}]},
         "tool call arguments is float, not a string"),
    ],
)
def test_a_delta_field_of_the_wrong_type_is_a_malformed_chunk_naming_it(delta, said):
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(chunk_frame([{"index": 0, "delta": {"content": "kept"}}]))
    with pytest.raises(ProviderError) as caught:
        decoder.feed(chunk_frame([{"index": 0, "delta": delta}]))
    assert caught.value.error_type == "malformed_chunk"
    assert caught.value.message.startswith(f"malformed chunk ({said}): ")
    assert decoder.response.snapshot()["content"] == "kept"


def test_a_finish_reason_of_the_wrong_type_is_a_malformed_chunk():
    decoder = OpenAIChatDecoder(stream=True)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(chunk_frame([{"index": 0, "delta": {"content": "x"}, "finish_reason": 7}]))
    assert caught.value.message.startswith("malformed chunk (finish_reason is int, not a string): ")


def test_reasoning_is_shown_before_the_text_of_the_same_chunk():
    decoder = OpenAIChatDecoder(stream=True)
    events = decoder.feed(chunk_frame([{"index": 0, "delta": {"content": "Answer.", "reasoning_content": "Thought."}}]))
    assert [type(e).__name__ for e in events] == ["ReasoningDelta", "TextDelta"]
