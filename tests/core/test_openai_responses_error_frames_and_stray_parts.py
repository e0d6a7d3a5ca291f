"""The Responses API stream's less regular frames: an `event: error` whose JSON names its
own error type is still the error that ends the run; a data-only frame without a type is
ignored, not taken for a whole response; a message part that is neither text nor refusal
shows nothing; a call's arguments given whole by a repeated `done` are shown once."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from core.events import TextDelta, ToolCallDelta
from core.providers import base
from core.providers.base import Frame, ProviderError
from core.providers.openai_responses import OpenAIResponsesDecoder


def frame(event: str | None, payload: dict[str, Any]) -> Frame:
    data = orjson.dumps(payload).decode()
    raw = (f"event: {event}\n" if event else "") + f"data: {data}"
    return Frame(0.0, raw, event, data)


def test_an_error_event_whose_json_has_another_type_still_ends_the_run_with_its_message() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    decoder.feed(frame("response.output_text.delta", {"type": "response.output_text.delta", "delta": "par"}))
    with pytest.raises(ProviderError) as raised:
        decoder.feed(frame("error", {"type": "server_error", "code": "overloaded", "message": "try again later"}))
    assert raised.value.error_type == base.OVERLOADED
    assert raised.value.message == "provider error in stream: try again later (overloaded)"
    assert decoder.response.snapshot()["content"] == "par"


def test_a_frame_with_no_type_and_no_event_is_ignored_and_the_stream_goes_on() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    assert list(decoder.feed(frame(None, {"keepalive": True}))) == []
    assert list(decoder.feed(frame(None, {"type": "response.output_text.delta", "delta": "hi"}))) == [TextDelta("hi")]
    decoder.feed(frame(None, {"type": "response.completed", "response": {"id": "resp_1"}}))
    decoder.finish()
    assert decoder.response.snapshot()["content"] == "hi"


def test_message_parts_other_than_text_and_refusal_show_nothing() -> None:
    decoder = OpenAIResponsesDecoder(stream=False)
    message = {
        "type": "message",
        "content": [
            {"type": "output_text", "text": "shown"},
            {"type": "output_audio", "text": "a transcript, not the answer"},
            {"type": "refusal", "text": "no refusal field"},
        ],
    }
    events = list(decoder.feed(frame(None, {"object": "response", "status": "completed", "output": [message]})))
    assert events == [TextDelta("shown")]
    final = decoder.response.snapshot()
    assert final["content"] == "shown" and final["finish_reason"] == "stop"


def test_a_repeated_done_event_does_not_show_a_calls_arguments_twice() -> None:
    decoder = OpenAIResponsesDecoder(stream=True)
    added = {"type": "response.output_item.added", "output_index": 0, "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f"}}
    done = {
        "type": "response.output_item.done", "output_index": 0,
        "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": '{"a":1}'},
    }  # fmt: skip
    assert list(decoder.feed(frame(added["type"], added))) == [ToolCallDelta(0, "call_1", "f", "")]
    assert list(decoder.feed(frame(done["type"], done))) == [ToolCallDelta(0, "call_1", "f", '{"a":1}')]
    assert list(decoder.feed(frame(done["type"], done))) == []
    assert [call["arguments_raw"] for call in decoder.response.snapshot()["tool_calls"]] == ['{"a":1}']
