"""A run's handle as its consumers see it (the CLI awaiting batches, the UI draining on its
clock, the exit path settling every run): each event once and in order, the run's end
seen exactly when the runner pushed its last event, and a cancel that stops the run
with the first reason given. The producers here are plain coroutines on the I/O loop,
held at gates the test opens, never timed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

import pytest

from core import handle as handle_module
from core.handle import RunHandle, settle


class Gate:
    """A point the producer waits at (on an executor thread) until the test opens it."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()

    async def wait(self) -> None:
        self.reached.set()
        await asyncio.get_running_loop().run_in_executor(None, self.opened.wait)


def _handle(live: dict[str, Any] | None = None) -> RunHandle:
    return RunHandle("run000000001", "demo", True, lambda: dict(live or {}))


def _start(handle: RunHandle, produce: Coroutine[Any, Any, None]) -> None:
    handle.start(produce)


async def test_batches_hand_over_every_event_once_in_order_and_end_with_the_run() -> None:
    handle, gate = _handle(), Gate()

    async def produce() -> None:
        handle.push("a")  # type: ignore[arg-type]
        await gate.wait()
        handle.push_batch(["b", "c"])  # type: ignore[list-item]
        handle.push("d")  # type: ignore[arg-type]

    _start(handle, produce())
    seen: list[list[str]] = []
    async for batch in handle.batches():
        seen.append(list(batch))  # type: ignore[arg-type]
        if batch == ["a"]:
            assert not handle.all_pushed and not handle.exhausted
            await asyncio.to_thread(gate.reached.wait)
            gate.opened.set()
    assert [event for batch in seen for event in batch] == ["a", "b", "c", "d"]
    assert seen[0] == ["a"]
    assert handle.all_pushed and handle.exhausted and handle.drain() == []
    assert await handle.wait(5) and handle.finished


async def test_a_waiting_consumer_is_woken_by_a_batch_pushed_later() -> None:
    handle, first, second = _handle(), Gate(), Gate()

    async def produce() -> None:
        await first.wait()
        handle.push_batch(["x", "y"])  # type: ignore[list-item]
        await second.wait()

    _start(handle, produce())
    batches = handle.batches()
    waiting = asyncio.ensure_future(anext(batches))
    await asyncio.to_thread(first.reached.wait)
    first.opened.set()  # the producer pushes while the consumer is waiting, then waits again
    assert await asyncio.wait_for(waiting, 10) == ["x", "y"]
    await asyncio.to_thread(second.reached.wait)
    assert not handle.all_pushed and not handle.finished
    second.opened.set()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(batches), 10)  # the producer ends: so do the batches
    assert handle.all_pushed and await handle.wait(10)


async def test_events_are_the_batches_one_by_one() -> None:
    handle = _handle()

    async def produce() -> None:
        handle.push_batch(["1", "2"])  # type: ignore[list-item]
        handle.push("3")  # type: ignore[arg-type]

    _start(handle, produce())
    assert [event async for event in handle.events()] == ["1", "2", "3"]


def test_drain_never_waits_and_gives_what_arrived_since_the_last_drain() -> None:
    handle, gate = _handle({"ttft_ms": 12.5}), Gate()

    async def produce() -> None:
        handle.push("a")  # type: ignore[arg-type]
        handle.push("b")  # type: ignore[arg-type]
        await gate.wait()
        handle.push("c")  # type: ignore[arg-type]

    _start(handle, produce())
    assert gate.reached.wait(10)
    assert handle.drain() == ["a", "b"] and handle.drain() == []
    assert not handle.exhausted and not handle.all_pushed
    assert handle.live() == {"ttft_ms": 12.5}
    gate.opened.set()
    assert handle.wait_blocking(10)
    assert handle.finished and handle.all_pushed and not handle.exhausted  # "c" is still to be drained
    assert handle.drain() == ["c"] and handle.exhausted


def test_waiting_for_a_run_not_saved_yet_gives_up_at_its_timeout() -> None:
    handle, gate = _handle(), Gate()
    _start(handle, gate.wait())
    assert gate.reached.wait(10)
    assert handle.wait_blocking(0.01) is False
    assert asyncio.run(handle.wait(0.01)) is False
    assert not handle.finished
    gate.opened.set()
    assert handle.wait_blocking(10) is True and asyncio.run(handle.wait(10)) is True


