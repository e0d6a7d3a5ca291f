"""A run's I/O thread reads a light stream at a real-time priority where Linux allows it
(core.iopriority): woken, it runs at once, so frames a gap apart are not left waiting in
its socket to be merged under one stamp. A flat-out stream's I/O thread steps back to the
normal policy mid-run, or it would hold a core from the app; a reader runs nothing raised once
its run is over."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest

from core.events import TextDelta
from core import iopriority
from core.iopriority import BUSY_AFTER_MS, BUSY_CHUNKS_PER_S, BUSY_SHARE, IoPriority, streams_flat_out
from core.readerproc import start_run_in_reader
from core.request import ChatRequest
from core.runner import start_run

from runkit import openai_config, scripted
from test_io_thread import threaded_simulator
from waiting import DEADLINE_S, poll

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_RR"), reason="Linux's scheduling policies")
REAL_TIME = getattr(os, "SCHED_RR", -1) | getattr(os, "SCHED_RESET_ON_FORK", 0)  # as sched_getscheduler reports it


@pytest.fixture
def policy_calls(monkeypatch) -> list[tuple[int, int]]:
    """(thread, policy) for each change an IoPriority makes; none is made to this process."""
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "sched_setscheduler", lambda thread, policy, _param: calls.append((thread, policy)))
    return calls


def test_the_thread_that_makes_it_is_raised_and_the_threads_it_starts_are_not(policy_calls) -> None:
    priority = IoPriority()
    assert priority.raised and policy_calls == [(threading.get_native_id(), REAL_TIME)]


def live(ttft_ms: float | None, elapsed_ms: float, chunks: int) -> dict[str, Any]:
    return {"ttft_ms": ttft_ms, "elapsed_ms": elapsed_ms, "chunks": chunks}


def test_flat_out_means_many_chunks_a_second_over_the_first_stretch_of_content() -> None:
    enough = int(BUSY_CHUNKS_PER_S * BUSY_AFTER_MS / 1000.0)
    assert not streams_flat_out(live(None, 2_000.0, 0))  # still waiting for the first token: nothing known
    assert not streams_flat_out(live(50.0, 50.0 + BUSY_AFTER_MS - 1, 5_000))  # not long enough to tell
    assert streams_flat_out(live(50.0, 50.0 + BUSY_AFTER_MS, enough))
    assert not streams_flat_out(live(50.0, 50.0 + BUSY_AFTER_MS, enough - 1))
    assert not streams_flat_out(live(300.0, 2_000.0, 85))  # a paced model: 50 chunks a second
    assert not streams_flat_out(live(0.0, 2_000.5, 1_000))  # 499.9 a second: just under


STEP_S = 1 / 1024  # a look's interval, as the clocks tell it: exact in binary, so are the sums


class Clocks:
    """The thread's CPU time and the wall clock as the watch reads them: each look (one read
    of each) is STEP_S later, `share` of it spent on the CPU."""

    def __init__(self) -> None:
        self.share = 0.125  # an eighth of a core (exact in binary too)
        self.start_looks = 0  # the first looks' share is a whole core: the run's start
        self.cpu = 0.0
        self.wall = 0.0
        self.looks = 0

    def thread_time(self) -> float:
        self.cpu += (1.0 if self.looks <= self.start_looks else self.share) * STEP_S
        return self.cpu

    def monotonic(self) -> float:
        self.wall += STEP_S
        self.looks += 1
        return self.wall


@pytest.fixture
def clocks(monkeypatch) -> Clocks:
    clocks = Clocks()
    monkeypatch.setattr(iopriority, "time", clocks)
    monkeypatch.setattr(iopriority, "WATCH_EVERY_S", STEP_S)
    monkeypatch.setattr(iopriority, "CPU_WINDOW_S", 5 * STEP_S)  # the last 5 looks
    return clocks


async def test_a_thread_that_keeps_half_a_core_busy_steps_back(policy_calls, clocks) -> None:
    priority = IoPriority()
    priority.watch(lambda: live(300.0, 400.0, 5))  # a paced stream's figures
    await asyncio.wait_for(until(lambda: clocks.looks > 20), DEADLINE_S)
    assert priority.raised  # an eighth of a core, look after look
    clocks.share = BUSY_SHARE  # exactly the share that steps back, over exactly the window
    await asyncio.wait_for(until(lambda: not priority.raised), DEADLINE_S)
    assert policy_calls == [(threading.get_native_id(), REAL_TIME), (threading.get_native_id(), os.SCHED_OTHER)]


async def test_a_run_s_start_on_a_whole_core_is_not_a_busy_stream(policy_calls, clocks) -> None:
    clocks.start_looks = 2  # two looks' worth of CPU as the run starts, then a paced stream's eighth
    priority = IoPriority()
    priority.watch(lambda: live(300.0, 400.0, 5))
    await asyncio.wait_for(until(lambda: clocks.looks > 20), DEADLINE_S)
    assert priority.raised and len(policy_calls) == 1


async def test_a_thread_whose_stream_comes_flat_out_steps_back_at_the_next_look(policy_calls, clocks) -> None:
    priority = IoPriority()
    priority.watch(lambda: live(50.0, 50.0 + BUSY_AFTER_MS, 10_000))
    await asyncio.wait_for(until(lambda: not priority.raised), DEADLINE_S)
    assert clocks.looks <= 2  # the first look (the watch's own first reading is the other)


async def until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.001)


def test_where_real_time_is_not_allowed_nothing_changes(monkeypatch) -> None:
    calls: list[int] = []

    def refuse(_thread: int, policy: int, _param: Any) -> None:
        calls.append(policy)
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    priority = IoPriority()
    priority.lower()
    assert not priority.raised and calls == [REAL_TIME]  # asked once, nothing to undo


def policies(pid: int) -> dict[int, int]:
    """Each running thread of process `pid`: its scheduling policy."""
    seen = {}
    for thread_id in os.listdir(f"/proc/{pid}/task"):
        try:
            seen[int(thread_id)] = os.sched_getscheduler(int(thread_id))
        except OSError:  # ended meanwhile
            pass
    return seen


def real_time_allowed() -> bool:
    if not hasattr(os, "SCHED_RR"):
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(os.sched_get_priority_min(os.SCHED_RR)))
    except OSError:
        return False
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    return True


needs_real_time = pytest.mark.skipif(not real_time_allowed(), reason="this user may not take a real-time priority")


def paced_then_still(server: Any, name: str, gap_ms: int, chunks: int) -> None:
    """`chunks` words `gap_ms` apart, then the stream holds still: a run to look at mid-stream."""
    words = " ".join(f"w{i}" for i in range(chunks + 10))
    server.add_scenario(scripted(name, text=words, chunking={"mode": "word"}, timing={"first_token_ms": 0, "gap_ms": gap_ms},
                                 fault={"stall_after_chunks": chunks, "stall_s": 600}))  # fmt: skip


@needs_real_time
@pytest.mark.process  # a reader process
async def test_a_paced_stream_is_read_at_real_time_in_its_reader_which_is_back_at_normal_after() -> None:
    with threaded_simulator() as (server, _loop):
        paced_then_still(server, "paced", gap_ms=20, chunks=10)
        handle = start_run_in_reader(openai_config(server.root_url, "paced"), ChatRequest.from_prompt("go"))
        pid = None
        async for event in handle.events():
            if pid is None and isinstance(event, TextDelta) and "w9" in event.content:  # held still now
                pid = handle.reader_pid
                assert pid is not None
                assert list(policies(pid).values()).count(REAL_TIME) == 1, policies(pid)  # the I/O thread alone
                handle.cancel()
        assert pid is not None, "the stream never reached its stall"
        assert await handle.wait(60), "the reader never said the run was over"
        # The run's thread ended with it; the reader, kept for the next run, runs nothing raised.
        poll(lambda: REAL_TIME not in policies(pid).values(), "the reader to be back at the normal policy")


@needs_real_time
async def test_a_flat_out_stream_s_thread_is_back_at_the_normal_policy_while_it_still_streams() -> None:
    with threaded_simulator() as (server, _loop):
        paced_then_still(server, "flood", gap_ms=0, chunks=5_000)  # flat out
        handle = start_run(openai_config(server.root_url, "flood"), ChatRequest.from_prompt("go"))  # as `llmwb run`
        held_still = False
        async for event in handle.events():
            if not held_still and isinstance(event, TextDelta) and "w4999" in event.content:
                held_still = True
                # It stepped back while it read; the run, held still, is not over, and its
                # thread still there.
                poll(lambda: REAL_TIME not in policies(os.getpid()).values(), "the busy stream's thread to step back")
                handle.cancel()
        assert held_still, "the stream never reached its stall"
        assert await handle.wait(60), "the run never ended"
