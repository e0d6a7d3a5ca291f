"""What a raw client (curl, a proxy, a hand-written script) sees of the simulator's HTTP:
the status line's reason phrase, a request head that arrives in small pieces, header names
in any case and values with padding, and the message that says why a request was refused."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from core.simulator import SimulatorServer

from .helpers import add, finished
from .test_sim_http import exchange_raw, request, split_responses


@pytest.mark.parametrize("status, status_line", [
    (529, b"HTTP/1.1 529 Overloaded\r\n"),  # Anthropic's overloaded status has no standard phrase
    (429, b"HTTP/1.1 429 Too Many Requests\r\n"),
    (599, b"HTTP/1.1 599 Unknown\r\n"),
])  # fmt: skip
async def test_an_error_status_has_its_reason_phrase_on_the_status_line(
    server: SimulatorServer, status: int, status_line: bytes
) -> None:
    add(server, name="failing", text="x", fault={"http_status": status})
    body = orjson.dumps({"model": "failing", "messages": [{"role": "user", "content": "x"}]})
    answer = await exchange_raw(server, request("POST", "/v1/chat/completions", body, close=True))
    assert answer.startswith(status_line)
    assert split_responses(answer)[0][0] == status


async def test_a_request_head_sent_a_few_bytes_at_a_time_is_read_whole(server: SimulatorServer) -> None:
    add(server, name="tiny", text="hi", timing={"first_token_ms": 0, "gap_ms": 0})
    body = orjson.dumps({"model": "tiny", "messages": [{"role": "user", "content": "x"}]})
    data = request("POST", "/v1/chat/completions", body, close=True, extra="X-Probe: pieces\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for start in range(0, len(data), 3):  # the blank line that ends the head is split across writes
        writer.write(data[start : start + 3])
        await writer.drain()
    [(status, _, reply)] = split_responses(await asyncio.wait_for(reader.read(-1), 30))
    writer.close()
    exchange = await finished(server.exchanges[-1])
    assert status == 200 and orjson.loads(reply)["choices"][0]["message"]["content"] == "hi"
    assert exchange.headers["x-probe"] == "pieces" and exchange.body == orjson.loads(body)


async def test_header_names_in_any_case_and_padded_values_are_read_as_meant(server: SimulatorServer) -> None:
    add(server, name="tiny", text="hi", timing={"first_token_ms": 0, "gap_ms": 0})
    body = orjson.dumps({"model": "tiny", "messages": [{"role": "user", "content": "x"}]})
    head = (b"POST /v1/chat/completions?trace=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nCONTENT-LENGTH:   %d  \r\n"
            b"X-Probe:\t padded \r\nConnection: Close\r\n\r\n") % len(body)  # fmt: skip
    [(status, _, reply)] = split_responses(await exchange_raw(server, head + body))
    exchange = await finished(server.exchanges[-1])
    assert status == 200 and orjson.loads(reply)["choices"][0]["message"]["content"] == "hi"
    assert (exchange.method, exchange.path, exchange.headers["x-probe"]) == ("POST", "/v1/chat/completions", "padded")
    assert exchange.headers["host"] == "127.0.0.1"  # and "Connection: Close" closed it: read(-1) ended


@pytest.mark.parametrize("data, status, message", [
    (b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
     "chunked request bodies are not supported; send Content-Length"),
    (b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 1e3\r\n\r\n", 400, "bad Content-Length"),
    (b"GET /v1/models HTTP/2.0\r\n\r\n", 400, "bad request line 'GET /v1/models HTTP/2.0'"),
    (b"GET /v1/models  HTTP/1.1\r\n\r\n", 400, "bad request line 'GET /v1/models  HTTP/1.1'"),
    (b"GET /v1/models HTTP/1.1\r\nX-Broken\r\n\r\n", 400, "bad header line 'X-Broken'"),
    (b"GET / HTTP/1.1\r\nx: " + b"a" * 70_000 + b"\r\n\r\n", 431, "request head too large"),
    (b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 10\r\n\r\n{", 400,
     "connection closed in the middle of a request body"),
])  # fmt: skip
async def test_a_request_that_cannot_be_read_gets_a_status_that_says_why(
    server: SimulatorServer, data: bytes, status: int, message: str
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(data)
    writer.write_eof()  # the client has said all it will: a body cut short stays short
    answer = await asyncio.wait_for(reader.read(-1), 30)
    writer.close()
    [(got, headers, body)] = split_responses(answer)
    assert (got, orjson.loads(body)["error"]["message"]) == (status, message)
    assert headers["connection"] == "close"
