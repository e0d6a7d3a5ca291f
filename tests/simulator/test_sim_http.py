"""The HTTP layer, seen from a raw socket: framing, keep-alive, pipelining, routing, bad input."""

from __future__ import annotations

import asyncio

import orjson

from core.simulator import SimulatorServer

from .helpers import add, finished


def request(method: str, path: str, body: bytes = b"", *, close: bool = False, extra: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n{extra}"
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


async def exchange_raw(server: SimulatorServer, data: bytes) -> bytes:
    """Send bytes, read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(data)
    received = await reader.read(-1)
    writer.close()
    return received


def split_responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Parse consecutive HTTP/1.1 responses (Content-Length or chunked bodies)."""
    responses = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size_line, _, data = data.partition(b"\r\n")
                size = int(size_line, 16)
                body, data = body + data[:size], data[size + 2 :]
                if size == 0:
                    break
        else:
            size = int(headers.get("content-length", "0"))
            body, data = data[:size], data[size:]
        responses.append((int(status_line.split()[1]), headers, body))
    return responses


async def test_pipelined_requests_on_one_connection_are_answered_in_order(server: SimulatorServer) -> None:
    add(server, name="tiny", text="hi", timing={"first_token_ms": 0, "gap_ms": 0})
    chat = orjson.dumps({"model": "tiny", "messages": [{"role": "user", "content": "x"}], "stream": True})
    data = request("GET", "/v1/models") + request("POST", "/v1/chat/completions", chat) + request("GET", "/health", close=True)
    responses = split_responses(await exchange_raw(server, data))
    assert [status for status, _, _ in responses] == [200, 200, 200]
    assert orjson.loads(responses[0][2])["object"] == "list"
    streamed = responses[1][2]
    recorded = await finished(server.exchanges[1])
    assert streamed == b"".join(frame for _, frame in recorded.frames)  # de-chunked body == recorded frames
    assert streamed.endswith(b"data: [DONE]\n\n") and responses[1][1]["content-type"].startswith("text/event-stream")
    assert len({e.connection_id for e in server.exchanges}) == 1


async def test_bad_input_gets_provider_shaped_errors(server: SimulatorServer) -> None:
    cases = [
        (request("POST", "/v1/chat/completions", b"{not json", close=True), 400, "error"),
        (request("POST", "/v1/messages", b"[1, 2]", close=True), 400, "type"),
        (request("POST", "/v1/messages", b'{"messages": []}', close=True), 400, "type"),
        (request("GET", "/v1/chat/completions", close=True), 405, "error"),
        (request("POST", "/v2/unknown", b"{}", close=True), 404, "error"),
    ]
    for data, status, top_key in cases:
        [(got_status, _, body)] = split_responses(await exchange_raw(server, data))
        assert (got_status, top_key in orjson.loads(body)) == (status, True)
    anthropic_error = orjson.loads(split_responses(await exchange_raw(server, cases[1][0]))[0][2])
    assert anthropic_error["type"] == "error" and anthropic_error["error"]["type"] == "invalid_request_error"


async def test_garbage_request_line_is_400_and_closed(server: SimulatorServer) -> None:
    [(status, headers, _)] = split_responses(await exchange_raw(server, b"HELLO\r\n\r\n"))
    assert status == 400 and headers["connection"] == "close"


async def test_models_in_anthropic_shape_when_asked_by_an_anthropic_client(server: SimulatorServer) -> None:
    data = request("GET", "/v1/models", close=True, extra="anthropic-version: 2023-06-01\r\n")
    [(status, _, body)] = split_responses(await exchange_raw(server, data))
    listing = orjson.loads(body)
    assert status == 200 and listing["has_more"] is False
    assert {m["id"] for m in listing["data"]} == set(server.scenarios) and listing["data"][0]["type"] == "model"


async def test_query_strings_and_unprefixed_paths_are_accepted(server: SimulatorServer) -> None:
    add(server, name="tiny", text="hi", timing={"first_token_ms": 0, "gap_ms": 0})
    body = orjson.dumps({"model": "tiny", "max_tokens": 4, "messages": [{"role": "user", "content": "x"}]})
    [(status, _, reply)] = split_responses(await exchange_raw(server, request("POST", "/v1/messages?beta=true", body, close=True)))
    assert status == 200 and orjson.loads(reply)["content"] == [{"type": "text", "text": "hi"}]
    [(status, _, _)] = split_responses(await exchange_raw(server, request("POST", "/chat/completions", body, close=True)))
    assert status == 200


async def test_expect_100_continue_is_answered_before_the_body(server: SimulatorServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    body = orjson.dumps({"model": "echo", "messages": [{"role": "user", "content": "x" * 2000}]})
    writer.write(request("POST", "/v1/chat/completions", b"", close=True, extra="Expect: 100-continue\r\n").replace(
        b"Content-Length: 0", b"Content-Length: %d" % len(body)))  # fmt: skip
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(body)
    [(status, _, reply)] = split_responses(await reader.read(-1))
    writer.close()
    assert status == 200 and orjson.loads(reply)["choices"][0]["message"]["content"] == "x" * 2000
