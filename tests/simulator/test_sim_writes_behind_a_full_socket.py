"""The simulator's writes when its socket is full (a client that stops reading) and its
write times when it notes them late (core/simulator/http.py `Connection.write`).

A flat-out stream to a slow client fills the kernel's buffers; the rest waits in the
transport, and every byte must still arrive, in order. Each write's time is the
kernel's transmit stamp where it gives one: the simulator's log and every timing test
take it as the truth, so a time noted when the process got round to it would be wrong.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from core.simulator import http as sim_http
from core.simulator.http import Connection

KERNEL_BUFFER = 64 * 1024
PIECE_BYTES = 64 * 1024
MOST_PIECES = 1024  # a bound on the filling: 64 MB
# A process that notes its write this late is not just busy: it is wrong.
NOTED_LATE_S = 10.0


class Pair:
    def __init__(self, conn: Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.conn, self.client_reader, self.client_writer = conn, reader, writer


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.get_running_loop().create_future()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result((reader, writer))

    listener = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    client_reader, client_writer = await asyncio.open_connection("127.0.0.1", port)
    server_reader, server_writer = await asyncio.wait_for(accepted, 10)
    # Small kernel buffers on both ends (fixed sizes also stop their growth), so that a few
    # MB fill them on any machine's settings.
    client_writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, KERNEL_BUFFER)
    server_writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_BUFFER)
    conn = Connection(server_reader, server_writer)
    yield Pair(conn, client_reader, client_writer)
    conn.close_now()
    client_writer.close()
    listener.close()
    await listener.wait_closed()


def noted_late(real_perf_counter=time.perf_counter) -> SimpleNamespace:
    """The `time` module as a process that loses its core right after every write sees it."""
    return SimpleNamespace(perf_counter=lambda: real_perf_counter() + NOTED_LATE_S)


async def test_bytes_written_behind_a_full_socket_arrive_whole_and_in_order(pair: Pair) -> None:
    pieces: list[bytes] = []
    written_at: list[float] = []

    def write_the_next_piece() -> None:
        pieces.append((b"%06d" % len(pieces)) * (PIECE_BYTES // 6))
        assert pair.conn.write(pieces[-1]) is True  # the client is there: not taken for a hang-up
        written_at.append(pair.conn.written_at)

    while pair.conn.transport.get_write_buffer_size() == 0:
        assert len(pieces) < MOST_PIECES, "the kernel took everything: nothing waited in the transport"
        write_the_next_piece()
    for _ in range(8):  # and more behind the bytes already waiting
        write_the_next_piece()
    received = await asyncio.wait_for(pair.client_reader.readexactly(sum(map(len, pieces))), 60)
    assert received == b"".join(pieces)
    assert all(isinstance(at, float) for at in written_at) and written_at == sorted(written_at)


@pytest.mark.skipif(sys.platform != "linux", reason="kernel transmit stamps are Linux's")
async def test_a_write_noted_late_keeps_the_time_its_bytes_left(pair: Pair, monkeypatch) -> None:
    before = time.perf_counter()
    monkeypatch.setattr(sim_http, "time", noted_late())
    assert pair.conn.write(b"data: first\n\n")
    assert before <= pair.conn.written_at < before + NOTED_LATE_S / 2
    assert await asyncio.wait_for(pair.client_reader.readexactly(13), 10) == b"data: first\n\n"


def fill_past_the_kernel(conn: Connection) -> int:
    """Write until the kernel holds no more and the transport keeps some (the client reads
    nothing meanwhile), then as much again behind it; the bytes written."""
    written = 0
    while conn.transport.get_write_buffer_size() == 0:
        assert written < MOST_PIECES * PIECE_BYTES, "the kernel took everything: nothing waited in the transport"
        conn.write(b"x" * PIECE_BYTES)
        written += PIECE_BYTES
    for _ in range(8):
        conn.write(b"x" * PIECE_BYTES)
    return written + 8 * PIECE_BYTES


async def test_a_cut_right_after_draining_loses_none_of_the_bytes_before_it(pair: Pair) -> None:
    # What a drop fault does after its N frames: wait until they left, then cut the
    # connection. A slow client must still get every one of them before the cut.
    total = fill_past_the_kernel(pair.conn)
    reading = asyncio.ensure_future(pair.client_reader.readexactly(total))
    assert await asyncio.wait_for(pair.conn.drain(0), 60)
    pair.conn.transport.abort()
    assert len(await asyncio.wait_for(reading, 60)) == total


@pytest.mark.skipif(sys.platform != "linux", reason="kernel transmit stamps are Linux's")
async def test_after_a_full_socket_drains_writes_are_timed_by_the_kernel_again(pair: Pair, monkeypatch) -> None:
    # The stamps are keyed by byte offset: the bytes that went through the transport
    # while the socket was full must be counted, or every later stamp is missed.
    total = fill_past_the_kernel(pair.conn)
    reading = asyncio.ensure_future(pair.client_reader.readexactly(total))
    assert await asyncio.wait_for(pair.conn.drain(0), 60)
    await asyncio.wait_for(reading, 60)
    before = time.perf_counter()
    monkeypatch.setattr(sim_http, "time", noted_late())
    assert pair.conn.write(b"data: after\n\n")
    assert before <= pair.conn.written_at < before + NOTED_LATE_S / 2


async def test_closing_a_connection_ends_it_for_the_client(pair: Pair) -> None:
    # On loopback the connection's kernel stamps are read through a second handle on its
    # socket: closing must close that one too, or the client waits on a connection that
    # the simulator has finished with.
    pair.conn.write(b"data: last\n\n")
    pair.conn.close_now()
    assert await asyncio.wait_for(pair.client_reader.read(), 10) == b"data: last\n\n"  # read() waits for the end
