"""The real `openai` SDK's Responses API client against the simulator: its stream
parser, its stateful stream manager (which checks every event against the output
items it has seen) and its whole-response model all accept what the simulator sends."""

from __future__ import annotations

import json

import openai
import orjson

from core.simulator import SimulatorServer

from .helpers import add, finished, instant

WEATHER_TOOL = {
    "type": "function", "name": "get_weather", "description": "Current weather", "strict": False,
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}  # fmt: skip


async def test_the_sdk_stream_manager_assembles_reasoning_and_text(
    server: SimulatorServer, openai_client: openai.AsyncOpenAI
) -> None:
    scenario = instant(server, "demo-responses")
    async with openai_client.responses.stream(model="demo-responses", input="hello", instructions="Be brief") as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()

    assert final.output_text == scenario.text
    [reasoning] = [item for item in final.output if item.type == "reasoning"]
    assert reasoning.summary[0].text == scenario.reasoning
    assert final.status == "completed" and final.instructions == "Be brief"
    assert final.usage.output_tokens_details.reasoning_tokens > 0
    assert final.usage.total_tokens == final.usage.input_tokens + final.usage.output_tokens
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    # every summary delta before every text delta, and sequence numbers counting up from 0
    deltas = [k for k in kinds if k.endswith(".delta")]
    assert deltas == sorted(deltas, key=lambda k: k != "response.reasoning_summary_text.delta")
    assert [event.sequence_number for event in events] == list(range(len(events)))

    exchange = await finished(server.exchanges[-1])
    assert exchange.protocol == "responses" and b"data: [DONE]" not in b"".join(f for _, f in exchange.frames)
    assert exchange.content_frames == len(deltas)


async def test_the_sdk_stream_manager_assembles_a_function_call(
    server: SimulatorServer, openai_client: openai.AsyncOpenAI
) -> None:
    scenario = instant(server, "demo-responses-tools")
    async with openai_client.responses.stream(model="demo-responses-tools", input="weather?", tools=[WEATHER_TOOL]) as stream:
        arguments = [event.delta async for event in stream if event.type == "response.function_call_arguments.delta"]
        final = await stream.get_final_response()

    [call] = [item for item in final.output if item.type == "function_call"]
    assert (call.call_id, call.name) == ("call_paris", "get_weather")
    assert call.arguments == scenario.tool_calls[0].arguments == "".join(arguments)
    assert len(arguments) > 1  # streamed in fragments


async def test_a_whole_response_parses_and_tool_output_gets_an_answer(
    server: SimulatorServer, openai_client: openai.AsyncOpenAI
) -> None:
    instant(server, "demo-responses-tools")
    first = await openai_client.responses.create(model="demo-responses-tools", input="weather?", tools=[WEATHER_TOOL])
    [call] = [item for item in first.output if item.type == "function_call"]
    follow_up = [
        {"role": "user", "content": "weather?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": json.dumps({"temperature": 18})},
    ]
    second = await openai_client.responses.create(model="demo-responses-tools", input=follow_up, tools=[WEATHER_TOOL])
    assert second.output_text == server.scenarios["demo-responses-tools"].after_tool_results
    assert second.status == "completed"


async def test_a_length_cut_ends_as_incomplete(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    add(server, name="cut-short", text="One two three", finish_reason="length", timing={"first_token_ms": 0, "gap_ms": 0})
    async with openai_client.responses.stream(model="cut-short", input="hi") as stream:
        kinds = [event.type async for event in stream]
    assert kinds[-1] == "response.incomplete"
    whole = await openai_client.responses.create(model="cut-short", input="hi")
    assert whole.status == "incomplete" and whole.incomplete_details.reason == "max_output_tokens"


async def test_a_mid_stream_fault_is_a_failed_response(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    add(server, name="dies", text="One two three four", timing={"first_token_ms": 0, "gap_ms": 0},
        fault={"error_event_after_chunks": 2, "error_message": "Overloaded"})  # fmt: skip
    stream = await openai_client.responses.create(model="dies", input="hi", stream=True)
    events = [event async for event in stream]
    assert events[-1].type == "response.failed"
    assert (events[-1].response.error.code, events[-1].response.error.message) == ("server_error", "Overloaded")
    exchange = await finished(server.exchanges[-1])
    assert exchange.outcome == "error_event"


async def test_an_unknown_model_is_an_openai_style_404(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    try:
        await openai_client.responses.create(model="no-such-model", input="hi")
    except openai.NotFoundError as error:
        assert orjson.loads(error.response.content)["error"]["code"] == "model_not_found"
    else:
        raise AssertionError("expected a 404")
