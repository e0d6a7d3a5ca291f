"""The app's side of its reader processes (core.readerproc) at both ends of a run: a reader
forked ahead of the first run, and what is kept of a run whose reader died — more of it
checkpointed than reached the app, a 400 half read, a run it had saved, a save that fails.
The deaths are the states a reader leaves, then `reader_died` as the thread reading its
socket calls it: the moments they need (between a checkpoint and a batch, between the save
and its "done") are too short for a test to kill a real reader in."""

from __future__ import annotations

import logging
import os

import pytest

from core import readerproc
from core.events import Failed, Phase, ReasoningDelta, TextDelta, WireFrame
from core.metrics import estimate_tokens
from core.providers.base import INTERRUPTED
from core.readerpool import Pool
from core.readerproc import ReaderRunHandle, prewarm
from core.request import ChatRequest
from core.response import ResponseBuilder
from core.runner import RunOptions, prompt_text
from core.store.models import Run, new_run_id

from procs import alive, children
from runkit import every_event_of, openai_config
from waiting import poll


@pytest.mark.process  # a reader process
def test_prewarm_forks_a_reader_before_any_run(monkeypatch) -> None:
    """The app calls prewarm once it is up so that its first ctrl+r finds a reader waiting,
    instead of waiting for the forker's preload (the SDKs imported: seconds)."""
    fresh = Pool()  # its forker not started yet: whatever it forks is prewarm's doing
    monkeypatch.setattr(readerproc, "pool", fresh)
    before = set(children(os.getpid()))
    try:
        assert prewarm()
        poll(
            lambda: [pid for pid in set(children(os.getpid())) - before if any(map(alive, children(pid)))],
            "a reader forked by prewarm (a new forker with a live child) before any run",
        )
    finally:
        fresh.close()


async def test_a_reader_that_died_after_a_checkpoint_the_app_never_saw_keeps_the_checkpoint(store, caplog) -> None:
    """A reader checkpoints the run into the database as it streams and sends the app its
    events in batches: killed between a checkpoint and the batch carrying the same words, the
    database holds more of the answer than reached the app. The run ends, and is saved, with
    the longer answer and every checkpointed frame (what the wire did), cut off by an error,
    and the figures of what reached the app; the app's log says which run lost its reader."""
    config = openai_config("http://127.0.0.1:9", "absent")
    request = ChatRequest.from_prompt("count to three")
    handle = ReaderRunHandle(config, request, RunOptions(store=store, run_id=new_run_id()))
    handle._track()
    assert (handle.model_config, handle.stream) == (config.name, True)  # as a thread run's handle
    # What the reader wrote before it died: the run's start, then a checkpoint of three words.
    store.create_run(
        Run(id=handle.run_id, model_config_name=config.name, provider=config.provider, model=config.model, request=request.to_dict())
    )
    checkpoint = ResponseBuilder()
    checkpoint.add_reasoning("let me count")
    checkpoint.add_text("one two three")
    frames = [(5.0, 'data: {"n": 1}'), (6.0, 'data: {"n": 2}'), (7.0, 'data: {"n": 3}')]
    assert store.checkpoint_run(handle.run_id, checkpoint.snapshot(), 0, frames)
    # What reached the app: the headers, the first frame's reasoning and word, and the next
    # frame without the words it carried (they were in the batch that never came).
    seen = [
        Phase("headers", 2.0, http_status=200), WireFrame(*frames[0]),
        ReasoningDelta("let me count", 5.0), TextDelta("one", 5.0), WireFrame(*frames[1]),
    ]  # fmt: skip
    handle.receive(seen, {"chunks": 2}, 0.0)
    message = "the reader process (pid 4242) ended mid-run; what streamed before it is kept"
    handle.reader_died(message)  # as the thread reading the reader's socket calls it at its end
    events = await every_event_of(handle, "the run whose reader died")
    (failed,) = [event for event in events if isinstance(event, Failed)]
    assert (failed.error, failed.error_type, failed.run_id) == (message, INTERRUPTED, handle.run_id)
    assert (failed.partial_response["content"], failed.partial_response["reasoning"]) == ("one two three", "let me count")
    assert failed.partial_response["finish_reason"] == "error"
    # The figures are the wire's as far as the app saw it: the total ends at the last frame,
    # the reasoning's tokens estimated (no usage came), the prompt's too (the server took it).
    metrics = failed.metrics
    assert (failed.http_status, metrics["ttfb_ms"], metrics["ttft_ms"], metrics["total_ms"]) == (200, 2.0, 5.0, 6.0)
    assert (metrics["reasoning_tokens"], metrics["reasoning_estimated"]) == (estimate_tokens("let me count"), True)
    assert metrics["prompt_tokens"] == estimate_tokens(prompt_text(request)) > 0
    row = store.get_run(handle.run_id)
    assert (row.status, row.error, row.error_type) == ("error", message, INTERRUPTED)
    assert (row.response, row.metrics, row.http_status) == (failed.partial_response, metrics, 200)
    assert [(frame.offset_ms, frame.data) for frame in store.get_frames(handle.run_id)] == frames
    errors = [r.getMessage() for r in caplog.records if r.name == "llmwb" and r.levelno == logging.ERROR]
    assert f"run {handle.run_id}: {message}" in errors


