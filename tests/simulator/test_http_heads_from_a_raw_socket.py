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
    head = (b"POST /v1/chat/completions?trace=1?x=y HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nCONTENT-LENGTH:   %d  \r\n"
            b"X-Probe:\t padded \r\nConnection: Close\r\n\r\n") % len(body)  # fmt: skip
    [(status, _, reply)] = split_responses(await exchange_raw(server, head + body))
    exchange = await finished(server.exchanges[-1])
    assert status == 200 and orjson.loads(reply)["choices"][0]["message"]["content"] == "hi"
    assert (exchange.method, exchange.path, exchange.headers["x-probe"]) == ("POST", "/v1/chat/completions", "padded")
    assert exchange.headers["host"] == "127.0.0.1:8080"  # and "Connection: Close" closed it: read(-1) ended


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
    (b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n", 400, "connection closed in the middle of a request head"),
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


async def test_a_head_that_never_ends_gets_431_without_waiting_for_the_request_timeout(server: SimulatorServer) -> None:
    # No blank line ever comes and the client keeps the connection open: past 64 KiB the
    # server must refuse at once, not buffer on until the 10 s request timeout (408).
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET / HTTP/1.1\r\n" + b"x-endless: " + b"a" * 70_000)
    answer = await asyncio.wait_for(reader.read(-1), 30)
    writer.close()
    [(status, _, body)] = split_responses(answer)
    assert (status, orjson.loads(body)["error"]["message"]) == (431, "request head too large")


async def test_a_head_of_exactly_64_kib_is_read(server: SimulatorServer) -> None:
    head = b"GET /health HTTP/1.1\r\nConnection: close\r\nx-pad: "
    head += b"a" * (64 * 1024 - len(head))  # the blank line after it starts at byte 65,536
    [(status, _, _)] = split_responses(await exchange_raw(server, head + b"\r\n\r\n"))
    assert status == 200


async def test_expect_100_continue_with_the_body_already_sent_gets_no_interim_answer(server: SimulatorServer) -> None:
    # A client that sends the body along with the head is not asked for it: a stray
    # "100 Continue" would be read as the answer by a client that does not expect one.
    add(server, name="tiny", text="hi", timing={"first_token_ms": 0, "gap_ms": 0})
    body = orjson.dumps({"model": "tiny", "messages": [{"role": "user", "content": "x"}]})
    answer = await exchange_raw(server, request("POST", "/v1/chat/completions", body, close=True, extra="Expect: 100-continue\r\n"))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


async def test_a_request_sent_while_the_previous_answer_streams_is_answered_next(server: SimulatorServer) -> None:
    # The watcher reads the socket during the stall; the next request it finds there is
    # kept and answered after the stream, not taken for a client gone wild.
    add(server, name="stalls", text="one two three", chunking={"mode": "word"},
        timing={"first_token_ms": 0, "gap_ms": 0}, fault={"stall_after_chunks": 1, "stall_s": 0.5})  # fmt: skip
    chat = orjson.dumps({"model": "stalls", "stream": True, "messages": [{"role": "user", "content": "x"}]})
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request("POST", "/v1/chat/completions", chat))
    await asyncio.wait_for(reader.readuntil(b'"content":"one'), 30)  # the first word, then the stall
    writer.write(request("GET", "/health", close=True))
    rest = await asyncio.wait_for(reader.read(-1), 30)
    writer.close()
    streamed = await finished(server.exchanges[0])
    after_the_stream = rest.split(b"data: [DONE]", 1)
    assert streamed.outcome == "complete" and len(after_the_stream) == 2
    assert b"HTTP/1.1 200 OK" in after_the_stream[1] and b'"status":"ok"' in after_the_stream[1]
    assert [e.path for e in server.exchanges] == ["/v1/chat/completions", "/health"]
