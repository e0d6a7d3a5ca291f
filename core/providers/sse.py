"""Server-sent events off a byte stream, each frame stamped with its arrival time.

Linear in the body's size however it is split: bytes are appended to one buffer
and only the new bytes are searched for the blank line that ends a frame, so a
10 MB line read in 64 KB pieces costs what reading it once does. Bounded: a
frame, the whole body and the number of frames each have a cap (`Limits`);
past one the stream ends as `too_large`, the frames before it kept.
"""

from __future__ import annotations

from typing import AsyncIterator, Callable

import orjson

from core.metrics import clock
from core.providers import base
from core.providers.base import Frame, Limits, ProviderError

_MB = 1024 * 1024


def parse_frame(block: str, at: float) -> Frame | None:
    """One SSE block (lines without the blank line that ends it) as a Frame; None when
    it carries nothing (an empty block, or only `id:`/`retry:` fields).

    A block with no field at all is not SSE, but it is what the wire carried: a bare JSON
    error object (some proxies answer an event stream so) is an `error` event; anything
    else is kept as a frame without data, shown in the wire view and read by no decoder."""
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
        if all(_carries_nothing(line) for line in block.split("\n")):
            return None
        return _fieldless(block, at)
    return Frame(at, block, event, "\n".join(data_lines))


def _carries_nothing(line: str) -> bool:
    """An `id` or `retry` field (with a value or without), a comment line, or no line."""
    return not line or line in ("id", "retry") or line.startswith(("id:", "retry:", ":"))


def _fieldless(block: str, at: float) -> Frame:
    text = block.strip()
    if text.startswith("{"):
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and obj.get("error"):
            return Frame(at, block, "error", text)
    return Frame(at, block, None, "")


def _normalise_newlines(data: bytes) -> bytes:
    # SSE allows CRLF, LF and bare CR line ends; split on LF only.
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _size(n: int) -> str:
    return f"{n / _MB:g} MB" if n >= _MB else f"{n} bytes"


def too_large(what: str, limit: int, param: str) -> ProviderError:
    return ProviderError(
        f"{what} passed {limit if param == 'max_frames' else _size(limit)} ({param}): "
        "stopped reading; what arrived before is kept",
        base.TOO_LARGE,
    )


class SseSplitter:
    """Bytes in, complete frame blocks (blank line removed) out.

    The pending bytes of an unfinished frame are appended to, never re-copied, and
    only a new read is searched for the blank line: a long frame costs linear time.
    Once a read completes a frame, the pending bytes and the read are joined once
    and split in C, as cheap as it gets for the usual stream of short frames."""

    __slots__ = ("_pending", "_skip_lf", "_max_frame", "overflow")

    def __init__(self, max_frame_bytes: int) -> None:
        self._pending = bytearray()
        self._skip_lf = False  # the last read ended in CR: an LF next is its other half
        self._max_frame = max_frame_bytes
        # Set when a frame passed the cap: the frames before it are handed out first.
        self.overflow: ProviderError | None = None

    def feed(self, chunk: bytes) -> list[bytes]:
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if b"\r" in chunk:
            # A CR ends a line whatever follows, so it counts now (a frame ending in
            # one is yielded with this read, not the next); an LF next is dropped.
            self._skip_lf = chunk.endswith(b"\r")
            chunk = _normalise_newlines(chunk)
        pending = self._pending
        # The blank line is in this read, or its first LF ended the last one.
        if b"\n\n" not in chunk and not (chunk.startswith(b"\n") and pending.endswith(b"\n")):
            pending += chunk
            if self._over(pending) and self.overflow is None:
                self.overflow = too_large("one frame", self._max_frame, "max_frame_bytes")
            return []
        data = bytes(pending) + chunk if pending else chunk
        blocks = data.split(b"\n\n")
        rest = blocks.pop()
        self._pending = bytearray(rest)
        if len(data) > self._max_frame:  # only then can a block be over the cap
            for index, block in enumerate(blocks):
                if len(block) > self._max_frame:
                    del blocks[index:]
                    break
            else:
                if not self._over(rest):
                    return blocks
            if self.overflow is None:
                self.overflow = too_large("one frame", self._max_frame, "max_frame_bytes")
        return blocks

    def _over(self, pending: bytes | bytearray) -> bool:
        """Whether an unfinished frame is already past the cap. A last LF may be the first
        half of the blank line that ends it (the read ended between the two): not the
        frame's, so a frame of exactly the cap is not refused for where a read ended."""
        return len(pending) - pending.endswith(b"\n") > self._max_frame

    def tail(self) -> bytes:
        """What is left when the body ends: a last frame without its blank line."""
        return bytes(self._pending).strip(b"\n")


async def iter_sse(
    chunks: AsyncIterator[bytes], limits: Limits | None = None, arrived: Callable[[], float] = clock
) -> AsyncIterator[Frame]:
    """Split the body into frames at blank lines, each stamped when its last bytes
    arrived (`arrived()`: the kernel's stamp of the last read, core.providers.netstamp). A frame left unterminated when the body ends is still yielded: a cut
    stream must hand back what it carried. Bytes are decoded per whole frame, so a
    multi-byte character split across reads arrives intact."""
    limits = limits or Limits()
    splitter = SseSplitter(limits.max_frame_bytes)
    max_bytes, max_frames = limits.max_response_bytes, limits.max_frames
    received = 0
    count = 0
    async for chunk in chunks:
        at = arrived()
        received += len(chunk)
        overflow = None
        if received > max_bytes:
            # The frames complete within the cap are kept; nothing past it is read.
            chunk = chunk[: len(chunk) - (received - max_bytes)]
            overflow = too_large("the response", max_bytes, "max_response_bytes")
        for block in splitter.feed(chunk):
            if block:
                frame = parse_frame(block.decode("utf-8", errors="replace"), at)
                if frame is not None:
                    count += 1
                    if count > max_frames:
                        raise too_large("the number of frames", max_frames, "max_frames")
                    yield frame
        overflow = splitter.overflow or overflow
        if overflow is not None:
            raise overflow
    tail = splitter.tail()
    if tail:
        frame = parse_frame(tail.decode("utf-8", errors="replace"), arrived())
        if frame is not None:
            if count >= max_frames:
                raise too_large("the number of frames", max_frames, "max_frames")
            yield frame
