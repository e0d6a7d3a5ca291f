"""Arrival stamps taken by the kernel: every read of a response says when its bytes
reached this machine, however late the process got round to reading them.

A stamp taken with `clock()` after a read is late by however long the reading process
waited for a core: on a loaded machine, or beside a flat-out stream in the same
comparison, that was tens of milliseconds now and then — in the CLI as in the app. Linux
stamps each received packet (SO_TIMESTAMPNS); `recvmsg` hands back the stamp of the last
packet it read. That stamp is on the wall clock, so it becomes the core's clock as
`clock() − (now on the wall clock − the stamp)`: the packet's age, measured on one clock.

The HTTP clients get this through httpcore's network-backend hook: TCP connections are
made here, TLS is anyio's own (its TLS stream reads the ciphertext from this one, so the
stamp of a decrypted read is the arrival of the packet that completed it). Where the
kernel gives no stamp (not Linux, a Unix socket), a read is stamped when it returns.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterable
from typing import Any

import anyio
import anyio.abc
from httpcore2._backends.anyio import AnyIOBackend, AnyIOStream
from httpcore2._exceptions import ConnectError, ConnectTimeout, map_exceptions

from core.kernelstamps import MAX_STAMP_AGE_S, SO_TIMESTAMPNS, TIMESPEC
from core.metrics import clock

_ANCILLARY_SPACE = socket.CMSG_SPACE(TIMESPEC.size) if SO_TIMESTAMPNS else 0


def arrival_of(ancillary: list[tuple[int, int, bytes]], read_at: float, wall_at: float | None = None) -> float:
    """When the bytes of one `recvmsg` arrived, on the core's clock: the kernel's stamp of
    the last packet read, or the read itself when there is none (or it cannot be right).
    `read_at` (core clock) and `wall_at` (wall clock) are the same moment, after the read."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= TIMESPEC.size:
            seconds, nanoseconds = TIMESPEC.unpack_from(data)
            age = (time.time() if wall_at is None else wall_at) - (seconds + nanoseconds / 1e9)
            if 0.0 <= age <= MAX_STAMP_AGE_S:
                return read_at - age
    return read_at


def _now() -> tuple[float, float]:
    """This moment on the core's clock and on the wall clock. Taken between two core-clock
    readings, retried if the process was preempted in between (the error it would add)."""
    for _attempt in range(3):
        before = clock()
        wall = time.time()
        after = clock()
        if after - before < 20e-6:
            break
    return (before + after) / 2, wall


class StampedSocketStream(anyio.abc.SocketStream):
    """A connected TCP socket read with `recvmsg`; `arrived_at` is the arrival (core
    clock) of the bytes the last `receive` returned."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self.arrived_at: float | None = None
        self._closed = False
        self._waiter: asyncio.Future[None] | None = None  # a receive waiting for bytes

    @property
    def _raw_socket(self) -> socket.socket:
        return self._sock

    async def receive(self, max_bytes: int = 65536) -> bytes:
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                data, ancillary, _flags, _address = self._sock.recvmsg(max_bytes, _ANCILLARY_SPACE)
            except (BlockingIOError, InterruptedError):
                await self._readable()
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            if not data:
                raise anyio.EndOfStream
            arrived = arrival_of(ancillary, *_now())
            # Bytes arrive in order: a stamp never goes back (the conversion's jitter could).
            if self.arrived_at is None or arrived > self.arrived_at:
                self.arrived_at = arrived
            # A checkpoint, as anyio's own streams make one: on a flat-out stream there is
            # always data, and without it a cancel could not reach this loop.
            await asyncio.sleep(0)
            return data

    async def _readable(self) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        fd = self._sock.fileno()
        self._loop.add_reader(fd, lambda: waiter.done() or waiter.set_result(None))
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None
            if not self._closed:
                self._loop.remove_reader(fd)

    async def send(self, item: bytes) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        try:
            await self._loop.sock_sendall(self._sock, item)
        except OSError as exc:
            raise anyio.BrokenResourceError from exc

    async def send_eof(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Unregistered before the socket closes: its number may be reused at once.
        self._loop.remove_reader(self._sock.fileno())
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(anyio.ClosedResourceError())
        self._sock.close()


class StampedStream(AnyIOStream):
    """httpcore's stream over anyio, plus `arrived_at()`: the arrival of the bytes its
    last read returned. TLS wraps the same stamped socket, so the stamp carries through."""

    def __init__(self, stream: anyio.abc.ByteStream, stamped: StampedSocketStream) -> None:
        super().__init__(stream)
        self._stamped = stamped

    def arrived_at(self) -> float | None:
        return self._stamped.arrived_at

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        tls: AnyIOStream = await super().start_tls(ssl_context, server_hostname, timeout)
        return StampedStream(tls._stream, self._stamped)


class StampingBackend(AnyIOBackend):
    """httpcore's anyio backend, with TCP connections whose reads are kernel-stamped."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> Any:
        exc_map: dict[type[Exception], type[Exception]] = {TimeoutError: ConnectTimeout, OSError: ConnectError}
        with map_exceptions(exc_map):
            with anyio.fail_after(timeout):
                sock = await _connect(host, port, local_address)
        for option in socket_options or ():
            sock.setsockopt(*option)
        stamped = StampedSocketStream(sock)
        return StampedStream(stamped, stamped)


