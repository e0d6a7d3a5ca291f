"""The real `anthropic` SDK against the simulator: stream accumulation and whole messages."""

from __future__ import annotations

import anthropic
import orjson
import pytest

from core.simulator import SimulatorServer
from core.simulator.anthropic_wire import signature_for

from .helpers import add, finished, instant, user


def events(frames: list[tuple[float, bytes]]) -> list[tuple[str, dict]]:
    parsed = []
    for _, frame in frames:
        event_line, data_line = frame.rstrip(b"\n").split(b"\n")
        parsed.append((event_line.removeprefix(b"event: ").decode(), orjson.loads(data_line.removeprefix(b"data: "))))
    return parsed


async def test_stream_accumulates_thinking_text_and_tool_use(
    server: SimulatorServer, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    claude = instant(server, "demo-claude")
    async with anthropic_client.messages.stream(model="demo-claude", max_tokens=1024, messages=user("weather?")) as stream:
        text = "".join([t async for t in stream.text_stream])
        message = await stream.get_final_message()
    assert text == claude.text
    thinking, text_block, tool = message.content
    assert (thinking.type, thinking.thinking, thinking.signature) == ("thinking", claude.reasoning, signature_for(claude.reasoning))
    assert (text_block.type, text_block.text) == ("text", claude.text)
    assert (tool.type, tool.name, tool.input) == ("tool_use", "get_weather", {"city": "東京", "unit": "celsius", "note": "café ☕"})
    assert tool.id.startswith("toolu_") and message.stop_reason == "tool_use"
    expected_output = -(-(len(claude.reasoning) + len(claude.text) + len(claude.tool_calls[0].arguments)) // 4)
    assert message.usage.output_tokens == expected_output and message.usage.input_tokens == 2


async def test_event_sequence_matches_the_api(server: SimulatorServer, anthropic_client: anthropic.AsyncAnthropic) -> None:
    instant(server, "demo-claude")
    async with anthropic_client.messages.stream(model="demo-claude", max_tokens=64, messages=user()) as stream:
        await stream.get_final_message()
    exchange = await finished(server.exchanges[-1])
    sequence = events(exchange.frames)
    names = [name for name, _ in sequence]
    assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
    starts = [data["content_block"]["type"] for name, data in sequence if name == "content_block_start"]
    assert starts == ["thinking", "text", "tool_use"]
    deltas = [data["delta"]["type"] for name, data in sequence if name == "content_block_delta"]
    assert deltas.index("signature_delta") == deltas.count("thinking_delta")  # signature closes the thinking block
    assert {"text_delta", "input_json_delta"} <= set(deltas)
    assert names.count("content_block_stop") == 3
    assert sequence[0][1]["message"]["usage"]["output_tokens"] == 1  # message_delta's usage is the cumulative one
    assert sequence[-2][1]["usage"]["output_tokens"] > 1


async def test_whole_message(server: SimulatorServer, anthropic_client: anthropic.AsyncAnthropic) -> None:
    claude = instant(server, "demo-claude")
    message = await anthropic_client.messages.create(model="demo-claude", max_tokens=64, messages=user())
    assert [block.type for block in message.content] == ["thinking", "text", "tool_use"]
    assert message.content[0].signature and message.content[2].input["city"] == "東京"
    assert message.content[1].text == claude.text and message.stop_reason == "tool_use"


@pytest.mark.parametrize("finish, stop_reason", [("stop", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use")])
async def test_finish_reasons_map_to_stop_reasons(
    server: SimulatorServer, anthropic_client: anthropic.AsyncAnthropic, finish: str, stop_reason: str
) -> None:
    add(server, name="ends", text="Some text.", finish_reason=finish, timing={"first_token_ms": 0, "gap_ms": 0})
    async with anthropic_client.messages.stream(model="ends", max_tokens=64, messages=user()) as stream:
        streamed = await stream.get_final_message()
    whole = await anthropic_client.messages.create(model="ends", max_tokens=64, messages=user())
    assert streamed.stop_reason == whole.stop_reason == stop_reason


async def test_system_prompt_and_cached_tokens_in_usage(
    server: SimulatorServer, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    add(server, name="cached", text="ok", usage={"prompt_tokens": 100, "cached_tokens": 60, "completion_tokens": 7})
    server.scenarios["cached"].timing.first_token_ms = 0
    message = await anthropic_client.messages.create(model="cached", max_tokens=8, system="be brief", messages=user())
    usage = message.usage
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens) == (40, 60, 7)


async def test_unknown_model_is_404_not_found_error(server: SimulatorServer, anthropic_client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        await anthropic_client.messages.create(model="no-such-model", max_tokens=8, messages=user())
    assert caught.value.body == {"type": "error", "error": {"type": "not_found_error", "message": "model: no-such-model"}}


async def test_request_id_header(server: SimulatorServer, anthropic_client: anthropic.AsyncAnthropic) -> None:
    instant(server, "demo-fast")
    raw = await anthropic_client.messages.with_raw_response.create(model="demo-fast", max_tokens=8, messages=user())
    assert raw.headers["request-id"].startswith("req_") and (await raw.parse()).content[0].type == "text"
