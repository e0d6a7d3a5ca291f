"""The Anthropic request for conversations and params off the common path: a plain
assistant turn, tool results after a text turn or first in a conversation, thinking sent
back without a signature, `max_tokens: null`, an empty tool choice, the smallest thinking
budget — and the error type and words of what cannot be sent."""

from __future__ import annotations

import pytest

from core.providers.anthropic_messages import AnthropicMessagesAdapter
from core.providers.base import ProviderError
from core.request import ChatRequest, Message, ThinkingBlock, ToolCall, ToolSpec
from core.store.models import ModelConfig

ADAPTER = AnthropicMessagesAdapter()
CONFIG = ModelConfig(name="c", provider="anthropic", model="claude-x")
WEATHER = ToolSpec(name="weather", description="", parameters={"type": "object", "properties": {}})


def body(request: ChatRequest) -> dict:
    return ADAPTER.request_body(CONFIG, request, stream=True)


def refusal(request: ChatRequest) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        body(request)
    return caught.value


def test_a_plain_assistant_turn_is_sent_as_text_not_blocks():
    request = ChatRequest(messages=[Message("user", "hi"), Message("assistant", "hello"), Message("user", "again")])
    assert body(request)["messages"] == [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "again"},
    ]  # fmt: skip


def test_a_tool_result_after_a_text_turn_starts_its_own_user_message():
    request = ChatRequest(messages=[Message("user", "hi"), Message("tool", "42", tool_call_id="toolu_1")])
    assert body(request)["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}]},
    ]


def test_a_conversation_that_opens_with_a_tool_result_is_sent_not_crashed():
    request = ChatRequest(messages=[Message("tool", "42", tool_call_id="toolu_1")])
    assert body(request)["messages"] == [
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}]}
    ]


def test_thinking_without_a_signature_is_sent_back_with_an_empty_one():
    assistant = Message("assistant", "", tool_calls=[ToolCall("toolu_1", "weather", "{}")], thinking=[ThinkingBlock("Hm.")])
    request = ChatRequest(messages=[Message("user", "hi"), assistant, Message("tool", "sunny", tool_call_id="toolu_1")])
    assert body(request)["messages"][1]["content"][0] == {"type": "thinking", "thinking": "Hm.", "signature": ""}


def test_tool_arguments_that_are_not_an_object_are_refused_as_a_bad_request_quoting_80_characters():
    arguments = "[" + "1, " * 60 + "1]"
    assistant = Message("assistant", "", tool_calls=[ToolCall("toolu_1", "weather", arguments)])
    error = refusal(ChatRequest(messages=[Message("user", "hi"), assistant]))
    assert error.error_type == "bad_request"
    assert error.message == (
        f"cannot send tool call toolu_1 back: its arguments are not a JSON object (Anthropic needs one): {arguments[:80]!r}"
    )


def test_max_tokens_null_in_the_params_means_the_default():
    sent = body(ChatRequest.from_prompt("hi", params={"max_tokens": None}))
    assert sent["max_tokens"] == 4096


def test_an_empty_tool_choice_sends_none():
    sent = body(ChatRequest.from_prompt("hi", tools=[WEATHER], tool_choice=""))
    assert "tool_choice" not in sent and sent["tools"] == [{"name": "weather", "input_schema": WEATHER.parameters}]


def test_a_thinking_budget_of_one_is_sent_and_zero_refused():
    assert body(ChatRequest.from_prompt("hi", params={"thinking_budget": 1}))["thinking"] == {"type": "enabled", "budget_tokens": 1}
    error = refusal(ChatRequest.from_prompt("hi", params={"thinking_budget": 0}))
    assert (error.error_type, error.message) == ("bad_request", "the thinking budget must be a positive integer, got 0")


def test_a_thinking_param_that_is_not_an_object_is_a_bad_request():
    error = refusal(ChatRequest.from_prompt("hi", params={"thinking": "on"}))
    assert error.error_type == "bad_request"
    assert error.message == "thinking must be an object such as {\"budget_tokens\": 2048}, got 'on'"
