"""The pacing of a run's events into the UI (the compare screens' loops): a burst of frames
already buffered gives keys and the other runs a turn every few milliseconds, and a loop
that is stopped closes its run at once. On a clock the test moves."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tui.widgets.output import pacing


async def burst(count: int, closed: list[str]):  # type: ignore[no-untyped-def]
    """Frames already in the socket's buffer: the source never suspends."""
    try:
        for n in range(count):
            yield n
    finally:
        closed.append("closed")


async def test_a_burst_of_buffered_frames_gives_other_tasks_a_turn_every_few_milliseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readings = itertools.count(0.0, 0.002)  # each look at the clock finds it 2 ms on
    monkeypatch.setattr(pacing, "clock", lambda: next(readings))
    got: list[int] = []
    turns: list[int] = []  # how many events were through when the other task ran

    async def other() -> None:
        while True:
            turns.append(len(got))
            await asyncio.sleep(0)

    closed: list[str] = []
    beside = asyncio.ensure_future(other())
    try:
        async for event in pacing.yielding(burst(12, closed)):
            got.append(event)
    finally:
        beside.cancel()
    assert got == list(range(12))
    # A turn once more than 5 ms went by (3 events at 2 ms a look), never after each event.
    assert turns == [3, 6, 9, 12]
    assert closed == ["closed"]


async def test_a_loop_cancelled_mid_burst_closes_its_run_before_the_cancel_is_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A re-run cancels the comparison in flight: its runs are closed (and saved as cancelled)
    then, not whenever the garbage collector gets to them."""
    readings = itertools.count(0.0, 0.01)  # every event is past the pace: a turn after each
    monkeypatch.setattr(pacing, "clock", lambda: next(readings))
    closed: list[str] = []
    got: list[int] = []

    async def drive() -> None:
        async for event in pacing.yielding(burst(1000, closed)):
            got.append(event)

    task = asyncio.ensure_future(drive())
    for _ in range(100):  # the loop takes an event in each turn it gets
        if got:
            break
        await asyncio.sleep(0)
    assert got, "the loop took no event in 100 turns of the event loop"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == ["closed"] and len(got) < 1000
