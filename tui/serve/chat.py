"""`POST /api/debug/chat`: one run through the core, answered as SSE or as one JSON body.

The SSE stream is the CLI's `--json` protocol, byte for byte, one `data:` line per
event, written the moment the runner yields it; `data: [DONE]` ends it. A client
that hangs up cancels the run, which the runner saves as cancelled with what
had arrived.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncGenerator, Awaitable, Callable, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.responses import Response, StreamingResponse

from core.events import (
    Failed, Finished, ReasoningDelta, TextDelta, ToolCallDelta, WireFrame, to_json_line, to_wire_dict,
)  # fmt: skip
from core.request import ChatRequest, ToolSpec
from core.runner import RunOptions, run
from core.store.models import ModelConfig, ToolDefinition

Receive = Callable[[], Awaitable[dict[str, Any]]]
T = TypeVar("T")

SSE_HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}
DONE_LINE = b"data: [DONE]\n\n"
_ENCODER = json.JSONEncoder(ensure_ascii=False)  # the same as core.events' lines
TOOL_CHOICE_WORDS = ("auto", "none", "required")
# The original API's events; anything else the runner yields (RunStarted, wire frames,
# phases) stays off this stream, so its clients never meet a line they do not know.
PROTOCOL_EVENTS = (TextDelta, ReasoningDelta, ToolCallDelta, Finished, Failed)
DELTAS = (TextDelta, ReasoningDelta, ToolCallDelta)


class ChatBody(BaseModel):
    """The original API's request body (plus `tool_choice`). Unknown fields are an
    error rather than silently dropped: a typo in `stream` must not change the answer."""

    model_config = ConfigDict(extra="forbid")

    model_id: StrictInt | StrictStr = Field(description="a model config's id (see GET /api/models) or its name")
    prompt: StrictStr
    system_prompt: StrictStr | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    tool_ids: list[StrictInt | StrictStr] = Field(default_factory=list, description="saved tools, by id or name")
    tool_choice: StrictStr | None = None
    stream: StrictBool = False


class NotFound(Exception):
    """A model or tool the body names does not exist: answered with 404."""


class BadRequest(Exception):
    """A body that parses but cannot be run (tool_choice without tools): answered with 422."""


def find_config(configs: list[ModelConfig], model_id: int | str) -> ModelConfig:
    """By id for an integer; by name for a string, or by id when no name matches a string of digits."""
    for config in configs:
        if (isinstance(model_id, int) and config.id == model_id) or config.name == model_id:
            return config
    if isinstance(model_id, str) and model_id.isdigit():
        return find_config(configs, int(model_id))
    raise NotFound(f"unknown model_id {model_id!r}: no model config has that id or name (see GET /api/models)")


def find_tools(tools: list[ToolDefinition], tool_ids: list[int | str]) -> list[ToolSpec]:
    specs = []
    for wanted in tool_ids:
        tool = next((t for t in tools if t.id == wanted or t.name == wanted), None)
        if tool is None:
            known = ", ".join(f"{t.id}:{t.name}" for t in tools) or "none saved"
            raise NotFound(f"unknown tool id {wanted!r} (known: {known})")
        specs.append(ToolSpec(name=tool.name, description=tool.description, parameters=tool.parameters))
    return specs


def build_request(body: ChatBody, tools: list[ToolSpec]) -> ChatRequest:
    choice = body.tool_choice
    if choice is not None:
        names = [tool.name for tool in tools]
        if not tools:
            raise BadRequest("tool_choice needs at least one tool in tool_ids")
        if choice not in TOOL_CHOICE_WORDS and choice not in names:
            raise BadRequest(f"tool_choice {choice!r} is neither auto/none/required nor one of {names}")
    return ChatRequest.from_prompt(
        body.prompt,
        system=body.system_prompt or "",
        params=dict(body.params),
        tools=tools,
        tool_choice=choice,
        stream=body.stream,
    )


async def sse_lines(
    config: ModelConfig, request: ChatRequest, store: Any, *, offsets: bool
) -> AsyncGenerator[bytes, None]:
    """The run as SSE lines. With `offsets` (`?offsets=true`, off by default so the lines stay
    the original API's bytes) each delta also says when llmwb read the frame that carried it,
    in ms from t0 — the stamp the final metrics are computed from, for live figures."""
    events = run(config, request, RunOptions(store=store, wire_frames=offsets))
    frame_offset_ms: float | None = None
    try:
        async for event in events:
            if type(event) is WireFrame:  # comes just before the deltas its frame carried
                frame_offset_ms = event.offset_ms
            elif offsets and isinstance(event, DELTAS) and frame_offset_ms is not None:
                payload = {**(to_wire_dict(event) or {}), "offset_ms": round(frame_offset_ms, 3)}
                yield f"data: {_ENCODER.encode(payload)}\n\n".encode()
            elif isinstance(event, PROTOCOL_EVENTS):
                yield f"data: {to_json_line(event)}\n\n".encode()
        yield DONE_LINE
    finally:
        await events.aclose()


async def run_to_body(config: ModelConfig, request: ChatRequest, store: Any) -> dict[str, Any]:
    """The non-streamed answer: the final (or error) event flattened into one object."""
    events = run(config, request, RunOptions(store=store, wire_frames=False))
    try:
        async for event in events:
            if isinstance(event, Finished):
                return {"status": "ok", **event.final_response, "metrics": event.metrics, "run_id": event.run_id}
            if isinstance(event, Failed):
                failure = {"status": event.status, "error": event.error, "error_type": event.error_type}
                failure["http_status"] = event.http_status
                if event.retry_after is not None:
                    failure["retry_after"] = event.retry_after
                return {**failure, **event.partial_response, "metrics": event.metrics, "run_id": event.run_id}
    finally:
        await events.aclose()
    raise RuntimeError("the runner ended without a final event")  # its contract says this cannot happen


class ClientGone(Exception):
    """The client closed the connection before the answer was complete."""


class InFlight:
    """The runs this server has going. When it stops (Ctrl-C, SIGTERM) the server
    cancels its requests and then waits here, so each run is saved as cancelled
    before the event loop ends, instead of staying `running` forever."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Awaitable[T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def settle(self, timeout: float) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)


async def until_disconnect(receive: Receive, work: Awaitable[T], in_flight: InFlight) -> T:
    """Await `work`, cancelling it if the client disconnects first (then raise ClientGone).

    Plain asyncio cancellation (one CancelledError, not a cancel scope that re-fires
    on every await) so the runner's cleanup can save the run as cancelled."""
    task = in_flight.start(work)
    watcher = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise ClientGone()
    return task.result()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class EventStreamResponse(StreamingResponse):
    """`text/event-stream`, one body chunk per event as it comes, the run cancelled on hang-up.

    Starlette's own disconnect handling cancels through a cancel scope, which cancels
    every later await too, the runner's cleanup included; `until_disconnect` does not."""

    def __init__(self, lines: AsyncGenerator[bytes, None], in_flight: InFlight) -> None:
        super().__init__(lines, headers=SSE_HEADERS, media_type="text/event-stream")
        self._lines = lines
        self._in_flight = in_flight

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Callable[..., Awaitable[None]]) -> None:
        async def pump() -> None:
            try:
                await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
                async for line in self._lines:
                    await send({"type": "http.response.body", "body": line, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:  # a failed write must end the run now, not whenever the generator is collected
                await self._lines.aclose()

        try:
            await until_disconnect(receive, pump(), self._in_flight)
        except (ClientGone, OSError):  # gone mid-stream: nothing left to answer
            pass


def json_error(status: int, message: str, **extra: Any) -> Response:
    body = json.dumps({"error": message, "status": "error", **extra}, ensure_ascii=False, default=str)
    return Response(body, status_code=status, media_type="application/json")