def test_a_cancel_stops_the_run_and_keeps_the_first_reason() -> None:
    handle, gate, stopped = _handle(), Gate(), threading.Event()

    async def produce() -> None:
        try:
            await gate.wait()
        except asyncio.CancelledError:
            stopped.set()
            handle.push("cancelled")  # type: ignore[arg-type]
            raise

    _start(handle, produce())
    assert gate.reached.wait(10)
    handle.cancel()
    assert handle.cancel_reason is None  # the default: "cancelled by the user", the runner's words
    handle.cancel("the app was quit")
    handle.cancel("a later reason")
    assert handle.cancel_reason == "the app was quit"
    assert handle.wait_blocking(10) and stopped.is_set()
    assert handle.drain() == ["cancelled"] and handle.exhausted
    gate.opened.set()
    handle.cancel("after the end")  # the run's loop is gone: nothing happens
    assert handle.cancel_reason == "the app was quit"


def test_a_cancel_sent_before_the_run_began_still_stops_it() -> None:
    handle, began = _handle(), threading.Event()
    gate = Gate()

    async def produce() -> None:
        began.set()
        await gate.wait()

    handle._loop = loop = handle_module.start_io_loop()  # the task is not made yet
    handle._track()
    handle.cancel("quit while starting")
    loop.call_soon_threadsafe(handle._create_task, loop, produce())
    assert handle.wait_blocking(10)
    assert handle.cancel_reason == "quit while starting" and handle.all_pushed
    gate.opened.set()


def test_settle_cancels_every_run_still_going_and_waits_for_them() -> None:
    gates = [Gate(), Gate()]
    handles = [_handle(), _handle()]
    for handle, gate in zip(handles, gates):
        _start(handle, gate.wait())
    for gate in gates:
        assert gate.reached.wait(10)
    assert set(handles) <= handle_module._running
    assert settle(10, "terminated (SIGTERM)") is True
    assert all(h.finished and h.cancel_reason == "terminated (SIGTERM)" for h in handles)
    assert not set(handles) & handle_module._running  # saved runs are forgotten
    for gate in gates:
        gate.opened.set()


def test_settle_says_so_when_a_run_is_not_saved_in_time() -> None:
    handle, gate, release = _handle(), Gate(), threading.Event()

    async def produce() -> None:
        try:
            await gate.wait()
        finally:  # a save that outlasts the settle's time
            await asyncio.get_running_loop().run_in_executor(None, release.wait)

    _start(handle, produce())
    assert gate.reached.wait(10)
    assert settle(0.05) is False
    assert handle.cancel_reason is None and not handle.finished
    release.set()
    gate.opened.set()
    assert handle.wait_blocking(10)
    assert settle(0.0) is True  # nothing left running


async def test_events_pushed_one_after_another_to_a_waiting_consumer_all_arrive() -> None:
    handle, first, second = RunHandle("run000000002", "demo-claude", False, dict), Gate(), Gate()
    assert (handle.run_id, handle.model_config, handle.stream) == ("run000000002", "demo-claude", False)

    async def produce() -> None:
        await first.wait()
        handle.push("x")  # type: ignore[arg-type]  # wakes the consumer…
        handle.push("y")  # type: ignore[arg-type]  # …which has not looked yet
        await second.wait()
        handle.push_batch(["p"])  # type: ignore[list-item]
        handle.push_batch(["q"])  # type: ignore[list-item]

    _start(handle, produce())
    batches = handle.batches()
    waiting = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)  # the consumer finds nothing and waits
    await asyncio.to_thread(first.reached.wait)
    first.opened.set()
    got = list(await asyncio.wait_for(waiting, 10))
    if got == ["x"]:
        got += await asyncio.wait_for(anext(batches), 10)
    assert got == ["x", "y"]
    waiting = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)
    await asyncio.to_thread(second.reached.wait)
    second.opened.set()
    rest = [event async for batch in _rest(waiting, batches) for event in batch]
    assert rest == ["p", "q"]
    assert await handle.wait(10)


async def _rest(first: asyncio.Future, batches):  # type: ignore[no-untyped-def]
    yield await asyncio.wait_for(first, 10)
    async for batch in batches:
        yield batch
