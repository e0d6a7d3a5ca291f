"""The stamped TCP stream under the HTTP clients (core.providers.netstamp), without timing:
which machines get kernel stamps, how a stamp becomes the core's clock and when it is not
trusted, the stream's reads, ends and closes, connecting (and failing to) on 127.0.0.1,
and which clients and responses get the stamping."""

from __future__ import annotations

import asyncio
import importlib
import socket
import struct
import types

import anyio
import httpx2
import pytest
from httpcore2._exceptions import ConnectError

from core import kernelstamps
from core.metrics import clock
from core.providers import netstamp
from core.providers.netstamp import (
    SO_TIMESTAMPNS,
    StampedSocketStream,
    StampedStream,
    StampingBackend,
    arrival_clock,
    arrival_of,
    stamp_reads,
)


@pytest.mark.parametrize("platform, machine, generic", [
    ("linux", "x86_64", True), ("linux", "aarch64", True), ("linux", "armv7l", True), ("linux", "riscv64", True),
    ("linux", "ppc64le", True), ("linux", "s390x", True), ("linux", "i686", True),
    ("linux", "i386", True), ("linux", "arm64", True), ("linux", "ppc64", True),
    ("linux", "alpha", False), ("linux", "sparc64", False), ("linux", "parisc", False),
    ("darwin", "x86_64", False), ("win32", "AMD64", False),
])  # fmt: skip
def test_kernel_stamps_are_asked_for_only_where_linux_numbers_them_35_and_37(monkeypatch, platform, machine, generic):
    """SO_TIMESTAMPNS (received packets) is 35 and SO_TIMESTAMPING (the simulator's sent
    packets) 37 in the asm-generic numbering; elsewhere the numbers mean other options."""
    monkeypatch.setattr(kernelstamps.sys, "platform", platform)
    monkeypatch.setattr(kernelstamps.os, "uname", lambda: types.SimpleNamespace(machine=machine))
    reloaded = importlib.reload(kernelstamps)
    try:
        assert (reloaded.SO_TIMESTAMPNS, reloaded.SO_TIMESTAMPING) == ((35, 37) if generic else (None, None))
    finally:
        monkeypatch.undo()
        importlib.reload(kernelstamps)


def _stamp(at: float, level: int = socket.SOL_SOCKET, kind: int | None = SO_TIMESTAMPNS) -> list[tuple[int, int, bytes]]:
    seconds = int(at)
    return [(level, kind if kind is not None else 35, struct.pack("ll", seconds, round((at - seconds) * 1e9)))]


def test_a_kernel_stamp_becomes_the_core_s_clock_by_its_age() -> None:
    wall = 1_800_000_000.5
    assert arrival_of(_stamp(wall - 0.25), 100.0, wall) == pytest.approx(99.75, abs=1e-6)
    assert arrival_of(_stamp(wall), 100.0, wall) == pytest.approx(100.0, abs=1e-6)  # age 0: the read itself
    assert arrival_of(_stamp(wall - 29.5), 100.0, wall) == pytest.approx(70.5, abs=1e-6)
    assert arrival_of(_stamp(wall - 30.0), 100.0, wall) == pytest.approx(70.0, abs=1e-6)  # the oldest trusted


@pytest.mark.parametrize("ancillary", [
    [],
    _stamp(1_800_000_000.5 - 30.5),  # older than the wall clock can be trusted for
    _stamp(1_800_000_000.5 + 0.001),  # from the future
    _stamp(1_800_000_000.5 - 0.25, level=socket.IPPROTO_TCP),  # another level's message
    _stamp(1_800_000_000.5 - 0.25, kind=36),  # another kind
    [(socket.SOL_SOCKET, 35, b"\x00" * 15)],  # too short for a timespec
])  # fmt: skip
def test_without_a_stamp_to_trust_a_read_is_its_own_arrival(ancillary) -> None:
    assert arrival_of(ancillary, 100.0, 1_800_000_000.5) == 100.0


def test_a_stamp_after_a_short_one_is_still_found_and_the_wall_clock_defaults_to_now() -> None:
    good = _stamp(__import__("time").time() - 1.0)
    at = arrival_of([(socket.SOL_SOCKET, 35, b"\x00")] + good, 100.0)
    assert 98.9 < at < 99.1


