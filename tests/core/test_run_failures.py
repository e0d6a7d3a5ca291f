"""Every way a run can go wrong: the Failed event a user reads (type, status, one
line) and the Run saved with what arrived before the failure."""

from __future__ import annotations

import asyncio
import socket

import pytest
from runkit import RawServer, openai_config, run_to_end, scripted

from core.events import Failed, RunStarted, TextDelta, WireFrame
from core.request import ChatRequest
from core.runner import RunOptions, run


def assert_one_line(failure: Failed) -> None:
    assert failure.error and "\n" not in failure.error and len(failure.error) < 400


def saved(store, outcome):
    """The Run saved for `outcome`, checked against its last event."""
    run_row = store.get_run(outcome.last.run_id)
    assert run_row is not None and run_row.finished_at is not None
    assert run_row.status == outcome.last.status
    assert run_row.error == outcome.last.error and run_row.error_type == outcome.last.error_type
    assert run_row.http_status == outcome.last.http_status
    assert run_row.response == outcome.last.partial_response
    assert run_row.metrics == outcome.last.metrics
    return run_row


@pytest.mark.parametrize(
    ("scenario", "error_type", "status", "words"),
    [
        ("fault-401", "auth", 401, "HTTP 401 authentication failed: Incorrect API key provided (simulated) (no API key was sent: set the model's key variable)"),
        ("no-such-model", "not_found", 404, "HTTP 404 not found: The model `no-such-model` does not exist"),
        ("fault-429", "rate_limit", 429, "HTTP 429 rate limited: Rate limit reached for requests (simulated) (retry after 7 s)"),
        ("fault-500", "server_error", 500, "HTTP 500 server error: The server had an error while processing your request (simulated)"),
        ("fault-529", "overloaded", 529, "HTTP 529 overloaded: Overloaded"),
    ],
)
async def test_http_error_statuses(simulator, store, scenario, error_type, status, words):
    outcome = await run_to_end(openai_config(simulator.root_url, scenario), "go", store=store)

    failure = outcome.last
    assert isinstance(failure, Failed)
    assert (failure.status, failure.error_type, failure.http_status) == ("error", error_type, status)
    assert failure.error == words
    assert_one_line(failure)
    assert failure.partial_response["finish_reason"] == "error"
    assert failure.metrics["retries"] == 0 and failure.metrics["cost_usd"] == 0.0
    # the error body as the server sent it is on the wire view and in the saved frames
    [wire] = outcome.of_type(WireFrame)
    assert '"error"' in wire.data
    run_row = saved(store, outcome)
    assert [f.data for f in store.get_frames(run_row.id)] == [wire.data]
    assert len(simulator.exchanges) == 1  # max_retries=0: no hidden second request


async def test_429_keeps_retry_after_and_the_request_id(simulator):
    outcome = await run_to_end(openai_config(simulator.root_url, "fault-429"), "go")
    assert outcome.last.retry_after == "7"
    assert outcome.last.metrics["request_id"].startswith("req_")


async def test_connection_refused_names_the_address(store):
    # Bound but never listening: the port is ours for the whole test (no other process can
    # take it, unlike a port closed again), and the kernel refuses connections to it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        outcome = await run_to_end(openai_config(f"http://127.0.0.1:{port}", "m"), "go", store=store)

    failure = outcome.last
    assert (failure.error_type, failure.http_status) == ("connection", None)
    assert failure.error.startswith(f"cannot connect to http://127.0.0.1:{port}/v1/chat/completions: ")
    assert_one_line(failure)
    assert saved(store, outcome).status == "error"


async def test_no_response_at_all_times_out(store):
    async def silent(request, writer):
        await request.reader.read()  # never answers; returns when the client gives up

    async with RawServer(silent) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m", timeout=0.2), "go", store=store)

    failure = outcome.last
    assert (failure.error_type, failure.http_status) == ("timeout", None)
    assert failure.error == f"timed out talking to {server.root_url}/v1/chat/completions (no response within 0.2 s)"
    saved(store, outcome)


async def test_headers_then_nothing_times_out_reading(simulator, store):
    config = openai_config(simulator.root_url, "fault-headers-only", timeout=0.2)
    outcome = await run_to_end(config, "go", store=store)

    failure = outcome.last
    assert (failure.error_type, failure.http_status) == ("timeout", 200)
    assert failure.error == "timed out waiting for data from the server (no data for 0.2 s)"
    assert failure.metrics["ttfb_ms"] is not None and failure.metrics["ttft_ms"] is None
    saved(store, outcome)
    exchange = simulator.exchanges[-1]
    await exchange.finished.wait()
    assert exchange.client_disconnected


