"""What the adapter sends: params, system, multi-turn tool use, tools and tool_choice."""

from __future__ import annotations

import pytest

from core.providers.anthropic_messages import AnthropicMessagesAdapter
from core.providers.anthropic_request import OPENAI_ONLY_PARAMS
from core.providers.base import ProviderError
from core.request import ChatRequest, Message, ThinkingBlock, ToolCall, ToolSpec
from core.store.models import ModelConfig

ADAPTER = AnthropicMessagesAdapter()


def config(**fields) -> ModelConfig:
    return ModelConfig(name="c", provider="anthropic", model="claude-x", **fields)


def body(request: ChatRequest, **config_fields) -> dict:
    return ADAPTER.request_body(config(**config_fields), request, stream=True)


def test_defaults_max_tokens_and_maps_stop_to_stop_sequences():
    sent = body(ChatRequest.from_prompt("hi", system="sys", params={"stop": "\n\n", "temperature": 0, "top_p": 0.9}))
    assert sent == {
        "model": "claude-x", "max_tokens": 4096, "system": "sys", "messages": [{"role": "user", "content": "hi"}],
        "stop_sequences": ["\n\n"], "temperature": 0, "top_p": 0.9, "stream": True,
    }  # fmt: skip
    assert body(ChatRequest.from_prompt("hi", params={"stop": ["a", "b"]}))["stop_sequences"] == ["a", "b"]


def test_request_params_override_config_params_and_client_options_stay_out():
    sent = body(ChatRequest.from_prompt("hi", params={"max_tokens": 50}), params={"max_tokens": 10, "max_retries": 0,
                                                                                 "metadata": {"user_id": "u1"}})
    assert sent["max_tokens"] == 50 and sent["metadata"] == {"user_id": "u1"} and "max_retries" not in sent


def test_thinking_budget_and_thinking_object():
    sent = body(ChatRequest.from_prompt("hi", params={"thinking_budget": 8000}))
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 8000}
    assert sent["max_tokens"] == 4096 + 8000  # thinking counts inside max_tokens
    sent = body(ChatRequest.from_prompt("hi", params={"thinking": {"budget_tokens": 1024}, "max_tokens": 2000}))
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 1024} and sent["max_tokens"] == 2000
    sent = body(ChatRequest.from_prompt("hi", params={"thinking": {"type": "adaptive"}}))
    assert sent["thinking"] == {"type": "adaptive"} and sent["max_tokens"] == 4096
    with pytest.raises(ProviderError, match="thinking budget must be a positive integer, got 'lots'"):
        body(ChatRequest.from_prompt("hi", params={"thinking_budget": "lots"}))
    with pytest.raises(ProviderError, match="thinking budget must be a positive integer, got 0"):
        body(ChatRequest.from_prompt("hi", params={"thinking": {"budget_tokens": 0}}))
    with pytest.raises(ProviderError, match="thinking must be an object"):
        body(ChatRequest.from_prompt("hi", params={"thinking": True}))


@pytest.mark.parametrize("name", OPENAI_ONLY_PARAMS)
def test_openai_only_params_are_reported_not_dropped(name):
    with pytest.raises(ProviderError) as caught:
        body(ChatRequest.from_prompt("hi"), params={name: 1})
    assert caught.value.error_type == "unsupported_param"
    assert caught.value.message == f"the Anthropic Messages API has no parameter {name!r}"


def test_tool_turns_become_content_blocks_and_merged_tool_results():
    request = ChatRequest(
        messages=[
            Message(role="user", content="Weather in Paris and Tokyo?"),
            Message(
                role="assistant",
                content="Checking.",
                tool_calls=[ToolCall("toolu_1", "get_weather", '{"city": "Paris"}'), ToolCall("toolu_2", "get_weather", "")],
                thinking=[ThinkingBlock("Two cities.", signature="sig=="), ThinkingBlock(redacted_data="opaque")],
            ),
            Message(role="tool", content="18°C", tool_call_id="toolu_1"),
            Message(role="tool", content="22°C", tool_call_id="toolu_2"),
        ]
    )
    assert body(request)["messages"] == [
        {"role": "user", "content": "Weather in Paris and Tokyo?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Two cities.", "signature": "sig=="},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "22°C"},
            ],
        },
    ]


def test_a_tool_call_whose_arguments_are_not_an_object_cannot_be_sent_back():
    request = ChatRequest(
        messages=[
            Message(role="user", content="x"),
            Message(role="assistant", tool_calls=[ToolCall("toolu_9", "f", '{"unit": celsius}')]),
            Message(role="tool", content="r", tool_call_id="toolu_9"),
        ]
    )
    with pytest.raises(ProviderError, match="cannot send tool call toolu_9 back"):
        body(request)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ("get_weather", {"type": "tool", "name": "get_weather"}),
    ],
)
def test_tools_and_tool_choice(choice, expected):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    request = ChatRequest.from_prompt("hi", tool_choice=choice)
    request.tools = [ToolSpec("get_weather", "Current weather", schema), ToolSpec("noop", "", {"type": "object"})]
    sent = body(request)
    assert sent["tools"] == [
        {"name": "get_weather", "input_schema": schema, "description": "Current weather"},
        {"name": "noop", "input_schema": {"type": "object"}},
    ]
    assert sent.get("tool_choice") == expected


def test_endpoint_and_base_url():
    assert ADAPTER.endpoint(config()) == "https://api.anthropic.com/v1/messages"
    # the SDK appends /v1/messages: a base URL given with /v1 must not double it
    assert ADAPTER.endpoint(config(base_url="https://proxy.example/api/v1/")) == "https://proxy.example/api/v1/messages"
