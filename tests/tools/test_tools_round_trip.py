"""A tool call answered end to end on each protocol: the first turn ends in tool
calls, the results go back, and the second request is what the provider's API expects."""

from __future__ import annotations

from tool_support import WEATHER_SCHEMA

from core.events import Finished
from core.request import ChatRequest
from core.store.models import ModelConfig
from core.tools import continuation_request, specs_for, validate_tool_definition


def save_weather_tool(store, canned_result=None):
    store.save_tool(
        validate_tool_definition("get_weather", "Current weather for a city", WEATHER_SCHEMA, canned_result=canned_result)
    )


async def test_openai_protocol_round_trip(simulator, store, collect):
    config = store.save_config(
        ModelConfig(name="sim-tools", provider="openai-compatible", model="demo-tools", base_url=simulator.root_url + "/v1")
    )
    save_weather_tool(store, canned_result='{"temp": 22}')
    first_request = ChatRequest.from_prompt(
        "Weather in Paris and Tokyo?", system="Use tools.", tools=specs_for(store, ["get_weather"]), tool_choice="auto"
    )
    first = await collect(config, first_request, store=store)
    assert isinstance(first, Finished) and first.final_response["finish_reason"] == "tool_calls"
    assert [c["id"] for c in first.final_response["tool_calls"]] == ["call_paris", "call_tokyo"]

    # Paris answered by hand, Tokyo by the tool's canned result
    next_config, follow_up = continuation_request(store, first.run_id, {"call_paris": "18°C, sunny"})
    assert next_config.name == "sim-tools"
    second = await collect(next_config, follow_up, store=store, parent_run_id=first.run_id)
    assert isinstance(second, Finished), second
    # the scenario answers tool results with its after_tool_results text
    assert second.final_response["content"].startswith("Paris: light rain")
    assert second.final_response["tool_calls"] == [] and second.final_response["finish_reason"] == "stop"

    sent = simulator.exchanges[-1].body
    assert sent["messages"] == [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "Weather in Paris and Tokyo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_paris", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'}},
                {"id": "call_tokyo", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city": "Tokyo", "unit": "celsius"}'}},
            ],
        },  # fmt: skip
        {"role": "tool", "tool_call_id": "call_paris", "content": "18°C, sunny"},
        {"role": "tool", "tool_call_id": "call_tokyo", "content": '{"temp": 22}'},
    ]
    assert sent["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city",
                                          "parameters": WEATHER_SCHEMA}},
    ]  # fmt: skip
    assert sent["tool_choice"] == "auto" and sent["stream"] is True
    assert store.get_run(second.run_id).parent_run_id == first.run_id


async def test_anthropic_round_trip_sends_signed_thinking_and_tool_results_back(simulator, store, collect):
    config = store.save_config(
        ModelConfig(name="sim-claude", provider="anthropic", model="demo-claude", base_url=simulator.root_url,
                    api_key_env="TEST_ANTHROPIC_KEY")
    )  # fmt: skip
    save_weather_tool(store)
    first_request = ChatRequest.from_prompt(
        "Weather in Tokyo?", system="Use tools.", tools=specs_for(store, ["get_weather"]), tool_choice="auto",
        params={"thinking_budget": 1024},
    )  # fmt: skip
    first = await collect(config, first_request, store=store)
    assert isinstance(first, Finished) and first.final_response["finish_reason"] == "tool_calls"
    [call] = first.final_response["tool_calls"]
    [thinking] = first.final_response["thinking_blocks"]

    next_config, follow_up = continuation_request(store, first.run_id, {call["id"]: "12°C, rain"})
    second = await collect(next_config, follow_up, store=store, parent_run_id=first.run_id)
    assert isinstance(second, Finished), second
    assert "東京" in second.final_response["content"] and second.final_response["finish_reason"] == "stop"
    assert isinstance(second, Finished), second

    sent = simulator.exchanges[-1].body
    assert sent == {
        "model": "demo-claude",
        "max_tokens": 4096 + 1024,
        "system": "Use tools.",
        "messages": [
            {"role": "user", "content": "Weather in Tokyo?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": thinking["thinking"], "signature": thinking["signature"]},
                    {"type": "text", "text": "I'll look up the current weather in 東京 for you."},
                    {"type": "tool_use", "id": call["id"], "name": "get_weather",
                     "input": {"city": "東京", "unit": "celsius", "note": "café ☕"}},
                ],
            },  # fmt: skip
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "12°C, rain"}]},
        ],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tools": [{"name": "get_weather", "input_schema": WEATHER_SCHEMA, "description": "Current weather for a city"}],
        "tool_choice": {"type": "auto"},
        "stream": True,
    }
    assert thinking["signature"]
    assert [r.parent_run_id for r in store.list_runs()] == [first.run_id, None]
