"""The simulator's writes when its socket is full (a client that stops reading) and its
write times when it notes them late (core/simulator/http.py `Connection.write`).

A flat-out stream to a slow client fills the kernel's buffers; the rest waits in the
transport, and every byte must still arrive, in order. Each write's time is the
kernel's transmit stamp where it gives one: the simulator's log and every timing test
take it as the truth, so a time noted when the process got round to it would be wrong.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from core.simulator import http as sim_http
from core.simulator.http import Connection

# More than the kernel's send and receive buffers hold on loopback (a few MB at most):
# the client reads nothing until all is written, so most of this waits in the transport.
PIECES = 256
PIECE_BYTES = 64 * 1024
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
    pieces = [(b"%06d" % index) * (PIECE_BYTES // 6) for index in range(PIECES)]
    written_at = []
    for piece in pieces:
        assert pair.conn.write(piece) is True  # the client is there: not taken for a hang-up
        written_at.append(pair.conn.written_at)
    # The case under test: the kernel took its fill and the transport holds the rest.
    assert pair.conn.transport.get_write_buffer_size() > 0
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
    """Write more than the kernel holds while the client reads nothing; the bytes written."""
    for _ in range(PIECES):
        conn.write(b"x" * PIECE_BYTES)
    assert conn.transport.get_write_buffer_size() > 0  # the case under test: the transport holds the rest
    return PIECES * PIECE_BYTES


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
