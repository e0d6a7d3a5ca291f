"""`llmwb simulate` as a network service: hostile clients get a clear 4xx or are
dropped, slow ones time out, and a long-lived server keeps bounded state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest

from core.simulator import SimulatorServer, scenario_from_dict
from core.simulator import http as sim_http
from tui.cli import simulate as simulate_cli


@pytest.fixture
async def strict_server() -> AsyncIterator[SimulatorServer]:
    server = SimulatorServer(idle_timeout=0.3, request_timeout=0.3, max_body_bytes=10_000, max_exchanges=3, record_frames=False)
    async with server:
        yield server


async def connect(server: SimulatorServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def answer_to(server: SimulatorServer, data: bytes) -> tuple[int, bytes]:
    """The status and body the server answers `data` with; it must close afterwards."""
    reader, writer = await connect(server)
    writer.write(data)
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(), 10)  # read() to EOF: the server closed
    writer.close()
    status = int(reply.split(b" ", 2)[1])
    return status, reply.split(b"\r\n\r\n", 1)[1]


def post(body: bytes, **headers: str) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    head = f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


async def test_an_idle_connection_is_dropped(strict_server):
    reader, writer = await connect(strict_server)
    assert await asyncio.wait_for(reader.read(), 10) == b""  # closed without a word
    writer.close()


async def test_a_request_head_sent_too_slowly_gets_408(strict_server):
    reader, writer = await connect(strict_server)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nx-slow: ")
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert reply.startswith(b"HTTP/1.1 408 ") and b"not received within 0.3 s" in reply


async def test_a_body_that_never_comes_gets_408(strict_server):
    reader, writer = await connect(strict_server)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 100\r\n\r\n{")
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert reply.startswith(b"HTTP/1.1 408 ")


async def test_an_oversize_body_gets_413_before_it_is_read(strict_server):
    status, body = await answer_to(strict_server, b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 20000\r\n\r\n")
    assert status == 413 and orjson.loads(body)["error"]["message"] == "request body over 10000 bytes"


@pytest.mark.parametrize(
    "garbage, status",
    [
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n", 400),  # a TLS hello
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: +5\r\n\r\nhello", 400),
        (b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 1_0\r\n\r\n", 400),
        (b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: " + b"9" * 400 + b"\r\n\r\n", 413),
        # more digits than int() takes from a string (4,300): still a number too big, not a crash
        (b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: " + b"9" * 5_000 + b"\r\n\r\n", 413),
        (b"GET / HTTP/1.1\r\nx: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    ],
)
async def test_garbage_gets_a_clear_4xx(strict_server, garbage, status):
    got, body = await answer_to(strict_server, garbage)
    assert got == status and orjson.loads(body)["error"]["message"]


async def test_a_body_of_exactly_the_limit_is_read(strict_server):
    # 10,000 bytes with a 10,000-byte limit: read and judged (not JSON), not refused as too big
    status, body = await answer_to(strict_server, post(b"x" * 10_000, connection="close"))
    assert status == 400 and orjson.loads(body)["error"]["message"] == "The request body is not a JSON object"


async def test_not_json_gets_400_naming_the_problem(strict_server):
    status, body = await answer_to(strict_server, post(b"{not json", connection="close"))
    assert status == 400 and orjson.loads(body)["error"]["message"] == "The request body is not a JSON object"


async def test_a_long_lived_server_keeps_only_the_last_exchanges_without_frames(strict_server):
    # Many chunks, no delays: what is kept is under test here, not the pace.
    words = " ".join(f"word{i}" for i in range(200))
    strict_server.add_scenario(scenario_from_dict({"name": "many-chunks", "api": "openai", "text": words,
                                                   "chunking": {"mode": "word"}, "timing": {"first_token_ms": 0, "gap_ms": 0}}))  # fmt: skip
    for _ in range(5):
        body = orjson.dumps({"model": "many-chunks", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
        await answer_to(strict_server, post(body, connection="close"))
    assert len(strict_server.exchanges) == 3
    assert all(e.frames == [] and e.content_times == [] and e.content_frames > 0 for e in strict_server.exchanges)


def test_simulate_serves_with_bounded_defaults():
    """`llmwb simulate`'s --help defaults are the server's own (kept apart to keep the CLI's start fast)."""
    assert simulate_cli.IDLE_TIMEOUT_S == sim_http.IDLE_TIMEOUT_S
    assert simulate_cli.REQUEST_TIMEOUT_S == sim_http.REQUEST_TIMEOUT_S
    assert simulate_cli.MAX_BODY_BYTES == sim_http.MAX_BODY_BYTES
    parser = __import__("argparse").ArgumentParser()
    simulate_cli.register(parser.add_subparsers())
    args = parser.parse_args(["simulate"])
    assert (args.keep, args.idle_timeout, args.request_timeout) == (100, 60.0, 10.0)
    with pytest.raises(SystemExit):
        parser.parse_args(["simulate", "--keep", "0"])
