"""What a server sends after the frame that ends a run.

An error event mid-stream (OpenRouter follows its error chunk with `[DONE]`) or a
malformed chunk ends the run, but the body often goes on. The wire view shows what
the wire did, so a short, bounded read keeps those frames too — as wire frames only:
they feed no decoder and move no figure (the run's last byte stays the one before).
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable

from core.providers.base import Frame, ProviderError

TAIL_FRAMES = 64  # a server that goes on streaming is not read to its end
TAIL_WAIT_S = 0.25  # nor waited for: the failure is reported this long after at most


async def read_tail(frames: AsyncIterator[Frame], keep: Callable[[Frame], None]) -> None:
    """Hand `keep` the frames that follow, until the body ends, TAIL_FRAMES have come,
    or TAIL_WAIT_S has passed; whatever goes wrong reading them ends the tail quietly
    (the run's error is already decided)."""
    kept = 0
    try:
        async with asyncio.timeout(TAIL_WAIT_S):
            async for frame in frames:
                keep(frame)
                kept += 1
                if kept >= TAIL_FRAMES:
                    return
    except (TimeoutError, ProviderError):
        return
