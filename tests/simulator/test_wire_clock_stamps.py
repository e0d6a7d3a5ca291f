"""The simulator's write times, one connection at a time: each write on loopback is timed
when its bytes reached the client's kernel (the client's own receive stamp says when),
after bytes the transport wrote too; a stamp the kernel sends late is collected, not left
flagging the socket; connections that are not loopback TCP get no clock."""

from __future__ import annotations

import asyncio
import os
import select
import socket
import struct
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from core.kernelstamps import SO_TIMESTAMPNS
from core.simulator.wireclock import WireClock

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or SO_TIMESTAMPNS is None, reason="kernel stamps are Linux's (asm-generic numbering)"
)

TOLERANCE_S = 0.001  # both times are the kernel's; only the clock conversion differs


@dataclass
class Connection:
    clock: WireClock
    writer: asyncio.StreamWriter
    client: socket.socket

    def arrivals(self, size: int) -> list[tuple[float, bytes]]:
        """Read `size` bytes: each read's kernel arrival stamp on perf_counter's clock."""
        reads: list[tuple[float, bytes]] = []
        got = 0
        while got < size:
            data, ancillary, _flags, _address = self.client.recvmsg(1 << 20, socket.CMSG_SPACE(16))
            assert data, "the connection closed early"
            perf, wall = time.perf_counter(), time.time()
            seconds, nanoseconds = struct.unpack("ll", ancillary[0][2][:16])
            reads.append((perf - (wall - (seconds + nanoseconds / 1e9)), data))
            got += len(data)
        return reads


@asynccontextmanager
async def loopback(host: str = "127.0.0.1") -> AsyncIterator[Connection]:
    accepted: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

    async def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accepted.put(writer)

    server = await asyncio.start_server(on_connect, host, 0)
    client = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    client.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(client, server.sockets[0].getsockname()[:2])
        client.setblocking(True)
        client.settimeout(10)
        writer = await asyncio.wait_for(accepted.get(), 10)
        clock = WireClock.for_transport(writer.transport)
        assert clock is not None, "a loopback TCP connection gets a clock"
        try:
            yield Connection(clock, writer, client)
        finally:
            clock.close()
            writer.close()
    finally:
        client.close()
        server.close()
        await server.wait_closed()


async def test_a_write_is_timed_when_it_reached_the_client() -> None:
    async with loopback() as connection:
        before = time.perf_counter()
        assert connection.clock.send(b"data: one\n\n") == 11
        sent_at = connection.clock.sent_at()
        after = time.perf_counter()
        ((arrived, data),) = connection.arrivals(11)
        assert data == b"data: one\n\n"
        assert sent_at is not None and before <= sent_at <= after
        assert abs(sent_at - arrived) < TOLERANCE_S


async def test_successive_writes_each_get_their_own_time_after_transport_writes() -> None:
    async with loopback() as connection:
        clock, writer = connection.clock, connection.writer
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n")  # the head, written by the transport
        clock.counted(19)
        assert connection.arrivals(19)[0][1] == b"HTTP/1.1 200 OK\r\n\r\n"
        times = []
        for word in (b"one", b"two", b"three"):
            gap_until = time.perf_counter() + 0.005  # a paced gap between frames
            while time.perf_counter() < gap_until:
                pass
            assert clock.send(word) == len(word)
            times.append(clock.sent_at())
            ((arrived, data),) = connection.arrivals(len(word))
            assert data == word
            assert times[-1] is not None and abs(times[-1] - arrived) < TOLERANCE_S, word
        assert times[1] - times[0] >= 0.005 and times[2] - times[1] >= 0.005


async def test_no_time_is_claimed_twice_or_without_a_write() -> None:
    async with loopback() as connection:
        assert connection.clock.sent_at() is None  # nothing written yet
        connection.clock.send(b"x")
        assert connection.clock.sent_at() is not None
        assert connection.clock.sent_at() is None  # that stamp was this write's, once


async def test_the_ipv6_loopback_gets_a_clock_too() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no ::1 here")
    async with loopback("::1") as connection:
        connection.clock.send(b"hi")
        sent_at = connection.clock.sent_at()
        ((arrived, _data),) = connection.arrivals(2)
        assert sent_at is not None and abs(sent_at - arrived) < TOLERANCE_S


async def test_a_unix_socket_connection_gets_no_clock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    accepted: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

    async def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accepted.put(writer)

    server = await asyncio.start_unix_server(on_connect, str(tmp_path / "s"))
    _reader, client = await asyncio.open_unix_connection(str(tmp_path / "s"))
    writer = await asyncio.wait_for(accepted.get(), 10)
    try:
        assert WireClock.for_transport(writer.transport) is None
    finally:
        client.close()
        writer.close()
        server.close()
        await server.wait_closed()


def has_news(sock: socket.socket) -> bool:
    """Whether the socket is flagged to the event loop (an unread stamp sets POLLERR)."""
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return any(events & select.POLLERR for _fd, events in poller.poll(0))


async def test_a_stamp_the_kernel_sends_late_is_collected_not_left_flagging_the_socket() -> None:
    async with loopback() as connection:
        clock = connection.clock
        connection.client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        connection.writer.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        sent = 0
        block = b"x" * 4096
        while (taken := clock.send(block)) == len(block):  # until the client's window is full
            sent += taken
            clock.sent_at()  # stamped, or owed while its bytes wait
        sent += taken
        assert clock.sent_at() is None  # the last write's bytes wait in the queue: no stamp yet
        assert clock.send(b"more") == 0  # a full socket takes nothing: the caller keeps every byte
        connection.arrivals(sent)  # the client reads; the kernel sends the rest, and the stamp
        deadline = time.monotonic() + 5
        while has_news(connection.writer.transport.get_extra_info("socket")):
            assert time.monotonic() < deadline, "the late stamp was never collected"
            await asyncio.sleep(0.005)  # the event loop runs the clock's collection


async def test_a_lone_write_queued_behind_held_bytes_has_its_stamp_collected_when_the_client_reads_late() -> None:
    async with loopback() as connection:
        clock, client = connection.clock, connection.client
        transport_socket = connection.writer.transport.get_extra_info("socket")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        transport_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        held = 0
        with socket.socket(fileno=os.dup(transport_socket.fileno())) as raw:
            while True:  # bytes written another way, until the socket holds all it can
                try:
                    taken = raw.send(b"x" * 4096)
                except BlockingIOError:
                    break
                held += taken
                clock.counted(taken)
        # The client takes a little: room for one small write, queued behind the rest.
        client_read = sum(len(data) for _at, data in connection.arrivals(1))
        deadline = time.monotonic() + 5
        while (taken := clock.send(b"frame")) == 0:
            assert time.monotonic() < deadline, "the socket never took the frame"
            await asyncio.sleep(0.001)  # the kernel frees room as the client's read is acked: no event says when
        assert taken == 5 and clock.sent_at() is None  # behind held bytes: no stamp yet
        await asyncio.sleep(0.02)  # the client reads late: the clock keeps asking meanwhile
        connection.arrivals(held + 5 - 1 - client_read)
        while has_news(transport_socket):
            assert time.monotonic() < deadline, "the late stamp was never collected"
            await asyncio.sleep(0.005)
