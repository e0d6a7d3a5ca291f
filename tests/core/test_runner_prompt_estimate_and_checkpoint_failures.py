"""Two runner paths a user meets without usage or with a failing disk: a server that sends
no usage gets its prompt tokens estimated from exactly what was sent (the system prompt and
every turn, nothing in between); a checkpoint that cannot be written is logged once, in
words, and the run still ends and is saved whole."""

from __future__ import annotations

import asyncio
import logging
import threading

import core.runner
from core.events import Finished
from core.request import ChatRequest, Message
from core.runner import RunOptions, start_run

from runkit import SSE_HEAD, RawServer, chunk, openai_config, sse


async def test_without_usage_the_prompt_is_estimated_from_the_system_prompt_and_every_turn() -> None:
    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "ok"}), chunk({}, "stop"), "[DONE]"))
        await writer.drain()

    # 4 + 3 × 4 characters: 4 tokens at ~4 characters a token.
    request = ChatRequest(
        system="sys1", messages=[Message("user", "aaaa"), Message("assistant", "bbbb"), Message("user", "cccc")]
    )
    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), request)
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished) and last.metrics["usage_source"] == "estimated"
    assert last.metrics["prompt_tokens"] == 4


class _Logged(logging.Handler):
    """Set once the runner has logged the failed checkpoint (the server waits for it)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "could not checkpoint" in record.getMessage():
            self.seen.set()


async def test_a_failed_checkpoint_is_logged_in_words_and_the_run_ends_saved(store, monkeypatch, caplog) -> None:
    monkeypatch.setattr(core.runner, "CHECKPOINT_EVERY_S", 0.01)

    def full_disk(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "checkpoint_run", full_disk)
    logged = _Logged()

    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "a"})))
        await writer.drain()
        # The rest only once a checkpoint of the first frame failed and was logged.
        assert await asyncio.to_thread(logged.seen.wait, 30)
        writer.write(sse(chunk({"content": "b"}), chunk({}, "stop"), "[DONE]"))
        await writer.drain()

    caplog.set_level(logging.ERROR, logger="llmwb")
    runner_log = logging.getLogger("llmwb")
    runner_log.addHandler(logged)
    try:
        async with RawServer(answer) as server:
            handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), RunOptions(store=store))
            last = [event async for event in handle.events()][-1]
    finally:
        runner_log.removeHandler(logged)
    assert isinstance(last, Finished)
    failures = [r for r in caplog.records if r.name == "llmwb" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == [f"run {handle.run_id}: could not checkpoint it"]
    assert failures[0].exc_info is not None and "disk full" in str(failures[0].exc_info[1])
    row = store.get_run(handle.run_id)
    assert row.status == "ok" and row.response["content"] == "ab" and len(store.get_frames(handle.run_id)) == 4
