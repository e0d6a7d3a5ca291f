"""Just enough HTTP/1.1 for the simulator: parse requests, write responses, notice hang-ups.

Requests: request line, headers, a Content-Length body (the SDKs never send a
chunked request body), keep-alive. Streamed responses use chunked transfer
encoding: a cut stream then ends without the terminating zero-length chunk, so
clients can tell "dropped" from "finished" — with `Connection: close` framing
both look the same.

While a response is being produced nothing else reads the socket, so a watcher
reads it: end-of-file means the client hung up (a closed socket only shows up
on the write side once a send fails, which may be never during a stall). Bytes
it reads (a pipelined next request) are kept for the next request parse.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from http import HTTPStatus

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024
READ_SIZE = 64 * 1024


class BadRequest(Exception):
    """The bytes on the socket are not a request we can answer; reply 400 and close."""


@dataclass(slots=True)
class Request:
    method: str
    target: str  # as sent, with any query string
    path: str  # without the query string
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received_at: float  # perf_counter() when the last byte was read

    @property
    def wants_close(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


def reason_phrase(status: int) -> str:
    if status == 529:
        return "Overloaded"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def response_head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason_phrase(status)}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Connection:
    """One client socket: request parsing with a shared buffer, writes, and hang-up detection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.transport = writer.transport
        self._buffer = bytearray()
        self._eof = False
        self.hung_up = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    # --- reading -------------------------------------------------------------

    async def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            data = await self.reader.read(READ_SIZE)
        except (ConnectionError, OSError):
            data = b""
        if not data:
            self._eof = True
            self.hung_up.set()
            return False
        self._buffer += data
        return True

    async def read_request(self) -> Request | None:
        """The next request, or None when the client closed the connection between requests."""
        scan_from = 0
        while (end := self._buffer.find(b"\r\n\r\n", scan_from)) < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise BadRequest("request head too large")
            scan_from = max(0, len(self._buffer) - 3)
            if not await self._fill():
                if self._buffer.strip():
                    raise BadRequest("connection closed in the middle of a request head")
                return None
        head = bytes(self._buffer[:end]).decode("latin-1")
        del self._buffer[: end + 4]
        request_line, *header_lines = head.split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest(f"bad request line {request_line!r}")
        method, target, _version = parts
        headers: dict[str, str] = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise BadRequest(f"bad header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise BadRequest("chunked request bodies are not supported; send Content-Length")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise BadRequest("bad Content-Length") from exc
        if length < 0 or length > MAX_BODY_BYTES:
            raise BadRequest("bad Content-Length")
        if length > len(self._buffer) and headers.get("expect", "").lower() == "100-continue":
            # curl asks before sending bodies over 1 KB and would otherwise wait a second.
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        while len(self._buffer) < length:
            if not await self._fill():
                raise BadRequest("connection closed in the middle of a request body")
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return Request(method, target, target.split("?", 1)[0], headers, body, time.perf_counter())

    # --- hang-up detection while responding ------------------------------------

    def start_watching(self) -> None:
        self._watcher = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while await self._fill():
            pass

    async def stop_watching(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None and not watcher.done():
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    @property
    def gone(self) -> bool:
        return self.hung_up.is_set() or self.transport.is_closing()

    async def pause(self, seconds: float) -> bool:
        """Sleep, waking early if the client hangs up. True if the client is still there."""
        if self.gone:
            return False
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.hung_up.wait(), seconds)
        return not self.gone

    async def wait_hang_up(self) -> None:
        await self.hung_up.wait()

    # --- writing -------------------------------------------------------------

    def write(self, data: bytes) -> bool:
        """Write if the socket is still open; never write to a closing transport (asyncio would log)."""
        if self.transport.is_closing():
            return False
        self.transport.write(data)
        return True

    async def drain(self, high_water: int = 0) -> bool:
        """Wait until at most `high_water` bytes are buffered. False if the connection is lost."""
        if self.transport.is_closing():
            return False
        if self.transport.get_write_buffer_size() <= high_water:
            return True
        try:
            if high_water == 0:
                # drain() only waits below asyncio's high-water mark; to know the bytes left
                # the buffer (before an abrupt close) the limits have to be lowered first.
                self.transport.set_write_buffer_limits(high=0)
            await self.writer.drain()
        except (ConnectionError, OSError):
            return False
        return not self.transport.is_closing()

    def close_now(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
        if not self.transport.is_closing():
            self.writer.close()
