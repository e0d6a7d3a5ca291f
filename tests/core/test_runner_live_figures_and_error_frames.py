"""The runner's less travelled paths, as a user sees them: the live figures count every
kind of output and the retries; an error answer's body is a wire frame stamped when
its headers came in; frames after the one that ended a run keep their arrival stamps;
checkpoints keep going after a quiet start; a cancel that lands during the save of a
cancelled run does not end the run before its row is written."""

from __future__ import annotations

import asyncio
import math

import core.runner
from core.events import Failed, Finished, TextDelta, WireFrame
from core.request import ChatRequest
from core.runner import RunOptions, start_run

from runkit import SSE_HEAD, RawServer, chunk, json_response, openai_config, sse

RATE_LIMITED = {"error": {"message": "slow down", "type": "rate_limit_exceeded"}}


async def test_live_tokens_count_text_reasoning_and_tool_arguments_alike() -> None:
    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}

    async def answer(request, writer) -> None:
        body = sse(chunk({"reasoning_content": "efghij"}), chunk({"content": "abcd"}), chunk({"tool_calls": [call]}))
        writer.write(SSE_HEAD + body + sse(chunk({}, "tool_calls"), "[DONE]"))
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"))
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished)
    live = handle.live()
    assert live["tokens"] == math.ceil(len("efghij" + "abcd" + '{"a":1}') / 4) == 5
    assert live["chunks"] == last.metrics["chunks"]


async def test_live_figures_of_a_run_that_failed_before_sending_count_nothing() -> None:
    config = openai_config("http://127.0.0.1:9", "m", provider="no-such-kind")
    handle = start_run(config, ChatRequest.from_prompt("x"))
    last = [event async for event in handle.events()][-1]
    assert isinstance(last, Failed) and "no-such-kind" in last.error
    live = handle.live()
    assert (live["tokens"], live["chunks"], live["retries"]) == (0, 0, 0)


async def test_live_retries_count_the_retries_taken_and_a_failed_run_keeps_its_send_stamps() -> None:
    async def answer(request, writer) -> None:
        writer.write(json_response(429, RATE_LIMITED, {"retry-after-ms": "10", "x-request-id": f"req_{len(server.requests)}"}))
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m", params={"max_retries": 1}), ChatRequest.from_prompt("x"))
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Failed) and last.http_status == 429 and len(server.requests) == 2
    assert handle.live()["retries"] == 1 and last.metrics["retries"] == 1
    # Timed from the first send to the last answer's headers, as a finished run is.
    assert last.metrics["ttfb_ms"] is not None and 0 < last.metrics["ttfb_ms"] <= last.metrics["total_ms"]
    assert last.metrics["request_id"] == "req_2"


async def test_an_error_answer_is_a_wire_frame_stamped_at_its_headers_not_at_its_slow_body(store) -> None:
    body = b'{"error": {"message": "bad request: no such param", "type": "invalid_request_error"}}'

    async def answer(request, writer) -> None:
        writer.write(b"HTTP/1.1 400 X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body))
        await writer.drain()
        await asyncio.sleep(0.3)  # the server's pace: the body comes well after the head
        writer.write(body)
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), RunOptions(store=store))
        events = [event async for event in handle.events()]
    last = events[-1]
    assert isinstance(last, Failed) and last.http_status == 400
    (frame,) = [e for e in events if isinstance(e, WireFrame)]
    assert frame.data == body.decode()
    # The frame carries the headers' stamp (to the metrics' rounding), not the failure's,
    # which came after the body the server wrote at least 0.3 s later. (Not the server's own
    # clock readings: taken after each write returned, a loaded machine delays them.)
    assert round(frame.offset_ms, 3) == last.metrics["ttfb_ms"]
    assert last.metrics["total_ms"] - frame.offset_ms >= 300.0 - 5.0
    (saved,) = store.get_frames(handle.run_id)
    assert (saved.data, round(saved.offset_ms, 3)) == (body.decode(), last.metrics["ttfb_ms"])


