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

from core.simulator.wireclock import WireClock

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024
READ_SIZE = 64 * 1024


# A client that opens a connection (or keeps one alive) and sends nothing is dropped
# after IDLE_TIMEOUT_S; one that starts a request must finish it (head and body)
# within REQUEST_TIMEOUT_S: a slowloris client cannot hold connections open forever.
IDLE_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 10.0


class BadRequest(Exception):
    """The bytes on the socket are not a request we can answer; reply `status` and close."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class Request:
    method: str
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

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        idle_timeout: float | None = IDLE_TIMEOUT_S,
        request_timeout: float | None = REQUEST_TIMEOUT_S,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.transport = writer.transport
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.max_body_bytes = max_body_bytes
        self._buffer = bytearray()
        self._eof = False
        self.hung_up = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self._wire_clock = WireClock.for_transport(self.transport)
        # When the last write left: the kernel's stamp on loopback, else when write() returned.
        self.written_at = 0.0

    # --- reading -------------------------------------------------------------

    async def _fill(self, until: float | None = None) -> bool:
        """Read more into the buffer; False at end of file. `until` (loop time): raise
        TimeoutError if nothing arrives by then."""
        if self._eof:
            return False
        try:
            if until is None:
                data = await self.reader.read(READ_SIZE)
            else:
                async with asyncio.timeout_at(until):
                    data = await self.reader.read(READ_SIZE)
        except TimeoutError:  # an OSError too, but no end of file
            raise
        except (ConnectionError, OSError):
            data = b""
        if not data:
            self._eof = True
            self.hung_up.set()
            return False
        self._buffer += data
        return True

    def _after(self, seconds: float | None) -> float | None:
        return None if seconds is None else asyncio.get_running_loop().time() + seconds

    async def read_request(self) -> Request | None:
        """The next request, or None when the client closed the connection (or left it
        idle past `idle_timeout`) between requests. Raises BadRequest (with the status
        to answer) for bytes that are no request, or a request not finished in time."""
        if not self._buffer.strip():
            try:
                if not await self._fill(self._after(self.idle_timeout)):
                    return None
            except TimeoutError:
                return None  # an idle keep-alive connection: closed without a word
        until = self._after(self.request_timeout)
        try:
            return await self._read_request(until)
        except TimeoutError:
            raise BadRequest(f"request not received within {self.request_timeout:g} s", 408) from None

    async def _read_request(self, until: float | None) -> Request | None:
        scan_from = 0
        while (end := self._buffer.find(b"\r\n\r\n", scan_from)) < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise BadRequest("request head too large", 431)
            scan_from = max(0, len(self._buffer) - 3)
            if not await self._fill(until):
                if self._buffer.strip():
                    raise BadRequest("connection closed in the middle of a request head")
                return None
        if end > MAX_HEAD_BYTES:
            raise BadRequest("request head too large", 431)
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
        length_text = headers.get("content-length", "0")
        if not length_text.isascii() or not length_text.isdigit():  # int() would take "+1", "1_0"
            raise BadRequest("bad Content-Length")
        length = int(length_text) if len(length_text) < 20 else self.max_body_bytes + 1
        if length > self.max_body_bytes:
            raise BadRequest(f"request body over {self.max_body_bytes} bytes", 413)
        if length > len(self._buffer) and headers.get("expect", "").lower() == "100-continue":
            # curl asks before sending bodies over 1 KB and would otherwise wait a second.
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        while len(self._buffer) < length:
            if not await self._fill(until):
                raise BadRequest("connection closed in the middle of a request body")
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return Request(method, target.split("?", 1)[0], headers, body, time.perf_counter())

    # --- hang-up detection while responding ------------------------------------

    def start_watching(self) -> None:
        self._watcher = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        # Kept for the next request, up to what one request may hold: a client pumping
        # bytes while its answer streams is not allowed to grow the server's memory.
        limit = MAX_HEAD_BYTES + self.max_body_bytes
        while await self._fill():
            if len(self._buffer) > limit:
                self.transport.abort()
                self.hung_up.set()
                return

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
        """Write if the socket is still open; never write to a closing transport (asyncio
        would log). `written_at` then says when the bytes left."""
        if self.transport.is_closing():
            return False
        clock = self._wire_clock
        if clock is None or self.transport.get_write_buffer_size():
            # Behind bytes the transport holds, the kernel would stamp these out of order.
            self.transport.write(data)
            if clock is not None:
                clock.counted(len(data))
            self.written_at = time.perf_counter()
            return True
        try:
            sent = clock.send(data)
        except OSError:  # the client is gone: the transport finds out and closes
            sent = 0
        if sent < len(data):
            self.transport.write(data[sent:])
            clock.counted(len(data) - sent)
        stamped = clock.sent_at() if sent == len(data) else None
        self.written_at = stamped if stamped is not None else time.perf_counter()
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
        if self._wire_clock is not None:
            self._wire_clock.close()
        if not self.transport.is_closing():
            self.writer.close()
