"""The request in Ollama's native shape: sampling params under `options`, the rest
at the top level, OpenAI names translated, tool calls and results as Ollama wants them."""

from __future__ import annotations

import pytest

from core.providers import base
from core.providers.base import ProviderError
from core.providers.ollama_request import build_body
from core.request import ChatRequest, Message, ToolCall, ToolSpec
from core.store.models import ModelConfig


def config(**params: object) -> ModelConfig:
    return ModelConfig(name="o", provider="ollama-native", model="llama3.2", params=dict(params))


def test_sampling_params_go_under_options_and_max_tokens_is_num_predict() -> None:
    request = ChatRequest.from_prompt("hi", system="Be brief", params={"max_tokens": 64, "stop": "\n", "keep_alive": "10m"})
    body = build_body(config(temperature=0.2, top_p=0.9, seed=7, format="json", think=True), request, stream=True)
    assert body == {
        "model": "llama3.2",
        "messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "hi"}],
        "format": "json",
        "think": True,
        "keep_alive": "10m",
        "options": {"temperature": 0.2, "top_p": 0.9, "seed": 7, "num_predict": 64, "stop": ["\n"]},
        "stream": True,
    }


def test_openai_names_are_translated() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = build_body(
        config(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}, reasoning_effort="low"),
        ChatRequest.from_prompt("hi"),
        stream=False,
    )
    assert body["format"] == schema and body["think"] == "low" and body["stream"] is False
    assert build_body(config(response_format={"type": "json_object"}), ChatRequest.from_prompt("x"), stream=True)["format"] == "json"


def test_explicit_options_merge_with_flat_params() -> None:
    body = build_body(config(options={"num_ctx": 8192, "temperature": 1.0}, temperature=0.1), ChatRequest.from_prompt("x"), stream=True)
    assert body["options"] == {"num_ctx": 8192, "temperature": 0.1}


@pytest.mark.parametrize("name", ["n", "logit_bias", "parallel_tool_calls", "thinking_budget"])
def test_params_without_an_ollama_equivalent_are_reported(name: str) -> None:
    with pytest.raises(ProviderError) as caught:
        build_body(config(**{name: 1}), ChatRequest.from_prompt("x"), stream=True)
    assert caught.value.error_type == base.UNSUPPORTED and name in caught.value.message


def test_tool_round_trip_sends_arguments_as_objects_and_names_the_tool_answered() -> None:
    tool = ToolSpec(name="get_weather", parameters={"type": "object", "properties": {"city": {"type": "string"}}})
    request = ChatRequest(
        messages=[
            Message("user", "weather?"),
            Message("assistant", "", tool_calls=[ToolCall("call_0", "get_weather", '{"city": "Paris"}')]),
            Message("tool", '{"temp": 18}', tool_call_id="call_0"),
        ],
        tools=[tool],
    )
    body = build_body(config(), request, stream=True)
    assert body["messages"][1:] == [
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_0", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": '{"temp": 18}', "tool_name": "get_weather", "tool_call_id": "call_0"},
    ]
    assert body["tools"][0]["function"]["name"] == "get_weather"


def test_tool_choice_none_sends_no_tools_and_a_forced_choice_is_reported() -> None:
    tools = [ToolSpec(name="t")]
    assert "tools" not in build_body(config(), ChatRequest.from_prompt("x", tools=tools, tool_choice="none"), stream=True)
    with pytest.raises(ProviderError) as caught:
        build_body(config(), ChatRequest.from_prompt("x", tools=tools, tool_choice="required"), stream=True)
    assert caught.value.error_type == base.UNSUPPORTED


def test_invalid_tool_arguments_cannot_be_sent_back() -> None:
    request = ChatRequest(messages=[Message("user", "x"), Message("assistant", "", tool_calls=[ToolCall("c", "t", "{not json")])])
    with pytest.raises(ProviderError) as caught:
        build_body(config(), request, stream=True)
    assert caught.value.error_type == base.BAD_REQUEST
