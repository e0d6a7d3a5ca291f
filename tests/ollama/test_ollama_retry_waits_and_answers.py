"""How an Ollama run waits between retries, and what it reads off an answer's head:
the request id, a missing or HTML content type, the status a cut body keeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from core.events import Failed, Finished, WireFrame
from core.providers import base
from core.providers.ollama_native import _retry_delay
from core.request import ChatRequest
from core.runner import RunOptions, run
from core.store.models import ModelConfig

LINE = b'{"model":"m","message":{"role":"assistant","content":"ok"},"done":false}\n'
DONE = b'{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":1,"prompt_eval_count":2}\n'


@pytest.mark.parametrize(
    ("attempt", "retry_after", "wait_s"),
    [
        (0, None, 0.5), (1, None, 1.0), (2, None, 2.0), (3, None, 4.0), (4, None, 8.0), (9, None, 8.0),  # doubling, capped
        (0, "0", 0.0), (2, "0", 0.0), (0, "60", 60.0), (0, "1.5", 1.5),  # the server's hint, when sensible
        (0, "61", 0.5), (1, "-1", 1.0), (0, "Wed, 21 Oct 2015 07:28:00 GMT", 0.5), (1, "soon", 1.0),  # else the backoff
    ],
)  # fmt: skip
def test_retries_wait_as_the_server_asks_within_a_minute_else_back_off_doubling(
    attempt: int, retry_after: str | None, wait_s: float
) -> None:
    assert _retry_delay(attempt, retry_after) == wait_s


@asynccontextmanager
async def answering(reply: bytes) -> AsyncIterator[str]:
    """A server on 127.0.0.1 that answers every request with `reply`, then hangs up."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")), 0)
        await reader.readexactly(length)
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


async def run_on(root_url: str, *, stream: bool = True) -> list:
    config = ModelConfig(name="o", provider="ollama-native", model="m", base_url=root_url, params={"max_retries": 0})
    request = ChatRequest.from_prompt("x", stream=stream)
    return [event async for event in run(config, request, RunOptions(wire_frames=True))]


async def test_the_request_id_header_is_kept_in_the_metrics() -> None:
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nx-request-id: req-77\r\nconnection: close\r\n\r\n" + LINE + DONE
    async with answering(reply) as url:
        final = (await run_on(url))[-1]
    assert isinstance(final, Finished) and final.metrics["request_id"] == "req-77"


async def test_an_answer_without_a_content_type_is_still_read_as_ndjson() -> None:
    async with answering(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + LINE + DONE) as url:
        final = (await run_on(url))[-1]
    assert isinstance(final, Finished) and final.final_response["content"] == "ok"


@pytest.mark.parametrize(("stream", "expected"), [(True, "an NDJSON stream"), (False, "JSON")])
async def test_an_html_page_is_named_for_what_it_is_and_kept_on_the_wire(stream: bool, expected: str) -> None:
    page = b"<html><body>\n<h1>Sign in to the guest Wi-Fi \xff</h1></body></html>"  # not even UTF-8
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: text/HTML; charset=utf-8\r\nconnection: close\r\n\r\n" + page
    async with answering(reply) as url:
        events = await run_on(url, stream=stream)
    final = events[-1]
    assert isinstance(final, Failed) and final.error_type == base.MALFORMED
    assert final.error == f"the server answered with text/HTML; charset=utf-8, not {expected}: <html><body>"
    assert [e.data for e in events if isinstance(e, WireFrame)] == [page.decode("utf-8", errors="replace")]


async def test_a_body_cut_mid_stream_keeps_the_status_its_head_had() -> None:
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: 500\r\n\r\n" + LINE
    async with answering(reply) as url:
        final = (await run_on(url))[-1]
    assert isinstance(final, Failed) and final.error_type == base.STREAM_CUT
    assert final.http_status == 200 and final.partial_response["content"] == "ok"
    # A response had begun, so its prompt counts as billed even though no usage came.
    assert final.metrics["prompt_tokens"] >= 1


async def test_a_stream_that_ends_without_its_done_line_says_a_line_was_missing() -> None:
    async with answering(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n" + LINE) as url:
        final = (await run_on(url))[-1]
    assert isinstance(final, Failed) and final.error_type == base.STREAM_CUT
    assert final.error == "response ended before a line with done: true: it is incomplete"


async def test_a_whole_body_is_one_wire_frame_with_bad_bytes_replaced() -> None:
    body = b'{"model":"m","message":{"role":"assistant","content":"caf\xe9 ok"},"done":true,"done_reason":"stop"}'
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body) + body
    async with answering(reply) as url:
        events = await run_on(url, stream=False)
    final = events[-1]
    assert isinstance(final, Finished) and final.final_response["content"] == "caf\ufffd ok"
    assert [e.data for e in events if isinstance(e, WireFrame)] == [body.decode("utf-8", errors="replace")]


