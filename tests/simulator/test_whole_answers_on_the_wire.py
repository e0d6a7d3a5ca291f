"""What a client reads on the wire, byte for byte, when a scenario's stream fault meets a
non-streamed request (a truncated body, a promise of bytes never sent, a late answer, an
overloaded status), the text a stream and a whole answer each say, and how the simulator writes
streams: headers, and a write per frame when paced, batches when not. Raw sockets (but for the
text test), so the bytes are the server's, not a client's reading of them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from core.simulator import RecordedExchange, SimulatorServer

from .conftest import plain_http_client
from .helpers import add, finished

TEXT = "one two three four"  # four words: four content frames when chunked by word
Head = tuple[int, dict[str, str]]


def _request(path: str, model: str, *, stream: bool = False) -> bytes:
    body = json.dumps({"model": model, "stream": stream, "max_tokens": 1_000_000, "messages": [{"role": "user", "content": "hi"}]})
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()  # fmt: skip


def _parse_head(raw: bytes) -> Head:
    status_line, *lines = raw.decode("latin-1").split("\r\n")
    return int(status_line.split()[1]), {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


async def _raw(server: SimulatorServer, path: str, model: str, *, stream: bool = False) -> tuple[Head, bytes]:
    """The answer's head and every byte after it, up to the server's close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(_request(path, model, stream=stream))
    received = await asyncio.wait_for(reader.read(-1), 30)
    writer.close()
    head, _, body = received.partition(b"\r\n\r\n")
    return _parse_head(head), body


def _scenario(server: SimulatorServer, name: str, **fields: Any) -> None:
    add(server, name=name, text=TEXT, chunking={"mode": "word"}, timing={"first_token_ms": 0, "gap_ms": 0}, **fields)


async def test_a_whole_answer_is_one_json_body_recorded_as_one_content_write(server: SimulatorServer) -> None:
    _scenario(server, name="fine")
    (status, headers), body = await _raw(server, "/v1/chat/completions", "fine")
    assert status == 200 and headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body) and json.loads(body)["choices"][0]["message"]["content"] == TEXT
    exchange = await finished(server.exchanges[-1])
    assert (exchange.status, exchange.outcome, exchange.streamed, exchange.content_frames) == (200, "complete", False, 1)
    assert exchange.content_times == [exchange.first_content_at] == [exchange.frames[-1][0]]


async def test_cut_and_spoilt_whole_answers_carry_half_the_body(server: SimulatorServer) -> None:
    for name, fault in (("fine", {}), ("drop", {"drop_after_chunks": 2}), ("malf", {"malformed_after_chunks": 2})):
        _scenario(server, name=name, fault=fault)  # names of one length: the bodies differ only where cut
    (_, _), whole = await _raw(server, "/v1/chat/completions", "fine")
    (status, dropped_head), dropped = await _raw(server, "/v1/chat/completions", "drop")
    # dropped: the head promises the whole body, half of it comes, then the connection ends
    assert status == 200 and int(dropped_head["content-length"]) == len(whole) and len(dropped) == len(whole) // 2
    cut = await finished(server.exchanges[-1])
    assert (cut.status, cut.outcome, cut.content_frames, cut.frames[0][1]) == (200, "dropped", 1, dropped)
    (status, spoilt_head), spoilt = await _raw(server, "/v1/chat/completions", "malf")
    # malformed: a complete answer whose body is the first half, not JSON
    assert status == 200 and int(spoilt_head["content-length"]) == len(spoilt) == len(whole) // 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(spoilt)
    assert (await finished(server.exchanges[-1])).outcome == "complete"


async def test_headers_then_nothing_on_a_whole_answer_promises_the_body_and_sends_none(server: SimulatorServer) -> None:
    _scenario(server, name="fine")
    _scenario(server, name="hang", fault={"headers_then_nothing": True})
    (_, _), whole = await _raw(server, "/v1/chat/completions", "fine")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(_request("/v1/chat/completions", "hang"))
    status, headers = _parse_head((await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30))[:-4])
    assert status == 200 and int(headers["content-length"]) == len(whole) and "x-request-id" in headers
    writer.close()  # the client gives up
    exchange = await finished(server.exchanges[-1])
    assert (exchange.status, exchange.outcome, exchange.frames, exchange.content_frames) == (200, "client_disconnected", [], 0)


