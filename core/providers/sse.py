"""Server-sent events off a byte stream, each frame stamped with its arrival time."""

from __future__ import annotations

from typing import AsyncIterator

from core.metrics import clock
from core.providers.base import Frame


def parse_frame(block: str, at: float) -> Frame | None:
    """One SSE block (lines without the blank line that ends it) as a Frame; None when
    it carries nothing (an empty block, or only `id:`/`retry:` fields)."""
    # Nearly every frame is a single `data: {...}` line: no splitting, no list.
    if block.startswith("data: ") and "\n" not in block:
        return Frame(at, block, None, block[6:])
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
            return Frame(at, block, "comment", "")
        return None
    return Frame(at, block, event, "\n".join(data_lines))


def _normalise_newlines(data: bytes) -> bytes:
    # SSE allows CRLF, LF and bare CR line ends; split on LF only.
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


async def iter_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[Frame]:
    """Split the body into frames at blank lines, each stamped when its last bytes
    arrived. A frame left unterminated when the body ends is still yielded: a cut
    stream must hand back what it carried. Bytes are decoded per whole frame, so a
    multi-byte character split across reads arrives intact."""
    pending = b""
    async for chunk in chunks:
        at = clock()
        if pending:
            chunk = pending + chunk
        if b"\r" in chunk:
            # A CR at the very end may be half of a CRLF: keep it raw for the next read.
            if chunk.endswith(b"\r"):
                chunk = _normalise_newlines(chunk[:-1]) + b"\r"
            else:
                chunk = _normalise_newlines(chunk)
        if b"\n\n" not in chunk:
            pending = chunk
            continue
        blocks = chunk.split(b"\n\n")
        pending = blocks.pop()
        for block in blocks:
            if block:
                frame = parse_frame(block.decode("utf-8", errors="replace"), at)
                if frame is not None:
                    yield frame
    tail = _normalise_newlines(pending).strip(b"\n")
    if tail:
        frame = parse_frame(tail.decode("utf-8", errors="replace"), clock())
        if frame is not None:
            yield frame
