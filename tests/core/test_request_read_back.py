"""A request as the store keeps it (JSON) read back, as a re-run, an export or a tool-result
continuation reads it: every turn and field as sent, and older or partial rows as the
defaults a new prompt has."""

from __future__ import annotations

import json

from core.request import ChatRequest, Message, ThinkingBlock, ToolCall, ToolSpec


def test_every_field_of_a_conversation_survives_the_store() -> None:
    request = ChatRequest(
        messages=[
            Message(role="user", content="Weather in 東京?"),
            Message(role="assistant", content="", tool_calls=[ToolCall(id="toolu_1", name="get_weather", arguments='{"city":"東京"}')],
                    thinking=[ThinkingBlock(thinking="Look it up.", signature="sig=="), ThinkingBlock(redacted_data="opaque")]),
            Message(role="tool", content='{"temperature": 18}', tool_call_id="toolu_1"),
        ],
        system="be brief", params={"temperature": 0.2, "max_tokens": 64},
        tools=[ToolSpec(name="get_weather", description="Weather", parameters={"type": "object", "required": ["city"]})],
        tool_choice="get_weather", stream=False,
    )  # fmt: skip
    assert ChatRequest.from_dict(json.loads(json.dumps(request.to_dict()))) == request


def test_a_partial_row_reads_as_a_new_prompt_would() -> None:
    assert ChatRequest.from_dict({"messages": [{"role": "user", "content": "hi"}]}) == ChatRequest.from_prompt("hi")
    assert ChatRequest.from_dict({}) == ChatRequest(messages=[])
    read = ChatRequest.from_dict({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "name": "f", "arguments": "{}"}]}]})
    assert read.messages == [Message(role="assistant", content="", tool_calls=[ToolCall(id="c", name="f", arguments="{}")])]