async def test_a_stall_delays_a_whole_answer_by_the_stall_on_top_of_the_script(server: SimulatorServer) -> None:
    # A stall after the last of the four frames still delays the answer (it would delay the stream's end).
    add(server, name="slow", text=TEXT, chunking={"mode": "word"}, timing={"first_token_ms": 300, "gap_ms": 0},
        fault={"stall_after_chunks": 4, "stall_s": 0.3})  # fmt: skip
    (status, _), body = await _raw(server, "/v1/chat/completions", "slow")
    exchange = await finished(server.exchanges[-1])
    # the server's own record: its answer left no sooner than the script plus the stall
    assert status == 200 and exchange.first_content_at is not None and json.loads(body)
    assert exchange.first_content_at - exchange.received_at >= 0.6 - 0.001


def _openai_overloaded(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "server_error", "param": None, "code": "overloaded"}}


def _anthropic_overloaded(message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": "overloaded_error", "message": message}}


def _ollama_overloaded(message: str) -> dict[str, Any]:
    return {"error": message}


@pytest.mark.parametrize("path, status, shape, message", [
    ("/v1/chat/completions", 503, _openai_overloaded, None), ("/v1/messages", 529, _anthropic_overloaded, None),
    ("/api/chat", 503, _ollama_overloaded, None), ("/api/chat", 503, _ollama_overloaded, "Try again later"),
    ("/v1/chat/completions", 503, _openai_overloaded, "Try again later"),
    ("/v1/messages", 529, _anthropic_overloaded, "Try again later"),
])  # fmt: skip
async def test_an_error_event_fault_answers_a_whole_request_with_the_overloaded_status(
    server: SimulatorServer, path: str, status: int, shape: Any, message: str | None
) -> None:
    _scenario(server, name="busy", fault={"error_event_after_chunks": 2, **({"error_message": message} if message else {})})
    (answered, headers), body = await _raw(server, path, "busy")
    assert (answered, json.loads(body)) == (status, shape(message or "Overloaded"))
    if path != "/api/chat":  # as on every answer of the provider (Ollama sends no request id)
        assert ("request-id" if path == "/v1/messages" else "x-request-id") in headers
    exchange = await finished(server.exchanges[-1])
    assert (exchange.status, exchange.outcome) == (status, "http_error")


async def test_a_stream_s_head_and_a_json_answer_s_head(server: SimulatorServer) -> None:
    _scenario(server, name="fine")
    (status, headers), _ = await _raw(server, "/v1/chat/completions", "fine", stream=True)
    assert status == 200 and (await finished(server.exchanges[-1])).status == 200
    assert {k: headers[k] for k in ("content-type", "cache-control", "transfer-encoding", "connection")} == {
        "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache",
        "transfer-encoding": "chunked", "connection": "keep-alive",
    }  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # kept alive: the answer must say so
    status, headers = _parse_head((await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30))[:-4])
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 30)
    writer.close()
    assert (status, headers["content-type"], headers["connection"]) == (200, "application/json", "keep-alive")
    assert json.loads(body)["data"]


def _distinct_writes(exchange: RecordedExchange) -> int:
    return len(set(exchange.content_times))


@pytest.mark.parametrize("timing, each_its_own_write", [
    ({"first_token_ms": 0, "gap_ms": 0.001}, True),  # paced, however finely: every frame its own write and time
    ({"first_token_ms": 0, "gap_ms": 0, "jitter_ms": 0.001}, True),
    ({"first_token_ms": 0, "gap_ms": 0}, False),  # unpaced: gathered into batches
])  # fmt: skip
async def test_paced_frames_are_each_written_alone_and_unpaced_ones_in_batches(
    server: SimulatorServer, timing: dict[str, float], each_its_own_write: bool
) -> None:
    add(server, name="words", text=" ".join(["word"] * 40), chunking={"mode": "word"}, timing=timing)
    await _raw(server, "/v1/chat/completions", "words", stream=True)
    exchange = await finished(server.exchanges[-1])
    assert exchange.content_frames == 40
    assert (_distinct_writes(exchange) == 40) is each_its_own_write, exchange.content_times
    # the first content frame, which TTFT measures, always leaves on its own
    assert exchange.content_times[0] < exchange.content_times[1]


