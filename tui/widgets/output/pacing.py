"""Pacing for the loops that feed a run's events to the UI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TypeVar

from core.metrics import clock

T = TypeVar("T")
YIELD_EVERY_S = 0.005


async def yielding(events: AsyncIterator[T]) -> AsyncIterator[T]:
    """Pass events through, giving the event loop a turn every few milliseconds:
    socket data already buffered never suspends an `async for`, so a burst of
    frames would otherwise hold key presses (and other panes' runs) back."""
    yielded = clock()
    # Closed on the way out, whatever ends the loop: a run left unclosed would be
    # saved as cancelled only when the garbage collector gets to it.
    async with aclosing(events):  # type: ignore[type-var]
        async for event in events:
            yield event
            if clock() - yielded > YIELD_EVERY_S:
                await asyncio.sleep(0)
                yielded = clock()
