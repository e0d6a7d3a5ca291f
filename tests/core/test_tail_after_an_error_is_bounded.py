"""After the frame that ends a run (core.tail), a server that keeps the connection open
and sends nothing more is not waited for: the failure is reported after the tail's
short wait, not after the model's read timeout, with what arrived kept."""

from __future__ import annotations

import asyncio

from core.events import Failed
from core.request import ChatRequest
from core.runner import RunOptions, start_run

from runkit import SSE_HEAD, RawServer, chunk, openai_config, sse

ERROR = {"error": {"message": "upstream overloaded", "code": 502}}


async def test_a_server_that_falls_silent_after_an_error_is_not_waited_for(store) -> None:
    async def silent_after_error(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "kept"}), ERROR))
        await writer.drain()
        await request.reader.read()  # returns when the client hangs up

    async with RawServer(silent_after_error) as server:
        config = openai_config(server.root_url, "m", timeout=120.0)  # a read timeout far past the test's bound
        handle = start_run(config, ChatRequest.from_prompt("x"), RunOptions(store=store))
        events = await asyncio.wait_for(_all(handle), timeout=60)
    failure = events[-1]
    assert isinstance(failure, Failed) and failure.error_type == "server_error"
    assert "upstream overloaded" in failure.error and failure.partial_response["content"] == "kept"
    frames = [frame.data for frame in store.get_frames(handle.run_id)]
    assert len(frames) == 2 and frames[-1].startswith('data: {"error"')


async def _all(handle) -> list:
    return [event async for event in handle.events()]
