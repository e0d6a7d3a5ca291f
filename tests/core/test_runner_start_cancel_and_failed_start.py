"""What a run says about itself at its start, at a cancel and when it cannot be kept as it
goes: the handle and RunStarted name the config and the mode and the log says so; a run
cancelled mid-stream ends with a cancelled Failed that keeps its status, figures and id;
a start that cannot be written is logged and the run is still saved at its end (also when
that write fails only after the run was cancelled); a bug of ours is logged in words."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from core import runner
from core.events import Failed, Finished, RunStarted, TextDelta
from core.providers import base
from core.request import ChatRequest
from core.runner import RunOptions, start_run

from runkit import SSE_HEAD, RawServer, chunk, openai_config, run_to_end, scripted, sse


async def _finish(request, writer) -> None:
    writer.write(SSE_HEAD + sse(chunk({"content": "ok"}), chunk({}, "stop"), "[DONE]"))
    await writer.drain()


async def _one_chunk_then_silence(request, writer) -> None:
    """Streams one chunk, then waits for the client to hang up (it cancels)."""
    writer.write(SSE_HEAD + sse(chunk({"content": "partial"})))
    await writer.drain()
    await request.reader.read()


async def test_a_started_run_names_its_config_and_mode_in_the_handle_the_event_and_the_log(caplog) -> None:
    caplog.set_level(logging.INFO, logger="llmwb")
    async with RawServer(_finish) as server:
        handle = start_run(openai_config(server.root_url, "m-1"), ChatRequest.from_prompt("x"))
        assert (handle.model_config, handle.stream) == ("test-m-1", True)
        events = [event async for event in handle.events()]
    started = events[0]
    assert isinstance(started, RunStarted) and isinstance(events[-1], Finished)
    assert (started.run_id, started.model_config, started.stream) == (handle.run_id, "test-m-1", True)
    lines = [r.getMessage() for r in caplog.records if r.name == "llmwb"]
    assert f"run {handle.run_id} start: config=test-m-1 provider=openai-compatible model=m-1 stream=True" in lines


async def test_a_run_cancelled_mid_stream_ends_cancelled_with_its_status_figures_and_id(store) -> None:
    async with RawServer(_one_chunk_then_silence) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), RunOptions(store=store))
        events = []
        async for event in handle.events():
            events.append(event)
            if isinstance(event, TextDelta):
                handle.cancel()
    last = events[-1]
    assert isinstance(last, Failed)
    assert (last.status, last.error_type, last.error) == ("cancelled", base.CANCELLED, "cancelled by the user")
    assert (last.http_status, last.run_id) == (200, handle.run_id)
    assert last.partial_response["content"] == "partial" and last.metrics["ttft_ms"] is not None
    row = store.get_run(handle.run_id)
    assert (row.status, row.error_type, row.http_status) == ("cancelled", base.CANCELLED, 200)
    assert row.metrics["ttft_ms"] == last.metrics["ttft_ms"]


class _StartFails:
    """Wraps a store: writing the run's start fails (a full disk), once `release` is set."""

    def __init__(self, store: Any, *, held: bool) -> None:
        self.store = store
        self.entered, self.release = threading.Event(), threading.Event()
        if not held:
            self.release.set()

    def create_run(self, run: Any) -> None:
        self.entered.set()
        self.release.wait(30)
        raise OSError("disk full")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


async def test_a_start_that_cannot_be_written_is_logged_and_the_run_saved_at_its_end(store, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="llmwb")
    async with RawServer(_finish) as server:
        options = RunOptions(store=_StartFails(store, held=False))
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), options)
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished)
    failures = [r for r in caplog.records if r.name == "llmwb" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == [f"run {handle.run_id}: could not save its start"]
    assert "disk full" in str(failures[0].exc_info[1])
    row = store.get_run(handle.run_id)
    assert row.status == "ok" and row.response["content"] == "ok"


async def test_a_start_write_that_fails_after_the_cancel_still_leaves_the_run_saved_as_cancelled(
    simulator, store, monkeypatch
) -> None:
    failing = _StartFails(store, held=True)
    original_save = runner._RunState.save

    async def save(state: Any) -> None:
        failing.release.set()  # the cancelled run has reached its save: now the start's write fails
        await original_save(state)

    monkeypatch.setattr(runner._RunState, "save", save)
    handle = start_run(openai_config(simulator.root_url, "demo-fast"), ChatRequest.from_prompt("go"), RunOptions(store=failing))
    assert await asyncio.to_thread(failing.entered.wait, 30)
    handle.cancel()
    events = [event async for event in handle.events()]
    assert isinstance(events[-1], Failed) and events[-1].status == "cancelled"
    row = store.get_run(handle.run_id)
    assert row is not None and row.status == "cancelled"


async def test_a_bug_of_ours_is_logged_with_the_run_it_happened_in(simulator, store, monkeypatch, caplog) -> None:
    from core.providers.openai_chat import OpenAIChatDecoder

    def broken_finish(self):
        raise KeyError("oops")

    monkeypatch.setattr(OpenAIChatDecoder, "finish", broken_finish)
    simulator.add_scenario(scripted("ok", text="kept"))
    caplog.set_level(logging.ERROR, logger="llmwb")
    outcome = await run_to_end(openai_config(simulator.root_url, "ok"), "go", store=store)
    assert outcome.last.error_type == base.INTERNAL
    run_id = outcome.last.run_id
    failures = [r for r in caplog.records if r.name == "llmwb" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == [f"run {run_id} failed inside llmwb"]
    assert isinstance(failures[0].exc_info[1], KeyError)
