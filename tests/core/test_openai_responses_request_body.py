"""What an `openai-responses` config sends to `POST /v1/responses`: a config's chat-style
parameters in their Responses places, tool choices, and an assistant turn that both spoke
and called a tool."""

from __future__ import annotations

import pytest

from core.providers.base import ProviderError
from core.providers.openai_responses import OpenAIResponsesAdapter
from core.request import ChatRequest, Message, ToolCall, ToolSpec
from core.store.models import ModelConfig


def body_for(request: ChatRequest, **params: object) -> dict:
    config = ModelConfig(name="r", provider="openai-responses", model="gpt-5-mini", params=dict(params))
    return OpenAIResponsesAdapter().request_body(config, request, stream=True)


def test_chat_parameters_land_where_the_responses_api_reads_them() -> None:
    body = body_for(
        ChatRequest.from_prompt("hi", params={"reasoning_summary": "auto", "metadata": {"user": "u1"}}),
        max_retries=0, temperature=0.3, max_tokens=100, reasoning={"effort": "high"},
    )  # fmt: skip
    assert "max_retries" not in body  # the SDK client's option, never sent
    assert body["temperature"] == 0.3 and body["max_output_tokens"] == 100 and "max_tokens" not in body
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["metadata"] == {"user": "u1"}  # another object parameter stays itself


def test_parameters_the_responses_api_lacks_are_named_not_dropped() -> None:
    with pytest.raises(ProviderError) as refused:
        body_for(ChatRequest.from_prompt("hi"), stop=["x"], seed=7, temperature=0.1)
    assert str(refused.value) == "the Responses API has no parameter seed, stop (use the openai chat kind for it)"


@pytest.mark.parametrize("choice, sent", [
    ("auto", "auto"), ("none", "none"), ("required", "required"),
    ("get_weather", {"type": "function", "name": "get_weather"}),
])  # fmt: skip
def test_tool_choices(choice: str, sent: object) -> None:
    request = ChatRequest.from_prompt("hi", tools=[ToolSpec(name="get_weather")], tool_choice=choice)
    assert body_for(request)["tool_choice"] == sent


def test_an_empty_tool_choice_leaves_it_to_the_model() -> None:
    request = ChatRequest.from_prompt("hi", tools=[ToolSpec(name="get_weather")], tool_choice="")
    body = body_for(request)
    assert "tool_choice" not in body and body["tools"][0]["name"] == "get_weather"


def test_an_assistant_turn_that_spoke_and_called_a_tool_keeps_both() -> None:
    request = ChatRequest(messages=[
        Message(role="user", content="Weather?"),
        Message(role="assistant", content="Checking.", tool_calls=[ToolCall(id="c1", name="get_weather", arguments="{}")]),
        Message(role="tool", content="18 °C", tool_call_id="c1"),
    ])  # fmt: skip
    assert body_for(request)["input"] == [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "Checking."},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "18 °C"},
    ]
