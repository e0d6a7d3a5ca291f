"""A run's total time ends where its last byte arrived (not when the figures were worked
out), and with debug logging each frame is logged with its stamp, as the wire view shows it."""

from __future__ import annotations

import logging

from core.events import Finished, WireFrame
from core.request import ChatRequest
from core.runner import start_run

from runkit import SSE_HEAD, RawServer, chunk, openai_config, sse

BODY = SSE_HEAD + sse(chunk({"content": "one"}), chunk({"content": " two"}), chunk({}, "stop"), "[DONE]")


async def answer(request, writer) -> None:
    writer.write(BODY)
    await writer.drain()


async def test_the_total_time_is_the_arrival_of_the_last_frame() -> None:
    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"))
        events = [event async for event in handle.events()]
    last = events[-1]
    frames = [e for e in events if isinstance(e, WireFrame)]
    assert isinstance(last, Finished) and frames[-1].data == "data: [DONE]"
    assert last.metrics["total_ms"] == round(frames[-1].offset_ms, 3)


async def test_debug_logging_shows_each_frame_with_its_stamp(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="llmwb")
    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"))
        events = [event async for event in handle.events()]
    frames = [e for e in events if isinstance(e, WireFrame)]
    logged = [r.getMessage() for r in caplog.records if r.name == "llmwb" and " frame +" in r.getMessage()]
    assert logged == [f"run {handle.run_id} frame +{f.offset_ms:.1f}ms {f.data}" for f in frames]
    assert len(logged) == 4


async def test_without_debug_logging_no_frame_is_logged(caplog) -> None:
    caplog.set_level(logging.INFO, logger="llmwb")
    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"))
        [event async for event in handle.events()]
    assert not [r for r in caplog.records if " frame +" in r.getMessage()]
