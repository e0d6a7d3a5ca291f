"""Helpers for the core's wire tests: configs pointing at a loopback server, running
a request to its last event, scripted scenarios, and a raw server for behaviours
the simulator does not script."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from core.events import Failed, Finished, ReasoningDelta, TextDelta, ToolCallDelta
from core.request import ChatRequest
from core.runner import RunOptions, run
from core.simulator.scenario import Scenario, scenario_from_dict
from core.store.models import ModelConfig

from waiting import DEADLINE_S

NO_DELAY = {"first_token_ms": 0, "gap_ms": 0}


async def every_event_of(handle: Any, what: str) -> list[Any]:
    """Every event of a run handle to its last, bounded: a run that never ends fails naming `what`."""

    async def every_event() -> list[Any]:
        return [event async for event in handle.events()]

    try:
        return await asyncio.wait_for(every_event(), DEADLINE_S)
    except TimeoutError:
        raise AssertionError(f"{what} never ended") from None


def openai_config(root_url: str, model: str, **fields: Any) -> ModelConfig:
    """An OpenAI-compatible config at `root_url` + /v1. The SDK's retries are off
    (max_retries=0) so a 429 fails at once instead of sleeping."""
    params = {"max_retries": 0, **fields.pop("params", {})}
    values = {"name": f"test-{model}", "provider": "openai-compatible", "model": model, **fields}
    return ModelConfig(base_url=root_url + "/v1", params=params, **values)


def scripted(name: str, **fields: Any) -> Scenario:
    """An OpenAI scenario from keyword fields, without delays unless `timing` is given."""
    return scenario_from_dict({"name": name, "api": "openai", "timing": NO_DELAY, **fields})


@dataclass
class Outcome:
    events: list
    last: Any  # Finished or Failed

    def of_type(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def response(self) -> dict[str, Any]:
        last = self.last
        return last.final_response if isinstance(last, Finished) else last.partial_response

    @property
    def streamed_text(self) -> str:
        return "".join(e.content for e in self.of_type(TextDelta))

    @property
    def streamed_reasoning(self) -> str:
        return "".join(e.reasoning for e in self.of_type(ReasoningDelta))

    def arguments_of(self, index: int) -> list[str]:
        return [e.arguments_delta for e in self.of_type(ToolCallDelta) if e.index == index and e.arguments_delta]


async def run_to_end(config: ModelConfig, request: ChatRequest | str, **options: Any) -> Outcome:
    if isinstance(request, str):
        request = ChatRequest.from_prompt(request)
    events = [event async for event in run(config, request, RunOptions(**options))]
    assert isinstance(events[-1], (Finished, Failed))
    return Outcome(events, events[-1])


# --- a raw loopback server ---------------------------------------------------

Handler = Callable[["RawRequest", asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawRequest:
    head: str
    body: dict[str, Any]
    reader: asyncio.StreamReader  # `await reader.read()` returns when the client hangs up


@dataclass
class RawServer:
    """HTTP/1.1 on 127.0.0.1 with a hand-written answer per request (closes after each)."""

    handler: Handler
    requests: list[RawRequest] = field(default_factory=list)
    root_url: str = ""
    _server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            length = next(
                (int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.lower().startswith("content-length:")),
                0,
            )
            body = orjson.loads(await reader.readexactly(length)) if length else {}
            request = RawRequest(head, body, reader)
            self.requests.append(request)
            await self.handler(request, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.root_url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> bytes:
    body = orjson.dumps(payload)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (
        f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        f"connection: close\r\n{extra}\r\n"
    ).encode() + body


SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"


def sse(*payloads: Any) -> bytes:
    """`data:` frames for each payload (a dict, or a raw string such as "[DONE]")."""
    out = b""
    for payload in payloads:
        data = payload.encode() if isinstance(payload, str) else orjson.dumps(payload)
        out += b"data: " + data + b"\n\n"
    return out


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **envelope: Any) -> dict[str, Any]:
    """An OpenAI chat.completion.chunk with one choice."""
    return {
        "id": "chatcmpl-raw",
        "object": "chat.completion.chunk",
        "model": "raw",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **envelope,
    }