async def test_a_stall_mid_stream_times_out_and_keeps_the_text(simulator, store):
    simulator.add_scenario(scripted("stall", text="one two three four", chunking={"mode": "word"}, fault={"stall_after_chunks": 2, "stall_s": 30}))
    outcome = await run_to_end(openai_config(simulator.root_url, "stall", timeout=0.2), "go", store=store)

    assert outcome.last.error_type == "timeout"
    assert outcome.last.partial_response["content"] == "one two"
    assert saved(store, outcome).response["content"] == "one two"


async def test_a_cut_stream_keeps_the_partial_text_and_frames(simulator, store):
    outcome = await run_to_end(openai_config(simulator.root_url, "fault-drop"), "go", store=store)

    failure = outcome.last
    assert (failure.error_type, failure.http_status) == ("stream_cut", 200)
    assert failure.error.startswith("connection closed before the response ended")
    assert_one_line(failure)
    assert failure.partial_response["content"] == outcome.streamed_text == "One two three four five"
    assert failure.partial_response["finish_reason"] == "error"
    assert failure.metrics["chunks"] == 5 and failure.metrics["usage_source"] == "estimated"
    assert failure.metrics["completion_tokens"] == 6  # ceil(23 / 4)
    run_row = saved(store, outcome)
    frames = store.get_frames(run_row.id)
    assert [f.data for f in frames] == [w.data for w in outcome.of_type(WireFrame)]
    assert len(frames) == 6  # the role chunk and five words


async def test_a_malformed_chunk_fails_with_the_text_before_it(simulator, store):
    outcome = await run_to_end(openai_config(simulator.root_url, "fault-malformed"), "go", store=store)

    failure = outcome.last
    assert (failure.error_type, failure.http_status) == ("malformed_chunk", 200)
    assert failure.error.startswith("malformed chunk (not JSON): ")
    assert_one_line(failure)
    assert failure.partial_response["content"] == "One two three"
    run_row = saved(store, outcome)
    frames = [frame.data for frame in store.get_frames(run_row.id)]
    cut = next(i for i, data in enumerate(frames) if '"this chunk was cut sho' in data)
    # the stream went on after the bad frame: what followed is kept on the wire, not decoded
    assert len(frames) > cut + 1  # (the answer stays "One two three": asserted above)


async def test_an_error_payload_after_a_200_is_an_error(simulator, store):
    outcome = await run_to_end(openai_config(simulator.root_url, "fault-error-event"), "go", store=store)

    failure = outcome.last
    assert (failure.error_type, failure.http_status) == ("overloaded", 200)
    assert failure.error == "provider error in stream: Overloaded (server_error, overloaded)"
    assert failure.partial_response["content"] == "One two three four five six"
    run_row = saved(store, outcome)
    assert '"error"' in store.get_frames(run_row.id)[-1].data


async def test_a_missing_key_names_the_variable(simulator, store, monkeypatch):
    monkeypatch.delenv("LLMWB_TEST_NO_SUCH_KEY", raising=False)
    config = openai_config(simulator.root_url, "demo-fast", api_key_env="LLMWB_TEST_NO_SUCH_KEY")
    outcome = await run_to_end(config, "go", store=store)

    failure = outcome.last
    assert failure.error_type == "missing_key"
    assert failure.error == "API key missing: environment variable LLMWB_TEST_NO_SUCH_KEY is not set"
    assert not simulator.exchanges  # nothing was sent
    saved(store, outcome)


async def test_an_unknown_provider_kind_is_a_clear_error(store):
    config = openai_config("http://127.0.0.1:9", "m", provider="nonsense")
    outcome = await run_to_end(config, "go", store=store)
    assert outcome.last.error_type == "bad_request"
    assert outcome.last.error.startswith("unknown provider kind 'nonsense'")