async def test_a_key_echoed_in_a_line_is_hidden_on_the_wire(monkeypatch) -> None:
    secret = "ol-secret-key-value-123456789"
    monkeypatch.setenv("OLLAMA_TEST_KEY", secret)
    echoed = b'{"model":"m","message":{"role":"assistant","content":"your key is ' + secret.encode() + b'"},"done":false}\n'
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n" + LINE + echoed + DONE
    async with answering(reply) as url:
        config = ModelConfig(name="o", provider="ollama-native", model="m", base_url=url, api_key_env="OLLAMA_TEST_KEY", params={"max_retries": 0})
        events = [event async for event in run(config, ChatRequest.from_prompt("x"), RunOptions(wire_frames=True))]
    final = events[-1]
    assert isinstance(final, Finished)
    wire = [e for e in events if isinstance(e, WireFrame)]
    assert len(wire) == 3 and secret not in "".join(w.data for w in wire) and "[REDACTED]" in wire[1].data
    assert wire[0].data == LINE.decode().strip() and wire[1].offset_ms >= wire[0].offset_ms
    assert secret not in final.final_response["content"] and final.final_response["content"].startswith("okyour key is ")


async def test_a_stall_mid_stream_times_out_naming_the_configured_wait() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\n\r\n" + LINE)
        await writer.drain()
        await reader.read()  # nothing more, until the client hangs up

    server = await asyncio.start_server(stall, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        config = ModelConfig(name="o", provider="ollama-native", model="m", base_url=url, timeout=0.5, params={"max_retries": 0})
        final = [event async for event in run(config, ChatRequest.from_prompt("x"))][-1]
    finally:
        server.close()
    assert isinstance(final, Failed) and final.error_type == base.TIMEOUT
    assert "no data for 0.5 s" in final.error and final.partial_response["content"] == "ok"


async def test_a_stream_that_trickles_past_its_deadline_is_stopped_there() -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\n\r\n" + LINE)
        while not writer.is_closing():
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)  # the server's pace: a byte well within every read timeout

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        config = ModelConfig(name="o", provider="ollama-native", model="m", base_url=url, params={"max_retries": 0, "deadline": 0.6})
        final = [event async for event in run(config, ChatRequest.from_prompt("x"))][-1]
    finally:
        server.close()
    assert isinstance(final, Failed) and final.error_type == base.TIMEOUT and "param deadline" in final.error
    assert final.partial_response["content"] == "ok"


async def test_max_retries_1_retries_once() -> None:
    busy = b'{"error":"busy"}'
    answers = [
        b"HTTP/1.1 503 X\r\ncontent-type: application/json\r\nretry-after: 0\r\ncontent-length: %d\r\n\r\n%s" % (len(busy), busy),
        b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n" + LINE + DONE,
    ]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length"))
            await reader.readexactly(length)
            writer.write(answers.pop(0))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        config = ModelConfig(name="o", provider="ollama-native", model="m", base_url=url, params={"max_retries": 1})
        final = [event async for event in run(config, ChatRequest.from_prompt("x"))][-1]
    finally:
        server.close()
    assert isinstance(final, Finished) and final.metrics["retries"] == 1


async def test_a_key_echoed_in_an_html_page_is_hidden_on_the_wire(monkeypatch) -> None:
    secret = "ol-portal-key-value-987654321"
    monkeypatch.setenv("OLLAMA_PORTAL_KEY", secret)
    page = b"<html><body>Your token " + secret.encode() + b" is not valid here</body></html>"
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n" + page
    async with answering(reply) as url:
        config = ModelConfig(name="o", provider="ollama-native", model="m", base_url=url, api_key_env="OLLAMA_PORTAL_KEY", params={"max_retries": 0})
        events = [event async for event in run(config, ChatRequest.from_prompt("x"), RunOptions(wire_frames=True))]
    final = events[-1]
    assert isinstance(final, Failed) and secret not in final.error
    (frame,) = [e for e in events if isinstance(e, WireFrame)]
    assert frame.data == page.decode().replace(secret, "[REDACTED]")


async def test_a_stream_of_more_lines_than_max_frames_is_stopped_at_the_cap() -> None:
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n" + LINE * 5 + DONE
    async with answering(reply) as url:
        config = ModelConfig(name="o", provider="ollama-native", model="m", base_url=url, params={"max_retries": 0, "max_frames": 3})
        final = [event async for event in run(config, ChatRequest.from_prompt("x"))][-1]
    assert isinstance(final, Failed) and "max_frames" in final.error
    assert final.partial_response["content"] == "okokok"
