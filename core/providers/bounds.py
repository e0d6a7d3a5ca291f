"""Reading a response within the run's bounds: a body read whole stops at its size
cap (never `aread()` unbounded), and the whole exchange — sending, headers, body —
ends at the run's deadline however slowly the server trickles (`Limits`)."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Awaitable, TypeVar

from core.metrics import clock
from core.providers import base
from core.providers.base import ProviderError, SendLog
from core.providers.sse import too_large

T = TypeVar("T")


async def prepend(first: bytes, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in chunks:
        yield chunk


async def read_capped(chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    """A whole body, read piece by piece so a huge one stops at the cap, not in memory."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise too_large("the response", max_bytes, "max_response_bytes")
        parts.append(chunk)
    return b"".join(parts)


async def until_deadline(chunks: AsyncIterator[bytes], deadline_at: float) -> AsyncIterator[bytes]:
    """The reads, ended by the run's deadline: a server trickling a byte a second never
    trips the per-read timeout. One timer for the whole body, not one per read (that
    would double the hot path's cost): when it fires during a read, that read is
    cancelled; between reads, the next one is not started."""
    task = asyncio.current_task()
    assert task is not None
    watch = _DeadlineWatch(task)
    timer = asyncio.get_running_loop().call_later(max(deadline_at - clock(), 0), watch.expire)
    iterator = chunks.__aiter__()
    try:
        while True:
            if watch.expired:
                raise deadline_passed()
            watch.reading = True
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if watch.expired and task.uncancel() == 0:  # our cancel, and nobody else's
                    raise deadline_passed() from None
                raise
            finally:
                watch.reading = False
            yield chunk
    finally:
        timer.cancel()


class _DeadlineWatch:
    __slots__ = ("task", "reading", "expired")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.reading = False
        self.expired = False

    def expire(self) -> None:
        self.expired = True
        if self.reading:  # never cancel the consumer's own code between reads
            self.task.cancel()


def deadline_passed(waiting_for: str = "the response to end") -> ProviderError:
    return ProviderError(
        f"the run passed its deadline while waiting for {waiting_for} (param deadline; "
        "what arrived is kept)",
        base.TIMEOUT,
    )


async def before_deadline(send: Awaitable[T], send_log: SendLog) -> T:
    """Await the SDK's send (connection, retries, headers) within the run's deadline:
    a server that trickles its headers a byte at a time never trips a read timeout."""
    if send_log.deadline_at is None:
        return await send
    timer = asyncio.timeout(max(send_log.deadline_at - clock(), 0))
    try:
        async with timer:
            return await send
    except TimeoutError as exc:
        if not timer.expired():  # a TimeoutError from inside, not the deadline's
            raise
        raise deadline_passed("the response headers") from exc
