"""Server-sent events off a byte stream, each frame stamped with its arrival time."""

from __future__ import annotations

from typing import AsyncIterator

from core.metrics import clock
from core.providers.base import Frame


def _parse_frame(block: str, at: float) -> Frame | None:
    event: str | None = None
    data_lines: list[str] = []
    for line in block.split("\n"):
        if line.startswith("data:"):
            data_lines.append(line[6:] if line.startswith("data: ") else line[5:])
        elif line.startswith("event:"):
            event = line[6:].strip()
        # comments (":") and id/retry fields carry nothing the decoders need
    if not data_lines and event is None:
        if block.startswith(":"):
            return Frame(at=at, raw=block, event="comment", data="")
        return None
    return Frame(at=at, raw=block, event=event, data="\n".join(data_lines))


async def iter_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[Frame]:
    """Split the body into frames at blank lines. A frame left unterminated when the
    body ends is still yielded: a cut stream must hand back what it carried."""
    pending = b""
    async for chunk in chunks:
        at = clock()
        if pending:
            chunk = pending + chunk
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n")
        blocks = chunk.split(b"\n\n")
        pending = blocks.pop()
        for block in blocks:
            if block:
                frame = _parse_frame(block.decode("utf-8", errors="replace"), at)
                if frame is not None:
                    yield frame
    if pending.strip():
        frame = _parse_frame(pending.decode("utf-8", errors="replace").strip("\n"), clock())
        if frame is not None:
            yield frame
