"""What the app's reader processes (core.readerpool, core.readerproc, core.readerchild) do
beside the app: they write nothing to its terminal, log to its log file, live in a session
of their own (a closed terminal's SIGHUP reaches only the app), and what their store has
to tell the user — a save waiting on another process's lock, a save given up and kept in
unsaved/ — is told by the app's store, as if it had saved the run itself."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core import readerproc
from core.events import Failed, Finished, Phase, ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta, WireFrame
from core.metrics import MetricsRecorder, clock, live_figures
from core.providers.base import INTERRUPTED
from core.readerpool import MAX_IDLE, SPARES, Pool
from core.readerproc import READER_ENV, ReaderRunHandle, prewarm, start_app_run, start_run_in_reader
from core.request import ChatRequest
from core.runner import RunOptions
from core.store.models import new_run_id

from procs import alive, children, parent
from runkit import every_event_of, openai_config, scripted
from test_io_thread import threaded_simulator
from waiting import DEADLINE_S, poll

# Three words, then the stream holds still: the test acts while the run is surely going.
STALLED = {"text": "one two three four five", "chunking": {"mode": "word"}, "fault": {"stall_after_chunks": 3, "stall_s": 600}}


@pytest.mark.process  # reader processes
async def test_a_reader_writes_nothing_to_the_terminal_logs_to_the_app_s_log_and_has_a_session_of_its_own(
    tmp_path: Path,
) -> None:
    log_file = tmp_path / "llmwb.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    logging.getLogger("llmwb").addHandler(handler)
    pool = Pool()  # a forker of its own, started while the app has a log file
    terminal, _keyboard = os.pipe()  # the app's stdin as a terminal would be: not /dev/null
    stdin = os.dup(0)
    try:
        os.dup2(terminal, 0)
        try:
            worker = pool.fork()
        finally:
            os.dup2(stdin, 0)
        # Read while it surely lives: once its run is over, the idle readers past MAX_IDLE exit.
        fds = {fd: os.readlink(f"/proc/{worker.pid}/fd/{fd}") for fd in (0, 1, 2)}
        assert fds == {0: os.devnull, 1: os.devnull, 2: str(log_file)}  # a traceback goes to the log, not the screen
        with open(f"/proc/{worker.pid}/fdinfo/2", encoding="ascii") as info:
            flags = int(re.search(r"flags:\s+(\d+)", info.read()).group(1), 8)
        assert flags & os.O_ACCMODE == os.O_WRONLY and flags & os.O_APPEND  # and can be written there
        assert os.getsid(worker.pid) != os.getsid(0)
        with threaded_simulator() as (server, _loop):
            server.add_scenario(scripted("short", text="a short answer"))
            options = RunOptions(run_id=new_run_id())
            handle = ReaderRunHandle(openai_config(server.root_url, "short"), ChatRequest.from_prompt("go"), options)
            handle._track()
            handle.attach(worker)
            events = [event async for event in handle.events()]
        assert isinstance(events[-1], Finished), events[-1]
        # Its lines read like the app's: a timestamp, the level, then which reader says it.
        expected = rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}} INFO reader\[{worker.pid}\] run {handle.run_id} start"
        logged = poll(lambda: re.search(expected, log_file.read_text(), re.M), "the reader's log line, in the app's log format")
        assert logged
        # A reader that started and ran cleanly says nothing alarming in the user's log: no
        # preload failure, no warning about threads in the forker.
        alarming = [line for line in log_file.read_text().splitlines() if re.search(r" (WARNING|ERROR) reader\[", line)]
        assert not alarming, alarming
        pool.close()  # the app lets go: the reader exits quietly, no traceback on its way out
        poll(lambda: not alive(worker.pid), "the reader to exit once the app let go of it")
        assert "Traceback" not in log_file.read_text(), log_file.read_text()
    finally:
        for fd in (terminal, _keyboard, stdin):
            os.close(fd)
        pool.close()
        logging.getLogger("llmwb").removeHandler(handler)
        handler.close()


@pytest.mark.process  # reader processes
async def test_a_reader_s_save_waiting_on_a_lock_and_then_kept_unsaved_is_told_by_the_app_s_store(
    store, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("LLMWB_LOCK_WAIT", "0.1")  # the reader's store takes the app's environment at the run's start
    waits: list[str] = []
    given_up: list[tuple[str, str]] = []
    store.on_wait = waits.append
    store.on_save_failed = lambda run_id, message: given_up.append((run_id, message))
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("stalled", **STALLED))
        handle = start_run_in_reader(
            openai_config(server.root_url, "stalled"), ChatRequest.from_prompt("go"), RunOptions(store=store)
        )
        blocker = sqlite3.connect(store.path, isolation_level=None)
        try:
            events = []
            async for event in handle.events():
                events.append(event)
                if isinstance(event, TextDelta) and not blocker.in_transaction:
                    blocker.execute("BEGIN IMMEDIATE")  # another process writing: the run's save must wait
                    handle.cancel()
            assert await handle.wait(60), "the reader never said the run was over"
        finally:
            blocker.close()
    assert isinstance(events[-1], Failed) and events[-1].status == "cancelled"
    run_id = handle.run_id
    waited = f"the database is locked by another process; still trying to save run {run_id}"
    assert [message.split(" (up to")[0] for message in waits] == [waited, waited]
    warnings = [r.getMessage() for r in caplog.records if r.name == "llmwb" and r.levelno == logging.WARNING]
    assert [message.split(" (up to")[0] for message in warnings] == [waited, waited]  # in the app's log too
    assert [rid for rid, _ in given_up] == [run_id] and "kept in" in given_up[0][1]
    assert store.unsaved == {run_id: given_up[0][1]}


# An app that ran one run in a reader process, then ends as the app does (its main thread returns).
APP = """
import asyncio, sys
from core.readerproc import start_run_in_reader
from core.request import ChatRequest
from core.store.models import ModelConfig

