"""Native Ollama end to end over loopback: llmwb's `ollama-native` kind against the
simulator's /api/chat (NDJSON), streamed and not, tools, faults, retries, discovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from core.curl import as_curl
from core.discovery import list_models
from core.events import Failed, Finished, ReasoningDelta, TextDelta, ToolCallDelta
from core.providers import base
from core.request import ChatRequest, Message, ToolCall, ToolSpec
from core.runner import RunOptions, run
from core.simulator import SimulatorServer, scenario_from_dict
from core.simulator.ollama_wire import server_durations
from core.store.models import ModelConfig

HAIKU = {
    "name": "haiku", "api": "ollama", "reasoning": "Five, seven, five.", "text": "Old pond, a frog jumps in.",
    "chunking": {"mode": "word"}, "timing": {"first_token_ms": 40, "gap_ms": 3},
}  # fmt: skip


@pytest.fixture
async def server() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer() as running:
        running.add_scenario(scenario_from_dict(HAIKU))
        yield running
    assert [e.error for e in running.exchanges if e.error] == []


def native(server: SimulatorServer, model: str, **params: Any) -> ModelConfig:
    return ModelConfig(
        name=f"o-{model}", provider="ollama-native", model=model, base_url=server.root_url,
        params={"max_retries": 0, **params},
    )  # fmt: skip


async def run_events(config: ModelConfig, request: ChatRequest | str) -> list[Any]:
    if isinstance(request, str):
        request = ChatRequest.from_prompt(request)
    return [event async for event in run(config, request, RunOptions(wire_frames=True))]


async def test_streamed_run_decodes_ndjson_and_keeps_the_servers_timings(server: SimulatorServer) -> None:
    events = await run_events(native(server, "haiku"), "a haiku please")
    final = events[-1]
    assert isinstance(final, Finished), final
    exchange = server.exchanges[-1]
    assert exchange.path == "/api/chat" and exchange.protocol == "ollama" and exchange.streamed
    assert exchange.body is not None and exchange.body["stream"] is True
    assert "".join(e.reasoning for e in events if isinstance(e, ReasoningDelta)) == "Five, seven, five."
    assert "".join(e.content for e in events if isinstance(e, TextDelta)) == "Old pond, a frog jumps in."
    response, metrics = final.final_response, final.metrics
    assert metrics["usage_source"] == "provider"
    assert metrics["chunks"] == exchange.content_frames  # one content delta per NDJSON line written
    # What the server said of itself is kept as it said it, beside llmwb's own figures.
    lines = exchange.content_frames
    said = server_durations(server.scenarios["haiku"].timing, lines, metrics["prompt_tokens"], metrics["completion_tokens"])
    timings = response["server_timings"]
    assert timings["source"] == "ollama"
    assert timings["decode_tokens"] == metrics["completion_tokens"]
    assert timings["decode_ms"] == said["eval_duration"] / 1e6
    assert timings["load_ms"] == said["load_duration"] / 1e6
    assert "server_timings" not in metrics and "load_ms" not in metrics  # metric names are a contract


async def test_non_streamed_run_is_one_object(server: SimulatorServer) -> None:
    events = await run_events(native(server, "haiku"), ChatRequest.from_prompt("x", stream=False))
    final = events[-1]
    assert isinstance(final, Finished)
    assert server.exchanges[-1].body["stream"] is False
    assert final.final_response["content"] == "Old pond, a frog jumps in."
    assert final.final_response["reasoning"] == "Five, seven, five."
    assert final.metrics["ttft_ms"] == final.metrics["total_ms"]
    assert final.final_response["server_timings"]["decode_tokens"] == final.metrics["completion_tokens"]


async def test_tool_calls_arrive_whole_and_a_tool_result_continues(server: SimulatorServer) -> None:
    server.scenarios["demo-tools"].timing.first_token_ms = 0
    server.scenarios["demo-tools"].timing.gap_ms = 0
    config = native(server, "demo-tools")
    tool = ToolSpec(name="get_weather", parameters={"type": "object", "properties": {"city": {"type": "string"}}})
    events = await run_events(config, ChatRequest.from_prompt("weather?", tools=[tool]))
    final = events[-1]
    assert isinstance(final, Finished)
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [(d.index, d.id, d.name) for d in deltas] == [(0, "call_paris", "get_weather"), (1, "call_tokyo", "get_weather")]
    assert orjson.loads(deltas[0].arguments_delta) == {"city": "Paris", "unit": "celsius"}  # whole, in one delta
    assert final.final_response["finish_reason"] == "tool_calls"
    assert server.exchanges[-1].body["tools"][0]["function"]["name"] == "get_weather"

    calls = [ToolCall(c["id"], c["name"], c["arguments_raw"]) for c in final.final_response["tool_calls"]]
    follow_up = ChatRequest(
        messages=[
            Message("user", "weather?"), Message("assistant", "", tool_calls=calls),
            Message("tool", '{"t": 18}', tool_call_id="call_paris"), Message("tool", '{"t": 22}', tool_call_id="call_tokyo"),
        ],
        tools=[tool],
    )  # fmt: skip
    answer = (await run_events(config, follow_up))[-1]
    assert isinstance(answer, Finished) and answer.final_response["content"].startswith("Paris: light rain")
    sent = server.exchanges[-1].body["messages"]
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris", "unit": "celsius"}
    assert [(m["tool_name"], m["content"]) for m in sent[2:]] == [("get_weather", '{"t": 18}'), ("get_weather", '{"t": 22}')]


@pytest.mark.parametrize(
    ("fault", "error_type", "words"),
    [
        ({"http_status": 429}, base.RATE_LIMIT, "HTTP 429"),
        ({"error_event_after_chunks": 2, "error_message": "model runner has unexpectedly stopped"}, base.PROVIDER_ERROR, "unexpectedly stopped"),
        ({"malformed_after_chunks": 2}, base.MALFORMED, "not JSON"),
        ({"drop_after_chunks": 2}, base.STREAM_CUT, ""),
    ],
)
async def test_faults_are_errors_that_keep_what_arrived(
    server: SimulatorServer, fault: dict[str, Any], error_type: str, words: str
) -> None:
    server.add_scenario(scenario_from_dict({**HAIKU, "name": "faulty", "reasoning": "", "fault": fault}))
    final = (await run_events(native(server, "faulty"), "x"))[-1]
    assert isinstance(final, Failed)
    assert final.error_type == error_type and words in final.error
    if "http_status" not in fault:
        assert final.partial_response["content"] == "Old pond,"  # the two lines that arrived


async def test_unknown_model_is_not_found_with_ollamas_words(server: SimulatorServer) -> None:
    final = (await run_events(native(server, "llama9"), "x"))[-1]
    assert isinstance(final, Failed)
    assert final.error_type == base.NOT_FOUND and final.http_status == 404
    assert 'model "llama9" not found' in final.error


async def test_dead_host_is_a_connection_error() -> None:
    async def refuse() -> int:
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        return port

    config = ModelConfig(name="dead", provider="ollama-native", model="m", base_url=f"http://127.0.0.1:{await refuse()}", params={"max_retries": 0})
    final = (await run_events(config, "x"))[-1]
    assert isinstance(final, Failed) and final.error_type == base.CONNECTION and "cannot connect" in final.error


async def test_a_503_is_retried_and_the_retry_counted() -> None:
    busy = b'{"error":"busy, later"}'
    answers = [
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 0\r\n"
        b"content-length: %d\r\n\r\n%s" % (len(busy), busy),
        b'HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n'
        b'{"model":"m","message":{"role":"assistant","content":"ok"},"done":false}\n'
        b'{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":1,"prompt_eval_count":1}\n',
    ]
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")))
            seen.append(await reader.readexactly(length))
            writer.write(answers.pop(0))
            await writer.drain()
        writer.close()

    raw = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        config = ModelConfig(name="r", provider="ollama-native", model="m", base_url=f"http://127.0.0.1:{raw.sockets[0].getsockname()[1]}")
        final = (await run_events(config, "x"))[-1]
    finally:
        raw.close()
    assert isinstance(final, Finished), final
    assert final.final_response["content"] == "ok" and final.metrics["retries"] == 1 and len(seen) == 2


async def test_discovery_lists_api_tags(server: SimulatorServer) -> None:
    names = await list_models(native(server, "haiku"))
    assert "haiku" in names and "demo-ollama" in names
    assert server.exchanges[-1].path == "/api/tags"


def test_curl_posts_the_native_body(server: SimulatorServer) -> None:
    command = as_curl(native(server, "haiku", temperature=0.3), ChatRequest.from_prompt("hi"))
    assert f"{server.root_url}/api/chat" in command
    assert '"options": {' in command and '"temperature": 0.3' in command
    assert "Authorization" not in command  # no key variable named: no header


async def test_the_demo_model_on_the_embedded_simulator_speaks_ollama() -> None:
    from core.providers.registry import resolve

    config = ModelConfig(name="demo-ollama", provider="simulator", model="demo-ollama")
    resolved = resolve(config)
    assert resolved.protocol == "ollama" and resolved.adapter.endpoint(resolved.config).endswith("/api/chat")
