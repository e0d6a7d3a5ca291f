"""The app's runs stream in reader processes (core.readerproc): the same events, stamps
and saves as a run on a thread; what the consumer does cannot change the figures; a
cancel closes the connection; a run whose reader dies mid-stream is saved with what
streamed and ends with an error saying so. The truth is the simulator's own record of
when it wrote each frame (perf_counter: one clock for every process on the machine)."""

from __future__ import annotations

import os
import signal

from core.events import Failed, Finished, RunStarted, TextDelta, WireFrame
from core.handle import hand_over, settle
from core.providers.base import INTERRUPTED
from core.readerchild import APP_GONE
from core.readerpool import pool
from core.readerproc import ReaderRunHandle, start_run_in_reader
from core.request import ChatRequest
from core.runner import RunOptions
from core.store.models import new_run_id

from runkit import openai_config, scripted
from test_io_thread import (
    HELD_GAP_MS, TOLERANCE_MS, WORDS, hold_until_written, paced_config, server_record, threaded_simulator,
)

SLOW_WORDS = 200


def slow_config(server):  # type: ignore[no-untyped-def]
    text = " ".join(f"w{i}" for i in range(SLOW_WORDS))
    timing = {"first_token_ms": 0, "gap_ms": 50}
    server.add_scenario(scripted("slow", text=text, chunking={"mode": "word"}, timing=timing))
    return openai_config(server.root_url, "slow")


async def test_a_slow_consumer_does_not_change_ttft_or_itl_in_a_reader() -> None:
    with threaded_simulator() as (server, loop):
        handle = start_run_in_reader(paced_config(server, HELD_GAP_MS), ChatRequest.from_prompt("go"))
        deltas, last = [], None
        async for event in handle.events():
            if last is None:
                hold_until_written(server, loop)  # the consumer blocking its loop IS the thing under test
            if isinstance(event, TextDelta):
                deltas.append(event)
            last = event
        exchange = server_record(server, loop)
    assert isinstance(last, Finished), last
    metrics = last.metrics
    assert len(deltas) == metrics["chunks"] == exchange.content_frames == WORDS
    client = [d.offset_ms - deltas[0].offset_ms for d in deltas]
    truth = [(at - exchange.content_times[0]) * 1000.0 for at in exchange.content_times]
    assert max(abs(c - t) for c, t in zip(client, truth)) < TOLERANCE_MS, (client, truth)
    head_to_content = (exchange.first_content_at - exchange.head_written_at) * 1000.0
    assert abs(metrics["ttft_ms"] - metrics["ttfb_ms"] - head_to_content) < TOLERANCE_MS
    assert round(deltas[0].offset_ms, 3) == metrics["ttft_ms"]


async def test_live_ttft_in_a_reader_is_the_final_ttft(store) -> None:
    with threaded_simulator() as (server, _loop):
        handle = start_run_in_reader(paced_config(server), ChatRequest.from_prompt("go"), RunOptions(store=store))
        live_ttft, events = None, []
        async for event in handle.events():
            if isinstance(event, TextDelta) and live_ttft is None:
                live_ttft = handle.live()["ttft_ms"]
            events.append(event)
        final_live = handle.live()
    last = events[-1]
    assert isinstance(events[0], RunStarted) and events[0].run_id == handle.run_id
    assert isinstance(last, Finished)
    assert live_ttft is not None and live_ttft == last.metrics["ttft_ms"]
    assert final_live["chunks"] == last.metrics["chunks"] and final_live["ttfb_ms"] == last.metrics["ttfb_ms"]
    row = store.get_run(handle.run_id)  # saved by the reader, under the id the app knew at once
    assert row.status == "ok" and row.metrics["ttft_ms"] == last.metrics["ttft_ms"]
    assert row.owner_pid == os.getpid()  # the app answers for it (its SIGTERM handling finds it)


async def test_cancel_in_a_reader_closes_the_connection_and_saves_the_run(store) -> None:
    with threaded_simulator() as (server, loop):
        handle = start_run_in_reader(slow_config(server), ChatRequest.from_prompt("go"), RunOptions(store=store))
        events = []
        async for event in handle.events():
            events.append(event)
            if isinstance(event, TextDelta):
                handle.cancel()
        exchange = server_record(server, loop)
    last = events[-1]
    assert isinstance(last, Failed) and last.status == "cancelled"
    assert exchange.outcome == "client_disconnected" and exchange.content_frames < SLOW_WORDS
    row = store.get_run(handle.run_id)
    assert row.status == "cancelled" and row.response["content"].startswith("w0")