async def main() -> None:
    config = ModelConfig(name="short", provider="openai-compatible", model="short", base_url=sys.argv[1] + "/v1",
                         params={"max_retries": 0})
    handle = start_run_in_reader(config, ChatRequest.from_prompt("go"))
    events = [event async for event in handle.events()]
    assert await handle.wait(60), "the reader never said the run was over"
    print(type(events[-1]).__name__, handle.reader_pid, flush=True)

asyncio.run(main())
"""


@pytest.mark.process  # reader processes
def test_an_app_that_ran_a_run_in_a_reader_exits_and_its_reader_with_it(tmp_path: Path) -> None:
    """Its reader now waits idle for the next run, and a spare waits ready: neither may keep
    the app from ending (the threads reading them are daemons; at exit their sockets end)."""
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("short", text="a short answer"))
        env = {**os.environ, "LLMWB_HOME": str(tmp_path)}
        app = subprocess.Popen(
            [sys.executable, "-c", APP, server.root_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
        )
        try:
            out, err = app.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            app.kill()
            raise AssertionError("the app did not end after its run: something it started keeps it alive") from None
    assert app.returncode == 0, err
    outcome, reader_pid = out.split()
    assert outcome == "Finished"
    poll(lambda: not alive(int(reader_pid)), "the reader process to end with the app")


@pytest.mark.process  # reader processes
async def test_llmwb_reader_thread_streams_the_app_s_runs_on_a_thread_of_its_own_process(store, monkeypatch) -> None:
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("short", text="a short answer"))
        config = openai_config(server.root_url, "short")
        monkeypatch.setenv(READER_ENV, "thread")
        assert not prewarm()  # nothing started for runs that stream here
        options = RunOptions(store=store, run_id=new_run_id())
        on_a_thread = start_app_run(config, ChatRequest.from_prompt("go"), options)
        threaded = [event async for event in on_a_thread.events()]
        monkeypatch.delenv(READER_ENV)
        assert prewarm()  # a spare reader is being started: the app need not import the SDKs itself
        in_a_reader = start_app_run(config, ChatRequest.from_prompt("go"))
        read = [event async for event in in_a_reader.events()]
    assert not isinstance(on_a_thread, ReaderRunHandle) and isinstance(in_a_reader, ReaderRunHandle)
    assert in_a_reader.reader_pid not in (None, os.getpid())
    assert on_a_thread.run_id == options.run_id and store.get_run(options.run_id).status == "ok"  # its options kept
    for events in (threaded, read):
        assert isinstance(events[-1], Finished) and events[-1].final_response["content"] == "a short answer"


@pytest.mark.process  # reader processes
async def test_runs_one_after_another_leave_only_the_spare_and_the_idle_readers_alive() -> None:
    """Readers are reused: a run takes the waiting spare or an idle reader, a new spare is
    forked, and idle readers past MAX_IDLE exit. Readers left waiting by a long session
    would otherwise pile up (each an interpreter with the SDKs loaded)."""
    pids, forkers = set(), set()
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("short", text="a short answer"))
        config = openai_config(server.root_url, "short")
        for _ in range(2 * (SPARES + MAX_IDLE)):
            handle = start_run_in_reader(config, ChatRequest.from_prompt("go"))
            events = []
            async for event in handle.events():
                if not events:  # its reader streams it: alive
                    forkers.add(parent(handle.reader_pid))
                events.append(event)
            assert isinstance(events[-1], Finished), events[-1]
            assert await handle.wait(60), "the reader never said the run was over"
            pids.add(handle.reader_pid)
    (forker,) = forkers
    assert len(pids) <= SPARES + MAX_IDLE + 1, pids  # readers were reused, not forked for each run
    poll(lambda: sum(map(alive, children(forker))) <= SPARES + MAX_IDLE, "the readers past the spare and MAX_IDLE to exit")


async def test_a_run_whose_reader_cannot_be_started_says_why_and_is_saved_as_it_was_asked(store, monkeypatch, caplog) -> None:
    """The interpreter the reader would run in is gone (a venv replaced while the app runs):
    the run ends at once with an error saying so, and history keeps it under the id the app
    gave it, with its config, request and comparison column."""
    monkeypatch.setattr(sys, "executable", str(store.path.parent / "gone" / "python"))
    monkeypatch.setattr(readerproc, "pool", Pool())  # a pool whose forker is not started yet
    config = openai_config("http://127.0.0.1:9", "absent")
    request = ChatRequest.from_prompt("what is the weather like in Paris?", stream=False)
    options = RunOptions(store=store, run_id=new_run_id(), group_id="g1", group_position=1, parent_run_id="p1")
    handle = start_run_in_reader(config, request, options)
    events = [event async for event in handle.events()]
    assert handle.run_id == options.run_id and handle.reader_pid is None
    (failed,) = events
    assert isinstance(failed, Failed) and failed.error_type == INTERRUPTED and failed.run_id == handle.run_id
    assert failed.error.startswith("could not start a reader process for the run: [Errno 2] No such file")
    # In the app's log too (the spare's own failure, on a thread of core.readerpool's, may come any time).
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and r.module == "readerproc"]
    assert lines == ["could not start a reader process", f"run {handle.run_id}: {failed.error}"]
    assert failed.http_status is None and failed.metrics["prompt_tokens"] == 0  # nothing was sent
    row = store.get_run(handle.run_id)
    assert (row.status, row.error, row.error_type, row.http_status) == ("error", failed.error, INTERRUPTED, None)
    assert (row.model_config_name, row.provider, row.model, row.stream) == (config.name, config.provider, "absent", False)
    assert row.request == request.to_dict() and store.get_frames(handle.run_id) == []
    assert (row.group_id, row.group_position, row.parent_run_id) == ("g1", 1, "p1")
    assert row.response["finish_reason"] == "error" and row.finished_at is not None


def test_until_a_reader_has_the_run_its_figures_are_a_first_run_s_with_elapsed_running_from_the_start() -> None:
    """What the sidebar shows in the milliseconds before the reader's first batch: the
    figures a run on a thread shows before its first byte, elapsed since the run began."""
    began = clock()
    handle = ReaderRunHandle(
        openai_config("http://127.0.0.1:9", "m"), ChatRequest.from_prompt("go", stream=False), RunOptions(run_id=new_run_id())
    )
    made = clock()
    waited = clock()
    figures = handle.live()
    ended = clock()
    expected = live_figures(MetricsRecorder(stream=False), output_chars=0)
    assert {**figures, "elapsed_ms": None} == {**expected, "elapsed_ms": None}
    assert (waited - made) * 1000.0 <= figures["elapsed_ms"] <= (ended - began) * 1000.0


@pytest.mark.process  # reader processes
async def test_while_a_reader_s_run_stalls_its_elapsed_time_runs_on_from_the_run_s_start_in_the_reader() -> None:
    """The sidebar's elapsed time between batches: now − the reader's t0 (one clock for
    every process), not the figure the last batch carried."""
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("stalled", **STALLED))
        handle = start_run_in_reader(openai_config(server.root_url, "stalled"), ChatRequest.from_prompt("go"))
        seen_first = text = None
        async for event in handle.events():
            if isinstance(event, TextDelta):
                seen_first = seen_first or clock()  # the reader's t0 came before the first delta reached the app
                text = (text or "") + event.content
                if text == "one two three":  # the stream now holds still
                    z = clock()
                    earlier = handle.live()
                    a, b = clock(), clock()
                    later = handle.live()
                    handle.cancel()
    assert earlier["chunks"] == later["chunks"] == 3
    assert later["elapsed_ms"] - earlier["elapsed_ms"] >= (b - a) * 1000.0
    assert earlier["elapsed_ms"] >= (z - seen_first) * 1000.0


def test_a_reader_run_s_live_elapsed_time_is_the_milliseconds_since_it_began_on_the_one_clock(monkeypatch) -> None:
    """Live and final figures are one number: the sidebar's elapsed time is exactly now − the
    run's start in ms, before the reader's first batch (from the handle's making) and after it
    (from the reader's t0), as the final figure is taken. Times exact in binary."""
    now = [100.0]
    monkeypatch.setattr(readerproc, "clock", lambda: now[0])
    handle = ReaderRunHandle(openai_config("http://127.0.0.1:9", "m"), ChatRequest.from_prompt("go"), RunOptions(run_id=new_run_id()))
    now[0] = 102.5
    assert handle.live()["elapsed_ms"] == 2500.0
    handle.receive([], {**handle.live(), "elapsed_ms": 40.0, "chunks": 1}, 101.0)  # the reader's first batch
    now[0] = 104.25
    assert handle.live()["elapsed_ms"] == 3250.0 and handle.live()["chunks"] == 1


# Reasoning, then two tool calls' arguments in 3-character pieces; the stream holds still
# after ten chunks, mid-arguments, until the reader is killed.
THINKING_TOOLS = {
    "reasoning": "the user wants the weather in two cities", "chunking": {"mode": "fixed", "size": 3},
    "tool_calls": [{"id": "call_paris", "name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}],
    "fault": {"stall_after_chunks": 20, "stall_s": 600},
}  # fmt: skip


@pytest.mark.process  # reader processes
async def test_a_reader_killed_mid_tool_call_keeps_its_reasoning_the_arguments_so_far_and_the_wire_s_times(
    store,
) -> None:
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("thinking", **THINKING_TOOLS))
        options = RunOptions(store=store, wire_frames=True, phases=True)  # as the app starts its runs
        handle = start_run_in_reader(openai_config(server.root_url, "thinking"), ChatRequest.from_prompt("go"), options)
        events, killed = [], False
        async for event in handle.events():
            events.append(event)
            if isinstance(event, ToolCallDelta) and event.arguments_delta and not killed:  # once: a batch holds several
                os.kill(handle.reader_pid, signal.SIGKILL)
                killed = True
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.error_type == INTERRUPTED
    streamed = events[:-1]
    reasoning = "".join(e.reasoning for e in streamed if isinstance(e, ReasoningDelta))
    arguments = "".join(e.arguments_delta or "" for e in streamed if isinstance(e, ToolCallDelta))
    assert reasoning and arguments
    (call,) = failed.partial_response["tool_calls"]
    assert failed.partial_response["reasoning"] == reasoning and call["arguments_raw"] == arguments
    assert (call["id"], call["name"]) == ("call_paris", "get_weather")
    headers = next(e for e in streamed if isinstance(e, Phase) and e.phase == "headers")
    last = max(e.offset_ms for e in streamed if isinstance(e, (WireFrame, ReasoningDelta, ToolCallDelta)))
    assert failed.metrics["ttfb_ms"] == round(headers.offset_ms, 3) and failed.metrics["total_ms"] == round(last, 3)


# A refusal in words; the stream holds still after three of them, until the reader is killed.
REFUSING = {
    "refusal": "I am sorry but I cannot help with that request", "chunking": {"mode": "word"},
    "fault": {"stall_after_chunks": 3, "stall_s": 600},
}  # fmt: skip


@pytest.mark.process  # reader processes
async def test_a_reader_killed_mid_refusal_keeps_the_refusal_so_far(store) -> None:
    """The model was declining when its reader died: the run keeps the refusal's words that
    reached the app, on screen and in history, not an empty answer."""
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("refusing", **REFUSING))
        handle = start_run_in_reader(openai_config(server.root_url, "refusing"), ChatRequest.from_prompt("go"), RunOptions(store=store))
        events: list[object] = []

        async def kill_once_the_three_words_are_in() -> None:
            so_far, killed = "", False
            async for event in handle.events():
                events.append(event)
                so_far += event.refusal if isinstance(event, RefusalDelta) else ""
                # The stream holds still after three words; they may come in more than one batch
                # (killing at the first word kept only "I", on a loaded machine).
                if so_far.startswith("I am sorry") and not killed:
                    os.kill(handle.reader_pid, signal.SIGKILL)
                    killed = True

        try:
            await asyncio.wait_for(kill_once_the_three_words_are_in(), DEADLINE_S)
        except TimeoutError:
            raise AssertionError(f"the run never ended after its reader was killed; it had {events[-1:]}") from None
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.error_type == INTERRUPTED
    refusal = "".join(e.refusal for e in events[:-1] if isinstance(e, RefusalDelta))
    assert refusal.startswith("I am sorry")
    assert failed.partial_response["refusal"] == refusal
    assert store.get_run(handle.run_id).response["refusal"] == refusal


@pytest.mark.process  # reader processes
async def test_a_run_handed_to_a_reader_that_died_just_before_ends_with_the_reason_and_is_saved(store) -> None:
    """A spare can die (OOM killer, a signal) just as a run takes it: after its socket's
    reading thread has already ended, so no death notice comes for the run. The run must
    still end, saved with the reason, not wait forever in a column that says "running"."""
    pool = Pool()
    worker = pool.fork()
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.ended.wait(DEADLINE_S), "the killed reader's socket never ended"
    config = openai_config("http://127.0.0.1:9", "absent")
    handle = ReaderRunHandle(config, ChatRequest.from_prompt("hi"), RunOptions(store=store, run_id=new_run_id()))
    handle._track()
    handle.attach(worker)
    events = await every_event_of(handle, "the run handed to a reader already dead")
    (failed,) = events
    assert isinstance(failed, Failed) and failed.error_type == INTERRUPTED
    assert failed.error == f"the reader process (pid {worker.pid}) ended before the run reached it"
    row = store.get_run(handle.run_id)
    assert (row.status, row.error) == ("error", failed.error)
    pool.close()
