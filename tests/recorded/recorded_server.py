"""A loopback HTTP server that answers every request with one recorded response, byte for byte.

The body goes out in the pieces it is given, each as its own HTTP/1.1 chunk: the client's
HTTP stack hands chunks on as they are decoded, so a piece boundary reaches llmwb's parser
as a read boundary even when the kernel coalesces the writes into one segment.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType

import orjson


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: object  # parsed JSON, or the raw bytes when it is not JSON


@dataclass
class LoopbackReplay:
    status: int
    headers: dict[str, str]
    pieces: list[bytes]
    requests: list[SeenRequest] = field(default_factory=list)
    root_url: str = ""
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> "LoopbackReplay":
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.root_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.requests.append(await _read_request(reader))
            # One write for the whole response: the chunk framing, not the segments, makes each
            # piece its own read (a send per piece cost ~20 µs each, 318k of them per suite run).
            chunks = (b"%x\r\n%s\r\n" % (len(piece), piece) for piece in self.pieces if piece)
            writer.write(self._head() + b"".join(chunks) + b"0\r\n\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: nothing left to answer
        finally:
            writer.close()

    def _head(self) -> bytes:
        reason = HTTPStatus(self.status).phrase if self.status in HTTPStatus._value2member_map_ else "Status"
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        lines += ["transfer-encoding: chunked", "connection: close"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_request(reader: asyncio.StreamReader) -> SeenRequest:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    request_line, *header_lines = head.split("\r\n")
    method, path, _version = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    raw = await reader.readexactly(int(headers.get("content-length", "0")))
    try:
        body: object = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = raw
    return SeenRequest(method, path, headers, body)
