"""The exchange's phases as they happen, every attempt kept, the connection closed on
cancel, and a streaming run checkpointed into its row before it ends."""

from __future__ import annotations

import asyncio
import json

from core.events import CONNECTING, HEADERS, RETRYING, SENT, Failed, Finished, Phase, TextDelta
from core.request import ChatRequest
from core.runner import CHECKPOINT_EVERY_S, RunOptions, start_run

from runkit import SSE_HEAD, RawServer, chunk, json_response, openai_config, sse

KEY = "sk-h9-secret-value-0123456789"
RATE_LIMITED = {"error": {"message": "slow down", "type": "rate_limit_exceeded"}}


async def test_a_429_then_success_shows_the_retry_and_keeps_both_attempts(store, monkeypatch) -> None:
    monkeypatch.setenv("H9_TEST_KEY", KEY)

    async def answer(request, writer) -> None:
        if len(server.requests) == 1:
            writer.write(json_response(429, RATE_LIMITED, {"retry-after-ms": "20", "x-request-id": "req_first"}))
        else:
            writer.write(SSE_HEAD + sse(chunk({"content": "hi"}), chunk({}, "stop"), "[DONE]"))
        await writer.drain()

    async with RawServer(answer) as server:
        config = openai_config(server.root_url, "m", api_key_env="H9_TEST_KEY", params={"max_retries": 2})
        handle = start_run(config, ChatRequest.from_prompt("hello"), RunOptions(store=store, phases=True))
        events = [event async for event in handle.events()]

    phases = [e for e in events if isinstance(e, Phase)]
    steps = [(p.phase, p.attempt, p.http_status) for p in phases]
    assert steps == [
        (CONNECTING, 1, None), (SENT, 1, None), (HEADERS, 1, 429), (RETRYING, 1, 429),
        (CONNECTING, 2, None), (SENT, 2, None), (HEADERS, 2, 200),
    ], steps  # fmt: skip
    retry = phases[3]
    assert retry.max_retries == 2 and abs(retry.retry_in_s - 0.02) < 1e-9
    assert retry.describe() == "HTTP 429 — retrying in 0.02 s (1/2)"
    assert phases[2].request_id == "req_first" and "slow down" in phases[2].detail["body"]
    # Phases come as they happen: all of them before the first delta.
    first_delta = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert all(events.index(p) < first_delta for p in phases)
    # Arrivals are the kernel's stamps; SENT is this process's own, taken after the write
    # returned, so a loopback answer can arrive before a busy process stamped its send. Every
    # other step is in order on the one clock, and each send follows its own connect.
    kernel_and_hooks = [p.offset_ms for p in phases if p.phase != SENT]
    assert kernel_and_hooks == sorted(kernel_and_hooks)
    assert all(sent.offset_ms >= phases[i - 1].offset_ms for i, sent in enumerate(phases) if sent.phase == SENT)

    last = events[-1]
    assert isinstance(last, Finished) and last.metrics["retries"] == 1
    saved = store.get_run(handle.run_id)
    http = saved.request["http"]
    assert [a["status"] for a in http["attempts"]] == [429, 200]
    assert "slow down" in http["attempts"][0]["body"] and http["attempts"][0]["retry_in_s"] == 0.02
    sent = http["request"]
    assert sent["url"].endswith("/v1/chat/completions") and json.loads(sent["body"])["messages"][0]["content"] == "hello"
    assert sent["headers"]["authorization"] == "Bearer [redacted]"
    assert KEY not in json.dumps(saved.request) and KEY not in repr(phases)


async def test_phases_are_left_out_unless_asked() -> None:
    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "hi"}), chunk({}, "stop"), "[DONE]"))
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"))
        events = [event async for event in handle.events()]
    assert not [e for e in events if isinstance(e, Phase)] and isinstance(events[-1], Finished)


async def test_cancel_closes_the_connection_at_once_and_checkpoints_kept_what_streamed(store) -> None:
    hung_up = asyncio.Event()

    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "partial "}), chunk({"content": "answer"})))
        await writer.drain()
        await request.reader.read()  # returns when the client hangs up
        hung_up.set()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), RunOptions(store=store))
        events = handle.events()
        texts = []
        async for event in events:
            if isinstance(event, TextDelta):
                texts.append(event.content)
            if "".join(texts) == "partial answer":
                break
        # The run is still streaming (the server holds the response open): the row
        # already holds what arrived, written by a checkpoint, not by the final save.
        row = await _row_when(store, handle.run_id, lambda r: r.response.get("content") == "partial answer")
        assert row.status == "running" and not handle.finished
        assert [f.data for f in store.get_frames(handle.run_id)][:2] == [
            'data: {"id":"chatcmpl-raw","object":"chat.completion.chunk","model":"raw","choices":[{"index":0,"delta":{"content":"partial "},"finish_reason":null}]}',
            'data: {"id":"chatcmpl-raw","object":"chat.completion.chunk","model":"raw","choices":[{"index":0,"delta":{"content":"answer"},"finish_reason":null}]}',
        ]

        handle.cancel()
        await asyncio.wait_for(hung_up.wait(), timeout=10)  # the server saw the connection close
        rest = [event async for event in events]
    last = rest[-1]
    assert isinstance(last, Failed) and last.status == "cancelled"
    assert last.partial_response["content"] == "partial answer"
    saved = store.get_run(handle.run_id)
    assert saved.status == "cancelled" and len(store.get_frames(handle.run_id)) == 2


async def _row_when(store, run_id, condition):
    """The run's row once `condition` holds (checkpoints land every CHECKPOINT_EVERY_S)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        row = store.get_run(run_id)
        if row is not None and condition(row):
            return row
        assert asyncio.get_running_loop().time() < deadline, "no checkpoint reached the row"
        await asyncio.sleep(CHECKPOINT_EVERY_S / 5)  # polling for a condition, with a deadline
