"""What the OpenAI adapter puts on the wire for tools and tool_choice, read off a
loopback server: the body a user inspects when a model ignores their tools."""

from __future__ import annotations

import pytest
from runkit import SSE_HEAD, RawServer, chunk, openai_config, run_to_end, sse

from core.events import Finished
from core.request import ChatRequest, ToolSpec

WEATHER = ToolSpec(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


async def answer(request, writer):
    writer.write(SSE_HEAD + sse(chunk({"content": "ok"}, "stop"), "[DONE]"))


async def sent_body(request: ChatRequest) -> dict:
    async with RawServer(answer) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), request)
    assert isinstance(outcome.last, Finished), outcome.last
    assert len(server.requests) == 1
    return server.requests[0].body


async def test_tools_go_out_in_the_chat_completions_shape():
    body = await sent_body(ChatRequest.from_prompt("weather?", tools=[WEATHER, ToolSpec(name="noop")]))
    assert body["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                          "parameters": WEATHER.parameters}},
        {"type": "function", "function": {"name": "noop", "description": "",
                                          "parameters": {"type": "object", "properties": {}}}},
    ]  # fmt: skip
    assert "tool_choice" not in body  # unset: the server's default (auto)


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
async def test_tool_choice_is_a_mode_word_or_a_named_function(choice, sent):
    body = await sent_body(ChatRequest.from_prompt("weather?", tools=[WEATHER], tool_choice=choice))
    assert body["tool_choice"] == sent


async def test_an_empty_tool_choice_is_left_to_the_server():
    body = await sent_body(ChatRequest.from_prompt("weather?", tools=[WEATHER], tool_choice=""))
    assert "tool_choice" not in body and len(body["tools"]) == 1


async def test_no_tools_means_no_tools_field_even_with_a_choice():
    body = await sent_body(ChatRequest.from_prompt("hi", tool_choice="required"))
    assert "tools" not in body and "tool_choice" not in body
