"""A misbehaving HTTP server on 127.0.0.1 and helpers to run llmwb against it.

Each test hands the server a coroutine that writes whatever bytes it likes (a
trickle, a redirect, an endless stream, an HTML page); the server records every
request it received, so a test can also assert what never reached it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from core.events import Failed, Finished, WireFrame
from core.request import ChatRequest
from core.runner import RunOptions, run
from core.store.models import ModelConfig


@dataclass
class Received:
    head: str
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        lines = self.head.split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines) if k}


Handler = Callable[[Received, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class HostileServer:
    handler: Handler | None = None
    received: list[Received] = field(default_factory=list)
    root_url: str = ""
    _server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            length = next(
                (int(v) for k, _, v in (ln.partition(":") for ln in head.split("\r\n")) if k.lower() == "content-length"),
                0,
            )
            request = Received(head, await reader.readexactly(length) if length else b"")
            self.received.append(request)
            if self.handler is not None:
                await self.handler(request, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.root_url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        # 3.11 leaves accepted connections open after close(); an endless handler ends
        # when the client is gone, which every test's run has seen to by now.
        await asyncio.wait_for(self._server.wait_closed(), 5)


def head(status: int = 200, content_type: str = "text/event-stream", **headers: str) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\nconnection: close\r\n{extra}\r\n".encode()


def whole(status: int, body: bytes, content_type: str = "application/json", **headers: str) -> bytes:
    return head(status, content_type, content_length=str(len(body)), **headers) + body


def sse(*payloads: Any, event: str | None = None) -> bytes:
    out = b""
    for payload in payloads:
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()  # any int size
        out += (f"event: {event}\n".encode() if event else b"") + b"data: " + data + b"\n\n"
    return out


def openai_chunk(content: str | None = None, finish: str | None = None, **envelope: Any) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **envelope}


def answer(text: str = "kept answer", *, usage: Any = None, raw_usage: str | None = None) -> bytes:
    """An OpenAI stream of `text` then a usage chunk (`usage`, or `raw_usage` as written)."""
    body = sse(openai_chunk(text), openai_chunk(finish="stop"))
    if raw_usage is not None:
        body += b'data: {"id": "c1", "choices": [], "usage": ' + raw_usage.encode() + b"}\n\n"
    elif usage is not None:
        body += sse({"id": "c1", "choices": [], "usage": usage})
    return body + b"data: [DONE]\n\n"


def send(data: bytes) -> Handler:
    """Answer every request with `data` (an SSE head first, unless it has its own)."""
    if not data.startswith(b"HTTP/"):
        data = head() + data

    async def handler(_request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return handler


def trickle(before: bytes, drip: bytes, every_s: float) -> Handler:
    """`before` at once, then one byte of `drip` (repeated) every `every_s` seconds."""

    async def handler(_request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(before)
        await writer.drain()
        while not writer.is_closing():
            for byte in drip:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(every_s)  # the server's pace, not test synchronisation

    return handler


def openai_config(root_url: str, **fields: Any) -> ModelConfig:
    params = {"max_retries": 0, **fields.pop("params", {})}
    values: dict[str, Any] = {"name": "hostile", "provider": "openai-compatible", "model": "m", **fields}
    return ModelConfig(base_url=root_url + "/v1", params=params, **values)


def anthropic_config(root_url: str, **fields: Any) -> ModelConfig:
    params = {"max_retries": 0, **fields.pop("params", {})}
    values: dict[str, Any] = {"name": "hostile-a", "provider": "anthropic", "model": "m", **fields}
    return ModelConfig(base_url=root_url, params=params, **values)


@dataclass
class Outcome:
    events: list[Any]

    @property
    def last(self) -> Any:
        return self.events[-1]

    @property
    def response(self) -> dict[str, Any]:
        last = self.last
        return last.final_response if isinstance(last, Finished) else last.partial_response

    @property
    def wire(self) -> list[str]:
        return [e.data for e in self.events if isinstance(e, WireFrame)]


async def run_to_end(config: ModelConfig, prompt: str = "go", *, stream: bool = True, **options: Any) -> Outcome:
    request = ChatRequest.from_prompt(prompt)
    request.stream = stream
    events = [event async for event in run(config, request, RunOptions(**options))]
    assert isinstance(events[-1], (Finished, Failed))
    return Outcome(events)


def saved_row(store: Any, outcome: Outcome) -> Any:
    """The run as saved: never left `running`, and the same as the last event said."""
    row = store.get_run(outcome.last.run_id)
    expected = "ok" if isinstance(outcome.last, Finished) else outcome.last.status
    assert row is not None and row.status == expected != "running"
    assert row.finished_at is not None
    return row