async def _connect(host: str, port: int, local_address: str | None) -> socket.socket:
    """A connected non-blocking TCP socket, each address tried in the resolver's order
    (as the standard library's create_connection does), with packet stamps switched on."""
    loop = asyncio.get_running_loop()
    addresses = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    last_error: OSError | None = None
    for family, kind, protocol, _name, address in addresses:
        sock = socket.socket(family, kind, protocol)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio's own sockets
            if SO_TIMESTAMPNS is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                except OSError:  # a kernel without it: reads are stamped when they return
                    pass
            if local_address:
                sock.bind((local_address, 0))
            await loop.sock_connect(sock, address)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
        except BaseException:
            sock.close()
            raise
    raise last_error or OSError(f"no address for {host}")


_stamping_kept_on: socket.socket | None = None


def keep_stamping_on() -> None:
    """Have the kernel stamp packets from now on, not only once a connection asks.

    Linux stamps received packets only while some socket wants stamps, and switches this
    on for the first such socket from a work queue, later: on a loaded machine the
    response's first packets could arrive before it ran, unstamped, and be stamped when
    read. One idle socket wanting stamps, held for the life of the process, keeps it on.
    Called as a process starts (the app, `llmwb run`, a reader process) and again by
    `stamp_reads`."""
    global _stamping_kept_on
    if _stamping_kept_on is not None or SO_TIMESTAMPNS is None:
        return
    try:
        keeper = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        keeper.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:  # no stamps here: reads are stamped when they return
        return
    _stamping_kept_on = keeper


def stamp_reads(client: Any) -> Any:
    """Make an httpx client's TCP connections kernel-stamped: every connection pool it
    holds (its transport, and any proxy mounts) gets the stamping backend. httpx takes no
    backend argument, so the pools' attribute is set; `tests/core/test_netstamp.py`
    fails if a library update moves it."""
    if not hasattr(socket.socket, "recvmsg"):  # Windows: httpcore's own streams, stamped on return
        return client
    keep_stamping_on()
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = StampingBackend()
    return client


def arrival_clock(response: Any, not_before: float | None = None) -> Any:
    """For an httpx response: a function giving the arrival of the bytes its last read
    returned (kernel-stamped when the connection is one of ours), else `clock`.

    `not_before`: the headers' stamp, for the body's reads: two kernel stamps, but each
    converted to the core's clock on its own, so a frame in the headers' packet could
    otherwise come out a few µs before them."""
    stream = response.extensions.get("network_stream")
    arrived_at = getattr(stream, "arrived_at", None)
    if arrived_at is None:
        return clock
    floor = not_before if not_before is not None else float("-inf")

    def arrived() -> float:
        at = arrived_at() or clock()
        return at if at > floor else floor

    return arrived
