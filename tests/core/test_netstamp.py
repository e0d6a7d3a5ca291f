"""Frames are stamped when their bytes reached the machine, not when the process got
round to reading them: the reading loop is blocked (as a descheduled reader, or a busy
UI, blocks it) while the first content arrives, and its stamp is still the server's
write time — over plain HTTP, over TLS, and on the clients the SDK adapters use.

Truth: the server's own perf_counter at each write (one clock for the whole machine)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from core.metrics import clock
from core.providers.base import SendLog
from core.providers.http import load_sdk, timed_http_client
from core.providers.netstamp import SO_TIMESTAMPNS, StampedStream, arrival_clock, arrival_of, stamp_reads
from core.providers.sse import iter_sse

from runkit import scripted
from test_io_thread import server_record, threaded_simulator

FIRST_MS, GAP_MS = 200, 300
BLOCKED_S = 0.35  # past the first content (200 ms), short of the second (500 ms)
# Read-time stamps would be off by BLOCKED_S − FIRST_MS = 150 ms; kernel stamps by microseconds.
TOLERANCE_MS = 50.0
TLS_DIR = Path(__file__).parent / "tls"  # a self-signed test certificate for 127.0.0.1 only
BODY = {"model": "spaced", "stream": True, "messages": [{"role": "user", "content": "go"}]}


def _is_content(frame) -> bool:  # type: ignore[no-untyped-def]
    """A frame that carries text (not the role chunk, not [DONE])."""
    if not frame.data.startswith("{"):
        return False
    choices = json.loads(frame.data).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


def _content_stamps(frames: list) -> list[float]:
    return [frame.at for frame in frames if _is_content(frame)]


async def _read_blocked(client: httpx2.AsyncClient, url: str) -> tuple[list, float]:
    """The frames, read by a loop blocked through the first content, and when the first
    content was read (clock())."""
    async with client.stream("POST", url, json=BODY) as response:
        time.sleep(BLOCKED_S)  # the reading loop is blocked: IS the thing under test
        assert isinstance(response.extensions["network_stream"], StampedStream)
        frames, first_read_at = [], None
        async for frame in iter_sse(response.aiter_bytes(), arrived=arrival_clock(response)):
            frames.append(frame)
            if first_read_at is None and _is_content(frame):
                first_read_at = clock()
        assert first_read_at is not None
        return frames, first_read_at


async def _blocked_exchange(exchange):  # type: ignore[no-untyped-def]
    """`exchange()` → (frames, first content read at, the server's content write times),
    tried again while its reader was starved past the second content's write. The kernel
    merges packets queued unread into one and keeps the newest stamp (docs/design-notes.md),
    so such a run says nothing about stamping; on a loaded machine it happens now and then."""
    for _attempt in range(3):
        frames, first_read_at, truth = await exchange()
        if len(truth) < 2 or first_read_at < truth[1]:
            return frames, truth
    pytest.fail("in 3 tries the reader never read the first content before the second was sent")


def _spaced(server) -> None:  # type: ignore[no-untyped-def]
    timing = {"first_token_ms": FIRST_MS, "gap_ms": GAP_MS}
    server.add_scenario(scripted("spaced", text="one two three", chunking={"mode": "word"}, timing=timing))


async def test_a_blocked_reader_still_stamps_the_first_content_when_it_arrived() -> None:
    async def exchange():  # type: ignore[no-untyped-def]
        with threaded_simulator() as (server, loop):
            _spaced(server)
            async with stamp_reads(httpx2.AsyncClient(trust_env=False)) as client:
                frames, first_read_at = await _read_blocked(client, server.root_url + "/v1/chat/completions")
            return frames, first_read_at, server_record(server, loop).content_times

    frames, truth = await _blocked_exchange(exchange)
    stamps = _content_stamps(frames)
    assert len(stamps) == len(truth) == 3
    assert [abs(s - t) * 1000.0 < TOLERANCE_MS for s, t in zip(stamps, truth)] == [True] * 3, (stamps, truth)


async def test_the_clients_the_adapters_use_are_stamped() -> None:
    openai = await load_sdk("openai")
    with threaded_simulator() as (server, loop):
        _spaced(server)
        for sdk in (None, openai):

            async def exchange():  # type: ignore[no-untyped-def]
                async with timed_http_client(sdk, httpx2.Timeout(30.0), SendLog()) as client:
                    frames, first_read_at = await _read_blocked(client, server.root_url + "/v1/chat/completions")
                return frames, first_read_at, server_record(server, loop).content_times

            frames, truth = await _blocked_exchange(exchange)
            first = _content_stamps(frames)[0]
            assert abs(first - truth[0]) * 1000.0 < TOLERANCE_MS, (sdk, first, truth)


@contextmanager
def _tls_server() -> Iterator[tuple[str, list[float]]]:
    """An HTTPS server on 127.0.0.1 that streams three SSE frames FIRST_MS, then GAP_MS
    apart, and notes when it wrote each (perf_counter)."""
    written: list[float] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS_DIR / "cert.pem", TLS_DIR / "key.pem")
    loop = asyncio.new_event_loop()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the request's head; its small JSON body is not needed
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        await writer.drain()
        for index, word in enumerate(("one", "two", "three")):
            await asyncio.sleep((FIRST_MS if index == 0 else GAP_MS) / 1000.0)
            frame = f'data: {{"choices":[{{"delta":{{"content":"{word}"}}}}]}}\n\n'.encode()
            writer.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            await writer.drain()
            written.append(clock())
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    thread = threading.Thread(target=loop.run_forever, name="test-tls-server", daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(asyncio.start_server(answer, "127.0.0.1", 0, ssl=context), loop).result(10)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}/v1/chat/completions", written
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def test_over_tls_the_stamp_is_the_arrival_of_the_packet_that_completed_the_record() -> None:
    verify = ssl.create_default_context(cafile=str(TLS_DIR / "cert.pem"))
    async def exchange():  # type: ignore[no-untyped-def]
        with _tls_server() as (url, written):
            async with stamp_reads(httpx2.AsyncClient(trust_env=False, verify=verify)) as client:
                frames, first_read_at = await _read_blocked(client, url)
        return frames, first_read_at, written

    frames, written = await _blocked_exchange(exchange)
    stamps = _content_stamps(frames)
    assert len(stamps) == len(written) == 3
    assert [abs(s - t) * 1000.0 < TOLERANCE_MS for s, t in zip(stamps, written)] == [True] * 3, (stamps, written)


def test_without_a_trustworthy_kernel_stamp_a_read_is_stamped_when_it_returns() -> None:
    """Where the kernel gives no stamp (not Linux), or one the wall clock cannot place
    (stepped since), the read's own time is used: never a stamp in the future."""
    read_at = clock()
    assert arrival_of([], read_at) == read_at
    from_1970 = [(socket.SOL_SOCKET, SO_TIMESTAMPNS, struct.pack("ll", 0, 0))]
    assert arrival_of(from_1970, read_at) == read_at
    ahead = time.time() + 5.0  # a stamp from the future
    from_the_future = [(socket.SOL_SOCKET, SO_TIMESTAMPNS, struct.pack("ll", int(ahead), 0))]
    assert arrival_of(from_the_future, read_at) == read_at
    now = time.time() - 0.25
    a_quarter_second_ago = [(socket.SOL_SOCKET, SO_TIMESTAMPNS, struct.pack("ll", int(now), int(now % 1 * 1e9)))]
    assert abs(arrival_of(a_quarter_second_ago, read_at) - (read_at - 0.25)) < 0.05
