"""Which Ollama answers are retried, how many times, how long apart, and where the
request goes: counted by the server that received them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from core.events import Failed, Finished
from core.providers import base
from core.request import ChatRequest
from core.runner import run
from core.store.models import ModelConfig

OK = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n"
    b'{"model":"m","message":{"role":"assistant","content":"ok"},"done":false}\n'
    b'{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":1}\n'
)


def status(code: int, retry_after: str | None = None) -> bytes:
    body = b'{"error":"not now"}'
    extra = f"retry-after: {retry_after}\r\n".encode() if retry_after is not None else b""
    return b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\n%scontent-length: %d\r\n\r\n%s" % (code, extra, len(body), body)


class Answers:
    """Answers requests in turn (the last one again once the list runs out), noting each
    request's line and when it came in."""

    def __init__(self, *replies: bytes) -> None:
        self.replies = list(replies)
        self.lines: list[bytes] = []
        self.times: list[float] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.times.append(time.perf_counter())
                self.lines.append(head.split(b"\r\n")[0])
                length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")), 0)
                await reader.readexactly(length)
                reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
                writer.write(reply)
                await writer.drain()
                if b"connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(answers: Answers) -> AsyncIterator[str]:
    server = await asyncio.start_server(answers.serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


async def final_of(url: str, retries: int):
    config = ModelConfig(name="o", provider="ollama-native", model="m", base_url=url, params={"max_retries": retries})
    return [event async for event in run(config, ChatRequest.from_prompt("x"))][-1]


async def test_retries_stop_after_max_retries_and_the_last_status_is_reported() -> None:
    answers = Answers(*[status(503, "0")] * 5, OK)
    async with serving(answers) as url:
        final = await final_of(url, retries=2)
    assert isinstance(final, Failed) and final.http_status == 503 and len(answers.lines) == 3


async def test_a_500_is_retried_like_a_503() -> None:
    answers = Answers(status(500, "0"), OK)
    async with serving(answers) as url:
        final = await final_of(url, retries=1)
    assert isinstance(final, Finished) and final.metrics["retries"] == 1 and len(answers.lines) == 2


@pytest.mark.parametrize("code", [400, 404])
async def test_a_client_error_is_not_retried(code: int) -> None:
    answers = Answers(status(code, "0"), OK)
    async with serving(answers) as url:
        final = await final_of(url, retries=2)
    assert isinstance(final, Failed) and final.http_status == code and len(answers.lines) == 1


async def test_a_retry_without_a_hint_backs_off_and_then_succeeds() -> None:
    answers = Answers(status(503), OK)
    async with serving(answers) as url:
        final = await final_of(url, retries=1)
    assert isinstance(final, Finished) and len(answers.lines) == 2
    assert answers.times[1] - answers.times[0] >= 0.5  # the first backoff step: half a second


async def test_a_retry_waits_as_long_as_the_server_asked() -> None:
    answers = Answers(status(429, "1"), OK)
    async with serving(answers) as url:
        final = await final_of(url, retries=1)
    assert isinstance(final, Finished) and len(answers.lines) == 2
    assert answers.times[1] - answers.times[0] >= 1.0


async def test_a_base_url_with_a_trailing_slash_posts_to_api_chat() -> None:
    answers = Answers(OK)
    async with serving(answers) as url:
        final = await final_of(url + "/", retries=0)
    assert isinstance(final, Finished) and answers.lines == [b"POST /api/chat HTTP/1.1"]


async def test_a_dead_host_says_why_the_connection_failed() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    final = await final_of(f"http://127.0.0.1:{port}", retries=0)
    assert isinstance(final, Failed) and final.error_type == base.CONNECTION
    prefix = f"cannot connect to http://127.0.0.1:{port}/api/chat: "
    assert final.error.startswith(prefix) and final.error != prefix + "ConnectError"