async def test_frames_after_the_one_that_ended_a_run_keep_the_stamp_of_their_read(store) -> None:
    error = {"error": {"message": "upstream overloaded", "code": 502}}

    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "kept"})))
        await writer.drain()
        await asyncio.sleep(0.1)  # the server's pace: the error and what follows come in one later write
        writer.write(sse(error, "[DONE]"))
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), RunOptions(store=store))
        events = [event async for event in handle.events()]
    assert isinstance(events[-1], Failed)
    wire = [e for e in events if isinstance(e, WireFrame)]
    assert [w.data for w in wire[1:]] == [f"data: {sse(error)[6:-2].decode()}", "data: [DONE]"]
    # One read brought the error and the [DONE]: the same stamp, in ms like every frame.
    assert wire[2].offset_ms == wire[1].offset_ms > wire[0].offset_ms
    assert [(f.data, f.offset_ms) for f in store.get_frames(handle.run_id)] == [(w.data, w.offset_ms) for w in wire]


async def test_checkpoints_go_on_after_a_quiet_start_and_after_their_first_write(store, monkeypatch) -> None:
    # A fifth of the product's period, and the server's pauses with it: the same number of
    # quiet periods (3.2, then 2.4) in a fifth of the time.
    monkeypatch.setattr(core.runner, "CHECKPOINT_EVERY_S", core.runner.CHECKPOINT_EVERY_S / 5)

    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD)
        await writer.drain()
        await asyncio.sleep(3.2 * core.runner.CHECKPOINT_EVERY_S)  # the server's pace: several checkpoint periods without a frame
        writer.write(sse(chunk({"content": "late "})))
        await writer.drain()
        await asyncio.sleep(2.4 * core.runner.CHECKPOINT_EVERY_S)  # and again: each part lands in a checkpoint of its own
        writer.write(sse(chunk({"content": "words"})))
        await writer.drain()
        await request.reader.read()  # held open until the client hangs up

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), RunOptions(store=store))
        texts = []
        async for event in handle.events():
            if isinstance(event, TextDelta):
                texts.append(event.content)
            if "".join(texts) == "late words":
                break
        row = await _row_when(store, handle.run_id, lambda r: r.response.get("content") == "late words")
        assert row.status == "running"
        handle.cancel()
        assert await handle.wait(10)


async def test_a_second_cancel_during_the_save_does_not_end_the_run_before_its_row_is_written(store, monkeypatch) -> None:
    ended_during_save: list[bool] = []
    handles: list = []
    real_finish = store.finish_run

    def finish_run(row, frames, saved=0):  # on the save's thread
        handle = handles[0]
        handle.cancel()  # a quitting app cancels the run again while it is being saved
        # The run must not count as over while its row is being written; give it the chance.
        ended_during_save.append(handle.wait_blocking(0.5))
        return real_finish(row, frames, saved=saved)

    monkeypatch.setattr(store, "finish_run", finish_run)

    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "partial"})))
        await writer.drain()
        await request.reader.read()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), RunOptions(store=store))
        handles.append(handle)
        async for event in handle.events():
            if isinstance(event, TextDelta):
                handle.cancel()
        assert await handle.wait(10)
    assert ended_during_save == [False]
    assert store.get_run(handle.run_id).status == "cancelled"


async def _row_when(store, run_id, condition):
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        row = store.get_run(run_id)
        if row is not None and condition(row):
            return row
        assert asyncio.get_running_loop().time() < deadline, "no checkpoint reached the row"
        await asyncio.sleep(0.05)  # polling for a condition, with a deadline



async def test_live_figures_are_there_from_the_moment_a_run_is_started() -> None:
    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "hi"}), chunk({}, "stop"), "[DONE]"))
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"))
        first = handle.live()  # the UI asks on its first flush, whether or not anything was sent
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished)
    assert first["retries"] == 0 and first["chunks"] == 0