def test_now_is_one_moment_on_both_clocks() -> None:
    before = clock()
    core, wall = netstamp._now()
    after = clock()
    assert before <= core <= after and abs(wall - __import__("time").time()) < 5


async def _pair() -> tuple[StampedSocketStream, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    return StampedSocketStream(ours), theirs


async def test_a_read_returns_the_bytes_and_stamps_when_they_arrived() -> None:
    stream, peer = await _pair()
    assert stream.arrived_at is None and stream._raw_socket is stream._sock
    peer.sendall(b"hello")
    before = clock()
    assert await stream.receive() == b"hello"
    assert stream.arrived_at is not None and before <= stream.arrived_at <= clock()
    first = stream.arrived_at
    peer.sendall(b"0123456789")
    assert await stream.receive(4) == b"0123" and await stream.receive(100) == b"456789"
    assert stream.arrived_at >= first
    await stream.aclose()
    peer.close()


async def test_a_stamp_never_goes_back(monkeypatch) -> None:
    stream, peer = await _pair()
    stamps = iter([5.0, 4.0, 6.0])
    monkeypatch.setattr(netstamp, "arrival_of", lambda ancillary, read_at, wall_at: next(stamps))
    for expected in (5.0, 5.0, 6.0):
        peer.sendall(b"x")
        await stream.receive()
        assert stream.arrived_at == expected
    await stream.aclose()
    peer.close()


async def test_a_read_waits_for_bytes_and_the_end_of_the_stream_is_told() -> None:
    stream, peer = await _pair()
    waiting = asyncio.ensure_future(stream.receive())
    await asyncio.sleep(0)  # let the read find the socket empty and wait
    assert not waiting.done()
    peer.sendall(b"late")
    assert await asyncio.wait_for(waiting, 10) == b"late"
    peer.close()
    with pytest.raises(anyio.EndOfStream):
        await asyncio.wait_for(stream.receive(), 10)
    await stream.aclose()


async def test_a_close_ends_a_waiting_read_and_every_later_call() -> None:
    stream, peer = await _pair()
    waiting = asyncio.ensure_future(stream.receive())
    await asyncio.sleep(0)
    await stream.aclose()
    with pytest.raises(anyio.ClosedResourceError):
        await asyncio.wait_for(waiting, 10)
    with pytest.raises(anyio.ClosedResourceError):
        await stream.receive()
    with pytest.raises(anyio.ClosedResourceError):
        await stream.send(b"x")
    await stream.aclose()  # a second close does nothing
    assert stream._sock.fileno() == -1
    peer.close()


async def test_sends_reach_the_peer_and_a_send_eof_ends_its_reads() -> None:
    stream, peer = await _pair()
    await stream.send(b"request")
    assert peer.recv(100) == b"request"
    await stream.send_eof()
    assert peer.recv(100) == b""  # the peer sees the end of what we send
    peer.sendall(b"still answering")
    assert await stream.receive() == b"still answering"
    await stream.aclose()
    peer.close()


async def test_a_broken_socket_is_a_broken_resource() -> None:
    stream, peer = await _pair()
    peer.close()
    stream._sock.shutdown(socket.SHUT_RDWR)
    with pytest.raises(anyio.BrokenResourceError):
        for _ in range(100):
            await stream.send(b"x" * 65536)
    await stream.send_eof()  # on a socket already shut: nothing to do, no error
    await stream.aclose()


async def test_a_read_error_is_a_broken_resource(monkeypatch) -> None:
    stream, peer = await _pair()

    class Reset:
        def recvmsg(self, *args):  # type: ignore[no-untyped-def]
            raise ConnectionResetError(104, "Connection reset by peer")

    real = stream._sock
    stream._sock = Reset()  # type: ignore[assignment]
    with pytest.raises(anyio.BrokenResourceError):
        await stream.receive()
    stream._sock = real
    await stream.aclose()
    peer.close()


async def _listener() -> tuple[asyncio.base_events.Server, int, list[bytes]]:
    got: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.read(100))
        writer.write(b"pong")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], got


