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


async def test_a_tool_turn_goes_back_as_assistant_tool_calls_and_tool_messages():
    from core.request import Message, ToolCall

    request = ChatRequest(
        system="Be brief.",
        messages=[
            Message(role="user", content="Weather in Paris?"),
            Message(role="assistant", content="", tool_calls=[ToolCall(id="call_1", name="get_weather", arguments='{"city": "Paris"}')]),
            Message(role="tool", content='{"temp": 21}', tool_call_id="call_1"),
            Message(role="assistant", content="Checking again.", tool_calls=[ToolCall(id="call_2", name="get_weather", arguments="{}")]),
            Message(role="tool", content="{}", tool_call_id="call_2"),
        ],
        tools=[WEATHER],
    )
    body = await sent_body(request)
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
        {"role": "assistant", "content": "Checking again.", "tool_calls": [
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_2", "content": "{}"},
    ]  # fmt: skip


async def test_params_merge_run_over_config_and_llmwbs_own_caps_stay_home():
    request = ChatRequest.from_prompt("hi", params={"temperature": 0.7, "stream_options": {"chunk_size": 2}})
    async with RawServer(answer) as server:
        config = openai_config(server.root_url, "m", params={"temperature": 0.1, "seed": 7, "max_frames": 1000, "deadline": 30})
        outcome = await run_to_end(config, request)
    assert isinstance(outcome.last, Finished), outcome.last
    body = server.requests[0].body
    assert (body["model"], body["temperature"], body["seed"], body["stream"]) == ("m", 0.7, 7, True)
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["stream_options"] == {"chunk_size": 2, "include_usage": True}
    for own in ("max_retries", "max_frames", "deadline"):
        assert own not in body


async def test_a_non_streamed_request_asks_for_no_stream_options():
    async def whole(request, writer):
        from runkit import json_response

        writer.write(json_response(200, {"id": "c", "model": "m", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}))  # fmt: skip

    async with RawServer(whole) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), ChatRequest.from_prompt("hi", stream=False))
    assert isinstance(outcome.last, Finished), outcome.last
    body = server.requests[0].body
    assert body["stream"] is False and "stream_options" not in body
    assert "/v1/chat/completions" in server.requests[0].head.split("\r\n")[0]