async def test_a_run_that_failed_before_its_request_has_an_empty_answer(store) -> None:
    config = openai_config("http://127.0.0.1:9", "m", provider="no-such-kind")
    handle = start_run(config, ChatRequest.from_prompt("x"), RunOptions(store=store))
    last = [event async for event in handle.events()][-1]
    assert isinstance(last, Failed)
    assert last.partial_response == {
        "content": "", "reasoning": "", "tool_calls": [], "finish_reason": "error",
        "provider_finish_reason": None, "model": None, "id": None, "usage": None,
    }  # fmt: skip
    assert store.get_run(handle.run_id).response == last.partial_response


async def test_the_saved_row_keeps_the_runs_id_group_parent_and_request(store) -> None:
    async def answer(request, writer) -> None:
        writer.write(json_response(200, {"id": "c1", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}]}))
        await writer.drain()

    async with RawServer(answer) as server:
        config = openai_config(server.root_url, "m")
        first = start_run(config, ChatRequest.from_prompt("one", stream=False), RunOptions(store=store))
        await first.wait(30)
        options = RunOptions(store=store, group_id="group-7", parent_run_id=first.run_id, run_id="run-chosen-by-caller")
        handle = start_run(config, ChatRequest.from_prompt("two", stream=False), options)
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished) and handle.run_id == "run-chosen-by-caller"
    row = store.get_run("run-chosen-by-caller")
    assert (row.group_id, row.parent_run_id, row.stream) == ("group-7", first.run_id, False)
    assert row.request["messages"][-1]["content"] == "two" and row.response["content"] == "whole"


async def test_a_checkpoint_that_cannot_be_written_is_logged_and_the_run_still_saved(store, monkeypatch, caplog) -> None:
    def full_disk(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "checkpoint_run", full_disk)

    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "a"})))
        await writer.drain()
        await asyncio.sleep(0.6)  # the server's pace: a checkpoint falls in between
        writer.write(sse(chunk({"content": "b"}), chunk({}, "stop"), "[DONE]"))
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), RunOptions(store=store))
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished)
    assert f"run {handle.run_id}: could not checkpoint it" in caplog.text
    row = store.get_run(handle.run_id)
    assert row.status == "ok" and row.response["content"] == "ab" and len(store.get_frames(handle.run_id)) == 4


async def test_without_usage_the_reasoning_share_is_estimated_from_the_reasoning_text() -> None:
    async def answer(request, writer) -> None:
        body = sse(chunk({"reasoning_content": "r" * 40}), chunk({"content": "c" * 8}), chunk({}, "stop"), "[DONE]")
        writer.write(SSE_HEAD + body)
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"))
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished) and last.metrics["usage_source"] == "estimated"
    assert (last.metrics["reasoning_tokens"], last.metrics["reasoning_estimated"], last.metrics["completion_tokens"]) == (10, True, 12)


async def test_a_refused_request_costs_no_prompt_tokens_and_counts_no_output() -> None:
    async def answer(request, writer) -> None:
        writer.write(json_response(400, {"error": {"message": "bad param", "type": "invalid_request_error"}}))
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m", price_input=1.0), ChatRequest.from_prompt("a long prompt " * 20))
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Failed) and last.http_status == 400
    m = last.metrics
    assert (m["prompt_tokens"], m["completion_tokens"], m["reasoning_tokens"], m["output_chars"], m["cost_usd"]) == (0, 0, 0, 0, 0)


async def test_a_start_that_cannot_be_saved_is_logged_and_the_run_goes_ahead(store, monkeypatch, caplog) -> None:
    def full_disk(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "create_run", full_disk)

    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "fine"}), chunk({}, "stop"), "[DONE]"))
        await writer.drain()

    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"), RunOptions(store=store))
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished)
    assert f"run {handle.run_id}: could not save its start" in caplog.text
    assert store.get_run(handle.run_id).response["content"] == "fine"  # the final save inserted the row
