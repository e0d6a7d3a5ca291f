"""After the frame that ends a run (an error event, a malformed chunk) the body often
goes on — OpenRouter follows its error chunk with `[DONE]`. The wire view keeps what
the wire did: those frames are saved and shown, read for a bounded while, and they
feed no decoder and move no figure."""

from __future__ import annotations

import asyncio

from hostile_kit import HostileServer, Received, head, openai_chunk, openai_config, run_to_end, saved_row, send, sse

from core.events import Failed, WireFrame
from core.tail import TAIL_FRAMES

ERROR = {"error": {"message": "upstream overloaded", "code": 502}}


async def test_the_done_after_an_error_chunk_is_kept_on_the_wire(store):
    body = sse(openai_chunk("kept"), ERROR, "[DONE]")
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store, wire_frames=True)
    failure = outcome.last
    assert isinstance(failure, Failed) and failure.error_type == "server_error"
    assert failure.partial_response["content"] == "kept"
    shown = [event.data for event in outcome.events if isinstance(event, WireFrame)]
    assert shown[-1] == "data: [DONE]"
    row = saved_row(store, outcome)
    assert [frame.data for frame in store.get_frames(row.id)][-1] == "data: [DONE]"


async def test_a_stream_that_goes_on_after_a_malformed_chunk_is_kept_but_not_decoded(store):
    body = sse(openai_chunk("kept"), "{not json", openai_chunk(" never shown"), openai_chunk(" nor this"), "[DONE]")
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    failure = outcome.last
    assert failure.error_type == "malformed_chunk"
    assert failure.partial_response["content"] == "kept"  # the tail feeds no decoder
    row = saved_row(store, outcome)
    frames = [frame.data for frame in store.get_frames(row.id)]
    assert frames[1] == "data: {not json" and frames[-1] == "data: [DONE]" and len(frames) == 5
    # the run's last byte is the failing frame's, not the tail's
    assert failure.metrics["total_ms"] <= store.get_frames(row.id)[1].offset_ms + 1.0


async def test_a_server_that_never_stops_after_an_error_is_read_only_a_little(store):
    async def endless_after_error(_request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(head() + sse(openai_chunk("kept"), ERROR))
        while not writer.is_closing():
            writer.write(sse(openai_chunk("more")) * 20)
            await writer.drain()

    async with HostileServer(endless_after_error) as server:
        outcome = await asyncio.wait_for(run_to_end(openai_config(server.root_url), store=store), timeout=60)
    assert outcome.last.error_type == "server_error"
    row = saved_row(store, outcome)
    assert len(store.get_frames(row.id)) == 2 + TAIL_FRAMES