async def test_a_long_unpaced_stream_is_written_in_batches_of_bounded_size(server: SimulatorServer) -> None:
    add(server, name="long", text="w" * 400_000, chunking={"mode": "fixed", "size": 100}, timing={"first_token_ms": 0, "gap_ms": 0})
    (_, _), body = await _raw(server, "/v1/chat/completions", "long", stream=True)
    exchange = await finished(server.exchanges[-1])
    assert exchange.content_frames == 4000 and body.endswith(b"0\r\n\r\n")
    # ~64 KB a write: the client gets the first of the 400 KB while the rest is still being framed
    assert _distinct_writes(exchange) >= 5


@pytest.mark.parametrize("message, said", [(None, b"Overloaded"), ("Try again later", b"Try again later")])
async def test_a_streamed_error_event_says_the_scenario_s_message(server: SimulatorServer, message: str | None, said: bytes) -> None:
    _scenario(server, name="busy", fault={"error_event_after_chunks": 2, **({"error_message": message} if message else {})})
    (status, _), body = await _raw(server, "/v1/chat/completions", "busy", stream=True)
    error_frames = [line for line in body.split(b"\n") if line.startswith(b"data: ") and b'"error"' in line]
    assert status == 200 and len(error_frames) == 1, body
    assert json.loads(error_frames[0][len(b"data: "):])["error"]["message"] == said.decode()
    assert (await finished(server.exchanges[-1])).outcome == "error_event"


@pytest.mark.parametrize("path, header", [("/v1/chat/completions", "x-request-id"), ("/v1/messages", "request-id")])
async def test_a_status_fault_s_answer_carries_the_provider_s_request_id_header(server: SimulatorServer, path: str, header: str) -> None:
    _scenario(server, name="failing", fault={"http_status": 500})
    (first_status, first), _ = await _raw(server, path, "failing")
    (_, second), _ = await _raw(server, path, "failing")
    assert first_status == 500 and first[header] and second[header] != first[header]  # one id per request, to quote to support


async def test_a_streamed_answer_says_the_scenario_s_stream_text_and_a_whole_one_its_whole_text_on_every_protocol(
    server: SimulatorServer,
) -> None:
    # The compare view sets a stream against a whole answer: `nonstream_text` is the whole one's only.
    add(server, name="differs", text="streamed words", nonstream_text="whole words", timing={"first_token_ms": 0, "gap_ms": 0})
    said: dict[tuple[str, bool], str] = {}
    async with plain_http_client() as client:
        for path in ("/v1/chat/completions", "/v1/messages", "/v1/responses", "/api/chat"):
            for stream in (True, False):
                request = {"model": "differs", "stream": stream, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
                answer = await client.post(server.root_url + path, json=request)
                assert answer.status_code == 200, (path, stream, answer.text)
                said[path, stream] = _text_of(path, stream, answer.content)
    assert set(said.values()) == {"streamed words", "whole words"}
    assert all(text == ("streamed words" if stream else "whole words") for (_, stream), text in said.items()), said


def _text_of(path: str, stream: bool, body: bytes) -> str:
    """The answer's text as the provider's client would put it together."""
    if not stream:
        whole = json.loads(body)
        if path == "/v1/chat/completions":
            return str(whole["choices"][0]["message"]["content"])
        if path == "/v1/messages":
            return "".join(block["text"] for block in whole["content"] if block["type"] == "text")
        if path == "/v1/responses":
            return "".join(part["text"] for item in whole["output"] if item["type"] == "message" for part in item["content"])
        return str(whole["message"]["content"])
    text = body.decode()
    if path == "/api/chat":
        return "".join(json.loads(line)["message"]["content"] for line in text.splitlines() if line)
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ") and line != "data: [DONE]"]
    if path == "/v1/chat/completions":
        return "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    if path == "/v1/messages":
        return "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta")
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
