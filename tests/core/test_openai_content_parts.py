"""`content` as a list of parts (Mistral's Magistral and others): which parts are the
answer, which are reasoning, and what a part of the wrong type is reported as."""

from __future__ import annotations

import orjson
import pytest

from core.events import ReasoningDelta, TextDelta
from core.providers.base import Frame, ProviderError
from core.providers.openai_chat import OpenAIChatDecoder


def streamed(content) -> Frame:
    data = orjson.dumps({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": content}}]}).decode()
    return Frame(at=0.0, raw="data: " + data, event=None, data=data)


def whole(content) -> Frame:
    body = {"id": "c1", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                                   "finish_reason": "stop"}]}  # fmt: skip
    data = orjson.dumps(body).decode()
    return Frame(at=0.0, raw=data, event=None, data=data)


@pytest.mark.parametrize("stream", [True, False])
def test_parts_split_into_reasoning_and_answer(stream):
    parts = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "Let me see. "}, {"type": "text", "text": ""}, "Ok."]},
        "Bare ",
        {"type": "text", "text": "answer."},
        {"text": " Untyped."},
        {"type": "reference", "text": "[1] not shown", "reference_ids": [1]},
        {"type": "image_url", "image_url": {"url": "http://127.0.0.1/x.png"}},
        {"type": "thinking", "thinking": "A string of thought."},
        {"type": "thinking", "thinking": ""},
    ]
    decoder = OpenAIChatDecoder(stream=stream)
    events = decoder.feed(streamed(parts) if stream else whole(parts))
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("Bare "), TextDelta("answer."), TextDelta(" Untyped.")]
    assert [e for e in events if isinstance(e, ReasoningDelta)] == [
        ReasoningDelta("Let me see. "), ReasoningDelta("Ok."), ReasoningDelta("A string of thought.")
    ]  # fmt: skip
    final = decoder.response.snapshot()
    assert final["content"] == "Bare answer. Untyped."
    assert final["reasoning"] == "Let me see. Ok.A string of thought."


@pytest.mark.parametrize(
    ("parts", "said"),
    [
        ([{"type": "text", "text": 7}], "text part is int, not a string"),
        ([{"type": "thinking", "thinking": [{"type": "text", "text": ["x"]}]}], "thinking text is list, not a string"),
        ([{"type": "thinking", "thinking": [3.5]}], "thinking text is float, not a string"),
    ],
)
def test_a_part_of_the_wrong_type_is_a_malformed_chunk_naming_the_field(parts, said):
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(streamed([{"type": "text", "text": "kept"}]))
    with pytest.raises(ProviderError) as caught:
        decoder.feed(streamed(parts))
    assert caught.value.error_type == "malformed_chunk"
    assert caught.value.message.startswith(f"malformed chunk ({said}): ")
    assert decoder.response.snapshot()["content"] == "kept"
