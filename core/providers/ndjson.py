"""Newline-delimited JSON off a byte stream (Ollama's /api/chat), one frame a line,
each stamped with the arrival time of its last bytes, within the run's caps."""

from __future__ import annotations

from typing import AsyncIterator, Callable

from core.metrics import clock
from core.providers.base import Frame, Limits
from core.providers.sse import too_large


def _frame(line: bytes, at: float) -> Frame | None:
    text = line.decode("utf-8", errors="replace").strip()
    return Frame(at, text, None, text) if text else None


async def iter_ndjson(
    chunks: AsyncIterator[bytes], limits: Limits | None = None, arrived: Callable[[], float] = clock
) -> AsyncIterator[Frame]:
    """Split the body at line ends. Only each new read is searched for a newline and a
    long line's pieces are joined once, so a multi-megabyte line costs linear time.
    Lines are decoded whole, so a multi-byte character split across reads arrives
    intact; a last line without its newline (a cut stream) is still yielded. Past a cap
    (`Limits`: the body, one line, the number of lines) the lines before it are handed
    over, then ProviderError(too_large)."""
    limits = limits or Limits()
    pending: list[bytes] = []
    pending_size = total = lines = 0
    async for chunk in chunks:
        at = arrived()  # the kernel's stamp of the last read (core.providers.netstamp)
        total += len(chunk)
        if total > limits.max_response_bytes:
            raise too_large("the response", limits.max_response_bytes, "max_response_bytes")
        start = 0
        end = chunk.find(b"\n")
        while end != -1:
            piece = chunk[start:end]
            if pending:
                pending.append(piece)
                piece = b"".join(pending)
                pending, pending_size = [], 0
            if len(piece) > limits.max_frame_bytes:
                raise too_large("one frame", limits.max_frame_bytes, "max_frame_bytes")
            frame = _frame(piece, at)
            if frame is not None:
                lines += 1
                if lines > limits.max_frames:
                    raise too_large("the number of frames", limits.max_frames, "max_frames")
                yield frame
            start = end + 1
            end = chunk.find(b"\n", start)
        if start < len(chunk):
            pending.append(chunk[start:])
            pending_size += len(chunk) - start
            if pending_size > limits.max_frame_bytes:
                raise too_large("one frame", limits.max_frame_bytes, "max_frame_bytes")
    if pending:
        frame = _frame(b"".join(pending), arrived())
        if frame is not None:
            yield frame
