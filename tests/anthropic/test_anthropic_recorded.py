"""Streams recorded from the live Anthropic API, replayed byte for byte through the runner."""

from __future__ import annotations

from anthropic_support import FIXTURES

from core.events import Failed, Finished, ReasoningDelta, TextDelta, ToolCallDelta, WireFrame
from core.request import ChatRequest
from core.store import Store


async def test_basic_response_assembles_text_and_usage(replay, anthropic_config, collect):
    server = await replay((FIXTURES / "basic_response.txt").read_bytes())
    outcome = await collect(anthropic_config(server.root_url), ChatRequest.from_prompt("Hi"))

    assert isinstance(outcome.last, Finished), outcome.last
    final = outcome.last.final_response
    assert final["content"] == "Hello there!"
    assert [e.content for e in outcome.of_type(TextDelta)] == ["Hello", " there", "!"]
    assert final["finish_reason"] == "stop" and final["provider_finish_reason"] == "end_turn"
    assert final["id"] == "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK"
    assert final["model"] == "claude-3-opus-latest"
    assert final["usage"]["input_tokens"] == 11 and final["usage"]["output_tokens"] == 6
    metrics = outcome.last.metrics
    assert (metrics["prompt_tokens"], metrics["completion_tokens"], metrics["total_tokens"]) == (11, 6, 17)
    assert metrics["usage_source"] == "provider"
    assert metrics["request_id"] == "req_replay_1"
    assert metrics["chunks"] == 3
    assert "thinking_blocks" not in final


async def test_ping_frames_reach_the_wire_view_but_make_no_delta(replay, anthropic_config, collect):
    server = await replay((FIXTURES / "basic_response.txt").read_bytes())
    outcome = await collect(anthropic_config(server.root_url), ChatRequest.from_prompt("Hi"))

    wire = [frame.data for frame in outcome.of_type(WireFrame)]
    assert any(frame.startswith("event: ping") for frame in wire)
    assert len(wire) == 9  # every frame of the file, ping included
    assert not outcome.of_type(ReasoningDelta) and not outcome.of_type(ToolCallDelta)


async def test_tool_use_response_assembles_the_call(replay, anthropic_config, collect):
    server = await replay((FIXTURES / "tool_use_response.txt").read_bytes())
    outcome = await collect(anthropic_config(server.root_url), ChatRequest.from_prompt("Weather in Paris?"))

    assert isinstance(outcome.last, Finished), outcome.last
    final = outcome.last.final_response
    assert final["content"] == "I'll check the current weather in Paris for you."
    assert final["finish_reason"] == "tool_calls" and final["provider_finish_reason"] == "tool_use"
    [call] = final["tool_calls"]
    assert call["index"] == 0  # first tool call, though it is content block 1
    assert call["id"] == "toolu_01NRLabsLyVHZPKxbKvkfSMn" and call["name"] == "get_weather"
    assert call["arguments"] == {"location": "Paris"} and call["arguments_valid"] is True
    assert call["arguments_raw"] == '{"location": "Paris"}'
    assert outcome.last.metrics["completion_tokens"] == 65
    assert outcome.last.metrics["prompt_tokens"] == 377

    deltas = outcome.of_type(ToolCallDelta)
    # the call shows as soon as its block starts, named, before any argument arrives
    assert (deltas[0].index, deltas[0].id, deltas[0].name, deltas[0].arguments_delta) == (
        0, "toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", "",
    )  # fmt: skip
    assert "".join(d.arguments_delta for d in deltas) == '{"location": "Paris"}'


async def test_invalid_tool_json_is_kept_raw_and_marked_invalid(replay, anthropic_config, collect):
    server = await replay((FIXTURES / "tool_use_invalid_json_response.txt").read_bytes())
    store = Store()
    outcome = await collect(anthropic_config(server.root_url), ChatRequest.from_prompt("Weather?"), store=store)

    assert isinstance(outcome.last, Finished), outcome.last
    [call] = outcome.last.final_response["tool_calls"]
    raw = '{"location": "Paris", "unit": celsius}'
    assert call["arguments_valid"] is False
    assert call["arguments_raw"] == raw and call["arguments"] == raw
    saved = store.get_run(outcome.last.run_id)
    assert saved.status == "ok" and saved.response["tool_calls"][0]["arguments_valid"] is False


async def test_recorded_run_is_in_history_with_metrics_and_frames(replay, anthropic_config, collect):
    server = await replay((FIXTURES / "tool_use_response.txt").read_bytes())
    store = Store()
    outcome = await collect(anthropic_config(server.root_url), ChatRequest.from_prompt("Weather?"), store=store)

    [run] = store.list_runs()
    assert run.id == outcome.last.run_id and run.provider == "anthropic" and run.status == "ok"
    assert run.metrics["completion_tokens"] == 65 and run.metrics["ttft_ms"] is not None
    assert run.request["endpoint"] == server.root_url + "/v1/messages"
    assert run.request["body"]["max_tokens"] == 4096
    frames = store.get_frames(run.id)
    assert "".join(f.data + "\n\n" for f in frames).encode() == (FIXTURES / "tool_use_response.txt").read_bytes()


async def test_request_carries_the_key_and_the_translated_body(replay, anthropic_config, collect):
    server = await replay((FIXTURES / "basic_response.txt").read_bytes())
    request = ChatRequest.from_prompt("Hi", system="Be brief.", params={"temperature": 0.2, "stop": "END"})
    await collect(anthropic_config(server.root_url), request)

    assert server.request_headers[0]["authorization"] == "Bearer sk-ant-test"  # anthropic 2.x sends the key as a bearer token
    assert server.requests[0] == {
        "model": "claude-sonnet-4-20250514", "max_tokens": 4096, "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.2,
        "stop_sequences": ["END"], "stream": True,
    }  # fmt: skip


async def test_stream_cut_before_message_stop_fails_with_partial_text(replay, anthropic_config, collect):
    whole = (FIXTURES / "basic_response.txt").read_bytes()
    cut = whole[: whole.index(b"event: content_block_stop")]
    server = await replay(cut)
    outcome = await collect(anthropic_config(server.root_url), ChatRequest.from_prompt("Hi"))

    assert isinstance(outcome.last, Failed)
    assert outcome.last.error_type == "stream_cut"
    assert outcome.last.partial_response["content"] == "Hello there!"


async def test_a_whole_json_message_answering_a_streamed_request_is_read(replay, anthropic_config, collect):
    message = (
        b'{"id":"msg_w","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Whole."}],'
        b'"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":2}}'
    )
    server = await replay(message, content_type="application/json")
    outcome = await collect(anthropic_config(server.root_url), ChatRequest.from_prompt("Hi", stream=True))

    assert isinstance(outcome.last, Finished), outcome.last
    assert outcome.last.final_response["content"] == "Whole."
    assert outcome.last.metrics["completion_tokens"] == 2