async def test_a_key_is_sent_as_a_bearer_token_and_never_saved(simulator, store, monkeypatch):
    monkeypatch.setenv("LLMWB_TEST_KEY", "sk-test-secret")
    config = openai_config(simulator.root_url, "demo-fast", api_key_env="LLMWB_TEST_KEY")
    simulator.add_scenario(scripted("demo-fast", text="ok"))
    outcome = await run_to_end(config, "go", store=store)

    assert simulator.exchanges[-1].headers["authorization"] == "Bearer sk-test-secret"
    run_row = store.get_run(outcome.last.run_id)
    assert "sk-test-secret" not in str(run_row.request) + str(run_row.response)


# --- cancellation -------------------------------------------------------------


async def _consume_until(config, store, deltas_wanted: int, seen: list[str], reached: asyncio.Event) -> None:
    async for event in run(config, ChatRequest.from_prompt("go"), RunOptions(store=store)):
        if isinstance(event, TextDelta):
            seen.append(event.content)
            if len(seen) == deltas_wanted:
                reached.set()


async def test_cancelling_the_consumer_saves_a_cancelled_run_and_hangs_up(simulator, store):
    words = " ".join(f"w{i}" for i in range(200))
    simulator.add_scenario(scripted("long", text=words, chunking={"mode": "word"}, timing={"first_token_ms": 0, "gap_ms": 20}))
    seen: list[str] = []
    reached = asyncio.Event()
    task = asyncio.create_task(_consume_until(openai_config(simulator.root_url, "long"), store, 3, seen, reached))
    await reached.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    exchange = simulator.exchanges[-1]
    await exchange.finished.wait()
    assert exchange.client_disconnected
    [run_row] = store.list_runs()
    assert (run_row.status, run_row.error_type) == ("cancelled", "cancelled")
    assert run_row.response["content"].startswith("".join(seen)) and len(run_row.response["content"]) < len(words)
    assert run_row.response["finish_reason"] == "cancelled"
    assert run_row.metrics["chunks"] >= 3
    assert len(store.get_frames(run_row.id)) >= 4


async def test_closing_the_iterator_early_saves_a_cancelled_run(simulator, store):
    simulator.add_scenario(scripted("long", text="a b c d e f g h", chunking={"mode": "word"}, timing={"first_token_ms": 0, "gap_ms": 50}))
    events = run(openai_config(simulator.root_url, "long"), ChatRequest.from_prompt("go"), RunOptions(store=store))
    started = await anext(events)
    assert isinstance(started, RunStarted)
    assert store.get_run(started.run_id).status == "running"  # saved before the request went out
    async for event in events:
        if isinstance(event, TextDelta):
            break
    await events.aclose()

    run_row = store.get_run(started.run_id)
    # The run reads on its own thread: what arrived before the cancel landed is kept too.
    assert run_row.status == "cancelled" and run_row.response["content"].startswith("a")
    assert len(run_row.response["content"]) < len("a b c d e f g h")
    exchange = simulator.exchanges[-1]
    await exchange.finished.wait()
    assert exchange.client_disconnected


async def test_closing_right_after_the_start_event_saves_a_cancelled_run(simulator, store):
    events = run(openai_config(simulator.root_url, "demo-fast"), ChatRequest.from_prompt("go"), RunOptions(store=store))
    started = await anext(events)
    await events.aclose()
    assert store.get_run(started.run_id).status == "cancelled"


# --- our own trouble ----------------------------------------------------------


class BrokenStore:
    def create_run(self, run_row):
        raise OSError("disk full")

    def finish_run(self, run_row, frames):
        raise OSError("disk full")


async def test_a_store_that_cannot_write_does_not_stop_the_run(simulator, caplog):
    simulator.add_scenario(scripted("ok", text="fine"))
    outcome = await run_to_end(openai_config(simulator.root_url, "ok"), "go", store=BrokenStore())
    assert outcome.last.final_response["content"] == "fine"
    assert "could not save" in caplog.text


async def test_a_bug_in_a_decoder_is_an_internal_error_with_the_run_saved(simulator, store, monkeypatch):
    from core.providers.openai_chat import OpenAIChatDecoder

    def broken_finish(self):
        raise KeyError("oops")

    monkeypatch.setattr(OpenAIChatDecoder, "finish", broken_finish)
    simulator.add_scenario(scripted("ok", text="kept"))
    outcome = await run_to_end(openai_config(simulator.root_url, "ok"), "go", store=store)

    assert (outcome.last.error_type, outcome.last.error) == ("internal", "internal error: KeyError: 'oops'")
    assert saved(store, outcome).response["content"] == "kept"
