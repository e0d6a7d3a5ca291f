"""The real `openai` SDK against the simulator: streamed and whole responses parse and assemble."""

from __future__ import annotations

import json

import openai
import orjson
import pytest

from core.simulator import SimulatorServer

from .helpers import add, collect_openai_stream, finished, instant, user


def data_payloads(frames: list[tuple[float, bytes]]) -> list[bytes]:
    return [frame.removeprefix(b"data: ").rstrip(b"\n") for _, frame in frames]


async def test_streamed_text_with_usage_chunk_last(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    scenario = instant(server, "demo-fast")
    stream = await openai_client.chat.completions.create(
        model="demo-fast", messages=user(), stream=True, stream_options={"include_usage": True}
    )
    result = await collect_openai_stream(stream)
    assert result["text"] == scenario.text and result["finish_reason"] == "stop"
    last = result["chunks"][-1]
    assert last.choices == [] and last.usage.completion_tokens == -(-len(scenario.text) // 4)
    assert result["chunks"][-2].choices[0].finish_reason == "stop"
    exchange = await finished(server.exchanges[-1])
    payloads = data_payloads(exchange.frames)
    assert payloads[-1] == b"[DONE]" and orjson.loads(payloads[-2])["choices"] == []
    assert exchange.content_frames == len(scenario.text) // 4 + (len(scenario.text) % 4 > 0)


async def test_no_usage_chunk_unless_asked(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    instant(server, "demo-fast")
    result = await collect_openai_stream(
        await openai_client.chat.completions.create(model="demo-fast", messages=user(), stream=True)
    )
    assert result["usage"] is None and all(chunk.choices for chunk in result["chunks"])
    exchange = await finished(server.exchanges[-1])
    assert not any(b'"usage"' in frame for _, frame in exchange.frames)


async def test_reasoning_arrives_before_text(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    scenario = instant(server, "demo-reasoning")
    result = await collect_openai_stream(
        await openai_client.chat.completions.create(model="demo-reasoning", messages=user(), stream=True)
    )
    assert result["reasoning"] == scenario.reasoning and result["text"] == scenario.text
    kinds = ""
    for chunk in result["chunks"][1:-1]:
        delta = chunk.choices[0].delta
        kinds += "r" if (delta.model_extra or {}).get("reasoning_content") else "t" if delta.content else "?"
    assert kinds == "r" * kinds.count("r") + "t" * kinds.count("t")  # all reasoning, then all text


async def test_parallel_tool_calls_stream_like_openai(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    instant(server, "demo-tools")
    result = await collect_openai_stream(
        await openai_client.chat.completions.create(model="demo-tools", messages=user("weather?"), stream=True)
    )
    assert result["finish_reason"] == "tool_calls" and result["text"] == ""
    calls = [result["tools"][i] for i in sorted(result["tools"])]
    assert [(c["id"], c["name"], json.loads(c["arguments"])["city"]) for c in calls] == [
        ("call_paris", "get_weather", "Paris"),
        ("call_tokyo", "get_weather", "Tokyo"),
    ]
    tool_deltas = [c.choices[0].delta.tool_calls[0] for c in result["chunks"] if c.choices and c.choices[0].delta.tool_calls]
    first = tool_deltas[0]
    assert (first.index, first.id, first.type, first.function.name, first.function.arguments) == (
        0, "call_paris", "function", "get_weather", "",
    )  # fmt: skip
    later = tool_deltas[1]
    assert later.id is None and later.function.name is None and len(later.function.arguments) == 3


async def test_whole_response_has_text_reasoning_and_tools(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    claude = instant(server, "demo-claude")
    completion = await openai_client.chat.completions.create(model="demo-claude", messages=user())
    message = completion.choices[0].message
    assert completion.object == "chat.completion" and completion.choices[0].finish_reason == "tool_calls"
    assert message.content == claude.text and message.model_extra["reasoning_content"] == claude.reasoning
    assert json.loads(message.tool_calls[0].function.arguments)["city"] == "東京"
    assert completion.usage.completion_tokens_details.reasoning_tokens == -(-len(claude.reasoning) // 4)


async def test_non_streamed_text_can_differ_for_the_compare_view(
    server: SimulatorServer, openai_client: openai.AsyncOpenAI
) -> None:
    diff = instant(server, "demo-diff")
    whole = await openai_client.chat.completions.create(model="demo-diff", messages=user())
    streamed = await collect_openai_stream(
        await openai_client.chat.completions.create(model="demo-diff", messages=user(), stream=True)
    )
    assert whole.choices[0].message.content == diff.nonstream_text and streamed["text"] == diff.text


async def test_echo_streams_back_the_last_user_message_word_by_word(
    server: SimulatorServer, openai_client: openai.AsyncOpenAI
) -> None:
    instant(server, "echo")
    messages = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"}]
    messages.append({"role": "user", "content": [{"type": "text", "text": "say these words back"}]})
    result = await collect_openai_stream(
        await openai_client.chat.completions.create(model="echo", messages=messages, stream=True)
    )
    assert result["text"] == "say these words back"
    assert [c.choices[0].delta.content for c in result["chunks"][1:-1]] == ["say", " these", " words", " back"]


async def test_unknown_model_is_404_model_not_found(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.chat.completions.create(model="no-such-model", messages=user())
    assert caught.value.code == "model_not_found"
    assert caught.value.body == {
        "message": "The model `no-such-model` does not exist",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


async def test_models_lists_every_scenario(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    add(server, name="zz-added", text="hi")
    models = [m async for m in openai_client.models.list()]
    assert {m.id for m in models} == set(server.scenarios)
    assert {(m.object, m.owned_by, m.created) for m in models} == {("model", "llmwb-simulator", 0)}


async def test_request_id_header_and_keep_alive(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    add(server, name="short", text="hi there", timing={"first_token_ms": 0, "gap_ms": 0})
    ids = []
    for _ in range(3):
        raw = await openai_client.chat.completions.with_raw_response.create(model="short", messages=user(), stream=True)
        ids.append(raw.headers["x-request-id"])
        await collect_openai_stream(raw.parse())
    assert len(set(ids)) == 3 and all(i.startswith("req_") for i in ids)
    assert all(e.outcome == "complete" for e in server.exchanges)
    assert len({e.connection_id for e in server.exchanges}) == 1  # one kept-alive connection


async def test_without_frame_recording_the_stream_is_the_same(server: SimulatorServer) -> None:
    """The embedded simulator records no frames (they would sit in the app's memory);
    what it sends must not change."""
    quiet = SimulatorServer(dict(server.scenarios), record_frames=False)
    await quiet.start()
    try:
        scenario = instant(quiet, "demo-fast")
        client = openai.AsyncOpenAI(base_url=quiet.root_url + "/v1", api_key="x", max_retries=0)
        result = await collect_openai_stream(
            await client.chat.completions.create(model="demo-fast", messages=user(), stream=True)
        )
        await client.close()
        assert result["text"] == scenario.text
        exchange = await finished(quiet.exchanges[-1])
        # nor one write time per frame: only the counts and the first content's time
        assert exchange.frames == exchange.content_times == [] and exchange.content_frames > 0
        assert exchange.first_content_at is not None
    finally:
        await quiet.stop()
