"""Runs read and stamp their bytes on the core's I/O thread: what a consumer does with
the events (draw them slowly, block its loop) changes when it sees them, never the
figures. The truth is the simulator's own record of when it wrote each frame (same
process, same perf_counter clock), from a simulator on a thread of its own so the
consumer blocking the test's loop cannot hold the server back either."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from core.events import Failed, Finished, TextDelta, to_json_line
from core.request import ChatRequest
from core.runner import RunOptions, start_run
from core.simulator import SimulatorServer

from runkit import openai_config, scripted
from waiting import poll

# Six words, and the consumer holds its loop from the run's first event until the server has
# written the whole answer (as one long render pass would): a stamp taken when the consumer
# gets to an event would put every delta at the moment of release, HELD_GAP_MS × 5 = 300 ms
# off the wire by the last one, and the TTFT past the whole stream. (Sleeping per event held
# each run ~3.5 s for the same check.)
FIRST_TOKEN_MS, GAP_MS, WORDS = 150, 20, 6
HELD_GAP_MS = 60
# The reader's own lateness is scheduling noise: a few ms on a quiet machine, 44 ms measured
# once at a load average of 14 on 2 cores. The bound sits between that and what a consumer's
# clock would give (300 ms), so load cannot fail it and a consumer's clock cannot pass it.
TOLERANCE_MS = 100.0


@contextmanager
def threaded_simulator() -> Iterator[tuple[SimulatorServer, asyncio.AbstractEventLoop]]:
    loop = asyncio.new_event_loop()
    server = SimulatorServer(host="127.0.0.1", port=0)
    thread = threading.Thread(target=loop.run_forever, name="test-simulator", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server, loop
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def paced_config(server: SimulatorServer, gap_ms: int = GAP_MS):
    text = " ".join(f"w{i}" for i in range(WORDS))
    timing = {"first_token_ms": FIRST_TOKEN_MS, "gap_ms": gap_ms}
    server.add_scenario(scripted("paced", text=text, chunking={"mode": "word"}, timing=timing))
    return openai_config(server.root_url, "paced")


def hold_until_written(server: SimulatorServer, loop: asyncio.AbstractEventLoop) -> None:
    """Block the calling thread (the consumer's loop) until the server has written the whole
    answer: a consumer that does not get to the events while they arrive."""
    poll(lambda: server.exchanges, "the request at the simulator")
    server_record(server, loop)


def server_record(server: SimulatorServer, loop: asyncio.AbstractEventLoop):
    exchange = server.exchanges[-1]
    asyncio.run_coroutine_threadsafe(exchange.finished.wait(), loop).result(10)
    return exchange


async def test_a_slow_consumer_does_not_change_ttft_or_itl() -> None:
    with threaded_simulator() as (server, loop):
        config = paced_config(server, HELD_GAP_MS)
        handle = start_run(config, ChatRequest.from_prompt("go"))
        deltas, last = [], None
        async for event in handle.events():
            if last is None:
                # Holding here IS the thing under test: a consumer that blocks its own loop
                # (a render pass) must not delay the stamps.
                hold_until_written(server, loop)
            if isinstance(event, TextDelta):
                deltas.append(event)
            last = event
        exchange = server_record(server, loop)

    assert isinstance(last, Finished), last
    metrics = last.metrics
    assert len(deltas) == metrics["chunks"] == exchange.content_frames == WORDS
    # Arrival times relative to the first content frame, client vs server.
    client = [d.offset_ms - deltas[0].offset_ms for d in deltas]
    truth = [(at - exchange.content_times[0]) * 1000.0 for at in exchange.content_times]
    worst = max(abs(c - t) for c, t in zip(client, truth))
    assert worst < TOLERANCE_MS, (client, truth)
    # TTFT after the headers, against the server's head-to-first-content time.
    head_to_content = (exchange.first_content_at - exchange.head_written_at) * 1000.0
    assert abs(metrics["ttft_ms"] - metrics["ttfb_ms"] - head_to_content) < TOLERANCE_MS
    server_gaps = [(b - a) * 1000.0 for a, b in zip(exchange.content_times, exchange.content_times[1:])]
    assert metrics["itl_max_ms"] < max(server_gaps) + TOLERANCE_MS
    # The deltas carry the stamps the metrics are made of.
    assert round(deltas[0].offset_ms, 3) == metrics["ttft_ms"]


async def test_live_ttft_is_the_final_ttft() -> None:
    with threaded_simulator() as (server, _loop):
        handle = start_run(paced_config(server), ChatRequest.from_prompt("go"))
        live_ttft, last = None, None
        async for event in handle.events():
            if isinstance(event, TextDelta) and live_ttft is None:
                live_ttft = handle.live()["ttft_ms"]
            last = event
        final_live = handle.live()
    assert isinstance(last, Finished)
    assert live_ttft is not None and live_ttft == last.metrics["ttft_ms"]
    assert final_live["chunks"] == last.metrics["chunks"]
    assert final_live["ttfb_ms"] == last.metrics["ttfb_ms"]


async def test_a_drained_handle_delivers_every_event_once() -> None:
    with threaded_simulator() as (server, _loop):
        handle = start_run(paced_config(server), ChatRequest.from_prompt("go"))
        assert handle.wait_blocking(30)  # nothing drained meanwhile: the events wait in the handle
        events = handle.drain()
    assert handle.exhausted and handle.drain() == []
    assert isinstance(events[-1], Finished)
    assert "".join(e.content for e in events if isinstance(e, TextDelta)) == events[-1].final_response["content"]


def test_stamps_stay_outside_the_json_lines() -> None:
    assert to_json_line(TextDelta("这", offset_ms=12.5)) == '{"content": "这", "done": false}'
    assert TextDelta("x") == TextDelta("x", None)


async def test_cancel_saves_the_run_as_cancelled_with_its_outcome_event(store) -> None:
    with threaded_simulator() as (server, _loop):
        text = " ".join(f"w{i}" for i in range(200))
        server.add_scenario(scripted("slow", text=text, chunking={"mode": "word"}, timing={"first_token_ms": 0, "gap_ms": 50}))
        handle = start_run(openai_config(server.root_url, "slow"), ChatRequest.from_prompt("go"), RunOptions(store=store))
        events = []
        async for event in handle.events():
            events.append(event)
            if isinstance(event, TextDelta):
                handle.cancel()
    last = events[-1]
    assert isinstance(last, Failed) and last.status == "cancelled"
    row = store.get_run(handle.run_id)
    assert row.status == "cancelled" and row.response["content"].startswith("w0")
