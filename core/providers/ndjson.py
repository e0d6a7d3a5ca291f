"""Newline-delimited JSON off a byte stream (Ollama's /api/chat), one frame a line,
each stamped with the arrival time of its last bytes."""

from __future__ import annotations

from typing import AsyncIterator

from core.metrics import clock
from core.providers.base import Frame


def _frame(line: bytes, at: float) -> Frame | None:
    text = line.decode("utf-8", errors="replace").strip()
    return Frame(at, text, None, text) if text else None


async def iter_ndjson(chunks: AsyncIterator[bytes]) -> AsyncIterator[Frame]:
    """Split the body at line ends. Only each new read is searched for a newline and a
    long line's pieces are joined once, so a multi-megabyte line costs linear time.
    Lines are decoded whole, so a multi-byte character split across reads arrives
    intact; a last line without its newline (a cut stream) is still yielded."""
    pending: list[bytes] = []
    async for chunk in chunks:
        at = clock()
        start = 0
        end = chunk.find(b"\n")
        while end != -1:
            piece = chunk[start:end]
            if pending:
                pending.append(piece)
                piece = b"".join(pending)
                pending = []
            frame = _frame(piece, at)
            if frame is not None:
                yield frame
            start = end + 1
            end = chunk.find(b"\n", start)
        if start < len(chunk):
            pending.append(chunk[start:])
    if pending:
        frame = _frame(b"".join(pending), clock())
        if frame is not None:
            yield frame