async def test_a_reader_killed_mid_stream_keeps_what_streamed(store) -> None:
    with threaded_simulator() as (server, _loop):
        options = RunOptions(store=store, wire_frames=True)
        handle = start_run_in_reader(slow_config(server), ChatRequest.from_prompt("go"), options)
        events, text = [], ""
        async for event in handle.events():
            events.append(event)
            if isinstance(event, TextDelta):
                text += event.content
                if text.count("w") == 3 and handle.reader_pid is not None:
                    os.kill(handle.reader_pid, signal.SIGKILL)
    last = events[-1]
    assert isinstance(last, Failed) and last.error_type == INTERRUPTED
    assert "reader process" in last.error and "what streamed before it is kept" in last.error
    assert last.partial_response["content"] == text and text.startswith("w0 w1 w2")
    assert last.metrics["ttft_ms"] == round(next(e for e in events if isinstance(e, TextDelta)).offset_ms, 3)
    row = store.get_run(handle.run_id)
    assert row.status == "error" and row.error_type == INTERRUPTED and row.error == last.error
    assert row.response["content"].startswith(text)  # what reached the app, or the reader's checkpoint
    assert len(store.get_frames(handle.run_id)) >= sum(isinstance(e, WireFrame) for e in events)


def test_a_worker_ends_when_the_app_lets_go_of_it() -> None:
    worker = pool.fork()
    worker.close()
    assert worker.ended.wait(60)  # its socket's end: only the worker's exit closes it
    assert worker.gone


async def test_a_reader_whose_app_lets_go_mid_run_saves_the_run_and_says_why(store) -> None:
    with threaded_simulator() as (server, _loop):
        handle = start_run_in_reader(slow_config(server), ChatRequest.from_prompt("go"), RunOptions(store=store))
        events = []
        async for event in handle.events():
            events.append(event)
            if isinstance(event, TextDelta) and handle._worker is not None:
                handle._worker.close()  # what the app's exit does to its workers' sockets
        assert handle._worker.ended.wait(60)  # the worker exits once the run is saved
    last = events[-1]
    assert isinstance(last, Failed) and last.status == "cancelled"
    row = store.get_run(handle.run_id)
    assert row.status == "cancelled" and row.error == APP_GONE and row.response["content"].startswith("w0")


async def test_a_run_the_app_cancels_with_a_reason_and_then_lets_go_keeps_that_reason(store) -> None:
    """ctrl+q: the app cancels every run with the quit as the reason, then ends at once.
    The reader sees the cancel before the socket's end, and the reason it was given stands."""
    with threaded_simulator() as (server, _loop):
        handle = start_run_in_reader(slow_config(server), ChatRequest.from_prompt("go"), RunOptions(store=store))
        async for event in handle.events():
            if isinstance(event, TextDelta) and handle._worker is not None:
                handle.cancel("quit mid-stream")
                handle._worker.close()  # the app gone before the run is saved
                break
        assert handle._worker.ended.wait(60)  # the worker exits once the run is saved
    row = store.get_run(handle.run_id)
    assert row.status == "cancelled" and row.error == "quit mid-stream" and row.response["content"].startswith("w0")


async def test_the_app_may_end_once_a_reader_has_its_run_and_the_quit_which_it_then_saves(store) -> None:
    """ctrl+q: the app cancels every run with the quit as the reason and waits only until
    each run's reader has it (the save is the reader's, after the app has gone): not
    while a run still waits for a reader to be forked."""
    with threaded_simulator() as (server, _loop):
        options = RunOptions(store=store, run_id=new_run_id())
        handle = ReaderRunHandle(slow_config(server), ChatRequest.from_prompt("go"), options)
        handle._track()  # as start_run_in_reader does, before a worker is free
        settle(0.0, "quit mid-stream")
        assert not hand_over(0.2)  # no reader has it yet: the app must not end
        handle.attach(pool.fork())
        assert hand_over(60)
        handle._worker.close()  # the app's end
        assert handle._worker.ended.wait(60)  # the worker exits once the run is saved
    row = store.get_run(handle.run_id)
    assert row.status == "cancelled" and row.error == "quit mid-stream"