async def test_the_backend_connects_a_stamped_stream_with_the_options_asked_for() -> None:
    server, port, got = await _listener()
    async with server:
        stream = await StampingBackend().connect_tcp(
            "127.0.0.1", port, timeout=10, local_address="127.0.0.1",
            socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)],
        )  # fmt: skip
        assert isinstance(stream, StampedStream) and stream.arrived_at() is None
        sock = stream._stamped._sock
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert sock.getsockname()[0] == "127.0.0.1" and not sock.getblocking()
        if SO_TIMESTAMPNS is not None:
            assert sock.getsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS) == 1
        await stream.write(b"ping")
        assert await stream.read(100, timeout=10) == b"pong"
        assert stream.arrived_at() is not None
        await stream.aclose()
    assert got == [b"ping"]


async def test_a_refused_connection_is_httpcore_s_connect_error() -> None:
    server, port, _ = await _listener()
    server.close()
    await server.wait_closed()
    with pytest.raises(ConnectError):
        await StampingBackend().connect_tcp("127.0.0.1", port, timeout=10)
    with pytest.raises(ConnectionRefusedError):
        await netstamp._connect("127.0.0.1", port, None)


def test_every_pool_of_a_client_gets_the_stamping_backend() -> None:
    proxied = httpx2.AsyncClient(trust_env=False, mounts={"http://127.0.0.2": httpx2.AsyncHTTPTransport()})
    assert stamp_reads(proxied) is proxied
    pools = [proxied._transport._pool, *(t._pool for t in proxied._mounts.values())]  # type: ignore[attr-defined]
    assert len(pools) == 2 and all(isinstance(p._network_backend, StampingBackend) for p in pools)


def test_a_client_without_pools_is_left_as_it_is() -> None:
    odd = types.SimpleNamespace(_transport=types.SimpleNamespace(), _mounts={})
    assert stamp_reads(odd) is odd


def _response(stream: object) -> object:
    return types.SimpleNamespace(extensions={"network_stream": stream} if stream is not None else {})


def test_a_response_s_clock_is_its_stream_s_stamps_never_before_the_headers() -> None:
    stamps = iter([10.0, None, 12.0])
    stream = types.SimpleNamespace(arrived_at=lambda: next(stamps))
    arrived = arrival_clock(_response(stream), not_before=11.0)
    assert arrived() == 11.0  # a body stamp a few µs before the headers' is the headers'
    between = arrived()  # no stamp yet: now, on the core's clock
    assert 11.0 <= between <= max(clock(), 11.0)
    assert arrived() == 12.0
    unfloored = arrival_clock(_response(types.SimpleNamespace(arrived_at=lambda: 3.0)))
    assert unfloored() == 3.0


def test_a_response_without_a_stamped_stream_is_read_on_the_core_s_clock() -> None:
    assert arrival_clock(_response(None)) is clock
    assert arrival_clock(_response(object())) is clock


def test_one_socket_keeps_the_kernel_stamping_for_the_life_of_the_process(monkeypatch) -> None:
    monkeypatch.setattr(netstamp, "_stamping_kept_on", None)
    stamp_reads(httpx2.AsyncClient(trust_env=False))
    keeper = netstamp._stamping_kept_on
    if SO_TIMESTAMPNS is None:
        assert keeper is None
        return
    assert keeper is not None and keeper.getsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS) == 1
    netstamp.keep_stamping_on()
    stamp_reads(httpx2.AsyncClient(trust_env=False))
    assert netstamp._stamping_kept_on is keeper  # one, not one per client
    keeper.close()


def test_where_the_kernel_has_no_stamps_no_socket_is_kept(monkeypatch) -> None:
    monkeypatch.setattr(netstamp, "_stamping_kept_on", None)
    monkeypatch.setattr(netstamp, "SO_TIMESTAMPNS", None)
    netstamp.keep_stamping_on()
    assert netstamp._stamping_kept_on is None
    monkeypatch.setattr(netstamp, "SO_TIMESTAMPNS", 35)

    def refused(*args: object) -> None:
        raise OSError(92, "Protocol not available")

    monkeypatch.setattr(netstamp.socket.socket, "setsockopt", refused)
    netstamp.keep_stamping_on()
    assert netstamp._stamping_kept_on is None
