"""Bounds: a frame, a body, the number of frames, and the run's time each have a cap;
past one the run ends (`too_large`, or `timeout` for the deadline) with what arrived
kept and the connection closed, so an endless or trickling server cannot hold
memory, disk or the user's run without end."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from hostile_kit import (
    HostileServer,
    Received,
    head,
    openai_chunk,
    openai_config,
    run_to_end,
    saved_row,
    send,
    sse,
    trickle,
    whole,
)

from core.events import Failed, TextDelta
from core.providers.base import DEFAULT_DEADLINE_S, Limits
from core.request import ChatRequest
from core.runner import RunOptions, run

FIRST = sse(openai_chunk("kept"))


def endless(first: bytes = FIRST, piece: bytes = sse(openai_chunk("more"))) -> object:
    """A stream that never ends: `piece` again and again until the client is gone."""

    async def handler(_request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(head() + first)
        while not writer.is_closing():
            writer.write(piece * 50)
            await writer.drain()

    return handler


async def test_a_frame_over_the_cap_ends_the_run_as_too_large(store):
    body = FIRST + sse(openai_chunk("x" * 5000)) + sse(openai_chunk("never read"), "[DONE]")
    async with HostileServer(send(body)) as server:
        config = openai_config(server.root_url, params={"max_frame_bytes": 1000})
        outcome = await run_to_end(config, store=store)
    failure = outcome.last
    assert isinstance(failure, Failed) and failure.error_type == "too_large"
    assert failure.error == "one frame passed 1000 bytes (max_frame_bytes): stopped reading; what arrived before is kept"
    assert failure.partial_response["content"] == "kept"
    row = saved_row(store, outcome)
    assert len(store.get_frames(row.id)) == 1


async def test_an_endless_line_is_cut_at_the_frame_cap(store):
    async with HostileServer(endless(first=b"data: ", piece=b"y" * 1000)) as server:
        config = openai_config(server.root_url, params={"max_frame_bytes": 100_000})
        outcome = await run_to_end(config, store=store)
    assert outcome.last.error_type == "too_large" and "max_frame_bytes" in outcome.last.error


async def test_too_many_frames_end_the_run_with_those_before_kept(store):
    body = sse(*[openai_chunk(f"{i} ") for i in range(50)], "[DONE]")
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url, params={"max_frames": 10}), store=store)
    assert outcome.last.error_type == "too_large" and "the number of frames passed 10" in outcome.last.error
    assert outcome.response["content"] == "".join(f"{i} " for i in range(10))
    row = saved_row(store, outcome)
    assert len(store.get_frames(row.id)) == 10


async def test_an_endless_stream_stops_at_the_response_cap(store):
    async with HostileServer(endless()) as server:
        config = openai_config(server.root_url, params={"max_response_bytes": 200_000})
        outcome = await run_to_end(config, store=store)
    failure = outcome.last
    assert failure.error_type == "too_large" and "max_response_bytes" in failure.error
    assert failure.partial_response["content"].startswith("keptmoremore")
    frame_size = len(sse(openai_chunk("more"))) - 2  # without the blank line
    row = saved_row(store, outcome)
    assert len(store.get_frames(row.id)) <= 200_000 // frame_size


async def test_a_whole_body_over_the_cap_is_not_read_into_memory(store):
    big = orjson.dumps({"choices": [{"index": 0, "message": {"content": "z" * 300_000}}]})
    async with HostileServer(send(whole(200, big))) as server:
        config = openai_config(server.root_url, params={"max_response_bytes": 100_000})
        outcome = await run_to_end(config, stream=False, store=store)
    assert outcome.last.error_type == "too_large"
    saved_row(store, outcome)


async def test_a_trickling_body_ends_at_the_deadline_with_what_arrived(store):
    """Each byte comes well within the per-read timeout; only the deadline can end it."""
    async with HostileServer(trickle(head() + FIRST, b"data: ", every_s=0.02)) as server:
        config = openai_config(server.root_url, timeout=5, params={"deadline": 0.5})
        outcome = await run_to_end(config, store=store)
    failure = outcome.last
    assert failure.error_type == "timeout" and "deadline" in failure.error
    assert failure.partial_response["content"] == "kept"
    row = saved_row(store, outcome)
    assert [f.data for f in store.get_frames(row.id)] == [FIRST.decode().strip()]


async def test_trickling_headers_end_at_the_deadline(store):
    async with HostileServer(trickle(b"HTTP/1.1 200 OK\r\n", b"x-slow: abcdef\r\n", every_s=0.02)) as server:
        config = openai_config(server.root_url, timeout=5, params={"deadline": 0.5})
        outcome = await run_to_end(config, store=store)
    assert outcome.last.error_type == "timeout"
    assert "waiting for the response headers" in outcome.last.error
    saved_row(store, outcome)


async def test_cancelling_an_endless_stream_saves_it_as_cancelled(store):
    async with HostileServer(endless()) as server:
        events = run(openai_config(server.root_url), ChatRequest.from_prompt("go"), RunOptions(store=store))
        run_id = None
        deltas = 0
        async for event in events:
            run_id = getattr(event, "run_id", run_id)
            deltas += isinstance(event, TextDelta)
            if deltas == 100:
                break
        await events.aclose()
    row = store.get_run(run_id)
    assert row.status == "cancelled" and row.response["content"].startswith("keptmore")


@pytest.mark.parametrize(
    "params, words",
    [
        ({"max_frames": -1}, "param max_frames must be a whole number > 0, got -1"),
        ({"max_response_bytes": 1.5}, "param max_response_bytes must be a whole number > 0, got 1.5"),
        ({"deadline": "soon"}, "param deadline must be a number of seconds > 0, got 'soon'"),
        ({"max_frame_bytes": True}, "param max_frame_bytes must be a whole number > 0, got True"),
    ],
)
async def test_a_bad_cap_is_a_bad_request_before_anything_is_sent(store, params, words):
    async with HostileServer(send(FIRST)) as server:
        outcome = await run_to_end(openai_config(server.root_url, params=params), store=store)
        assert server.received == []
    assert (outcome.last.error_type, outcome.last.error) == ("bad_request", words)
    saved_row(store, outcome)


async def test_caps_are_llmwb_settings_never_sent_to_the_server(store):
    async with HostileServer(send(sse(openai_chunk("hi", "stop"), "[DONE]"))) as server:
        params = {"deadline": 30, "max_frames": 1000, "max_frame_bytes": 10_000, "max_response_bytes": 100_000}
        await run_to_end(openai_config(server.root_url, params=params), store=store)
        [request] = server.received
    sent = orjson.loads(request.body)
    assert not set(params) & set(sent) and sent["messages"][0]["content"] == "go"


def test_the_default_deadline_is_generous_and_grows_with_the_timeout():
    assert Limits().deadline_for(None) == DEFAULT_DEADLINE_S == 600
    assert Limits().deadline_for(120) == 1200
    assert Limits(deadline=5).deadline_for(120) == 5