async def test_a_reader_that_died_reading_a_400_counts_no_prompt_tokens(store) -> None:
    """A 400 is the server refusing the request: no prompt was read, so none is counted (as
    a run on a thread counts none), though the reader died before the error's body was in."""
    request = ChatRequest.from_prompt("count to three")
    handle = ReaderRunHandle(openai_config("http://127.0.0.1:9", "absent"), request, RunOptions(store=store, run_id=new_run_id()))
    handle._track()
    handle.receive([Phase("headers", 2.0, http_status=400), WireFrame(3.0, '{"error": {"mess')], {}, 0.0)
    handle.reader_died("the reader process (pid 4242) ended mid-run; what streamed before it is kept")
    failed = (await every_event_of(handle, "the run whose reader died"))[-1]
    assert isinstance(failed, Failed) and failed.http_status == 400
    assert (failed.metrics["prompt_tokens"], failed.metrics["total_ms"]) == (0, 3.0)
    assert store.get_run(handle.run_id).metrics == failed.metrics


async def test_a_reader_that_saved_its_run_and_died_before_saying_so_leaves_the_run_as_saved(store) -> None:
    """Killed after its last save but before its "done" reached the app: the run the reader
    saved stands, and the app's last event carries the answer that was saved, not the part
    of it that had reached the app."""
    config = openai_config("http://127.0.0.1:9", "absent")
    request = ChatRequest.from_prompt("count to three")
    handle = ReaderRunHandle(config, request, RunOptions(store=store, run_id=new_run_id()))
    handle._track()
    saved = ResponseBuilder()
    saved.add_text("one two three")
    answer = saved.snapshot()
    store.create_run(
        Run(id=handle.run_id, model_config_name=config.name, provider=config.provider, model=config.model, request=request.to_dict())
    )
    row = store.get_run(handle.run_id)
    row.status, row.response = "ok", answer
    store.finish_run(row, [(5.0, 'data: {"n": 1}')])
    handle.receive([WireFrame(5.0, 'data: {"n": 1}'), TextDelta("one", 5.0)], {"chunks": 1}, 0.0)
    handle.reader_died("the reader process (pid 4242) ended mid-run; what streamed before it is kept")
    failed = (await every_event_of(handle, "the run whose reader died"))[-1]
    assert isinstance(failed, Failed) and failed.partial_response == answer
    row = store.get_run(handle.run_id)
    assert (row.status, row.error, row.response) == ("ok", None, answer)


async def test_a_run_whose_reader_died_still_ends_when_it_cannot_be_saved_and_the_log_says_so(
    store, monkeypatch, caplog
) -> None:
    """The save after a reader's death fails (a full disk): the run still ends with what
    reached the app, and the app's log says which run could not be saved."""
    handle = ReaderRunHandle(openai_config("http://127.0.0.1:9", "absent"), ChatRequest.from_prompt("go"), RunOptions(store=store, run_id=new_run_id()))
    handle._track()

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "finish_run", disk_full)
    handle.receive([WireFrame(5.0, 'data: {"n": 1}'), TextDelta("one", 5.0)], {"chunks": 1}, 0.0)
    handle.reader_died("the reader process (pid 4242) ended mid-run; what streamed before it is kept")
    failed = (await every_event_of(handle, "the run whose save failed"))[-1]
    assert isinstance(failed, Failed) and failed.partial_response["content"] == "one"
    errors = [r.getMessage() for r in caplog.records if r.name == "llmwb" and r.levelno == logging.ERROR]
    assert f"run {handle.run_id}: could not save it after its reader process ended" in errors
