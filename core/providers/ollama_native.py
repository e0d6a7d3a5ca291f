"""Ollama's native API (`POST /api/chat`): NDJSON, one JSON object a line, the last
with `done: true`, the reason, token counts and the server's own durations.

No SDK speaks it here, so the request goes out on a plain httpx2 client built by
`core.providers.http.timed_http_client`: the same send/headers stamps (t0, TTFB,
retries) as the SDK adapters. The request side (params under `options`, tools,
tool results) is in `ollama_request`.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator, Sequence

import orjson

from core.events import DeltaEvent, ReasoningDelta, TextDelta, ToolCallDelta
from core.metrics import clock
from core.providers import base
from core.providers.base import Frame, ProviderError, SendLog, limits_of, require_text
from core.providers.bounds import before_deadline, read_capped, until_deadline
from core.providers.http import (
    load_sdk,
    map_sdk_error,
    map_transport_error,
    not_what_was_asked,
    status_error,
    timed_http_client,
)
from core.providers.ndjson import iter_ndjson
from core.providers.netstamp import arrival_clock
from core.providers.ollama_request import build_body, max_retries
from core.redact import scrubber
from core.request import ChatRequest
from core.response import ResponseBuilder
from core.server_timings import from_ollama

if TYPE_CHECKING:  # the table class loads SQLModel; `llmwb run` reads configs without it
    from core.store.models import ModelConfig

DEFAULT_BASE_URL = "http://localhost:11434"
# The SDKs' defaults, so an Ollama run waits and retries like every other run.
DEFAULT_TIMEOUT_S, DEFAULT_CONNECT_TIMEOUT_S = 600.0, 5.0
FIRST_RETRY_DELAY_S, MAX_RETRY_DELAY_S = 0.5, 8.0
_RETRY_STATUSES = {408, 409, 429}

_NO_EVENTS: tuple[DeltaEvent, ...] = ()


class OllamaChatDecoder:
    """Lines of /api/chat (or its one non-streamed object) into deltas.

    Tool calls arrive whole, their arguments as an object: each becomes one
    tool-call delta carrying the full arguments as JSON text. Ollama before 0.12
    sends no call ids; such calls are named `call_<n>` so a tool result can answer them."""

    def __init__(self, *, stream: bool) -> None:
        self.response = ResponseBuilder()
        self._stream = stream
        self._done = False
        self._calls = 0

    def feed(self, frame: Frame) -> Sequence[DeltaEvent]:
        data = frame.data
        if not data:
            return _NO_EVENTS
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise ProviderError(f"malformed chunk (not JSON): {data[:120]!r}", base.MALFORMED) from None
        if type(obj) is not dict:
            raise ProviderError(f"malformed chunk (not an object): {data[:120]!r}", base.MALFORMED)
        error = obj.get("error")
        if error:
            message = error if isinstance(error, str) else orjson.dumps(error).decode()
            raise ProviderError(f"provider error in response: {message}", base.PROVIDER_ERROR)
        try:
            return self._decode(obj)
        except (AttributeError, TypeError) as problem:  # valid JSON in a shape Ollama never sends
            raise ProviderError(f"malformed chunk ({problem}): {data[:120]!r}", base.MALFORMED) from None

    def _decode(self, obj: dict[str, Any]) -> list[DeltaEvent]:
        response = self.response
        if response.model is None and obj.get("model"):
            response.model = obj["model"]
        events: list[DeltaEvent] = []
        message = obj.get("message") or {}
        thinking = message.get("thinking")
        if thinking:
            require_text(thinking, "thinking")
            response.add_reasoning(thinking)
            events.append(ReasoningDelta(thinking))
        content = message.get("content")
        if content:
            require_text(content, "content")
            response.add_text(content)
            events.append(TextDelta(content))
        for call in message.get("tool_calls") or ():
            events.append(self._tool_call(call))
        if obj.get("done"):
            self._finish_line(obj)
        return events

    def _tool_call(self, call: dict[str, Any]) -> ToolCallDelta:
        function = call.get("function") or {}
        name = function.get("name")
        if name is not None:
            require_text(name, "tool call name")
        arguments = function.get("arguments")
        if isinstance(arguments, str):  # some Ollama-compatible servers send the JSON text
            text = arguments
        else:
            text = orjson.dumps({} if arguments is None else arguments).decode()
        slot = self._calls
        self._calls += 1
        call_id = call.get("id") or f"call_{slot}"
        require_text(call_id, "tool call id")
        self.response.add_tool_delta(slot, call_id, name, text)
        return ToolCallDelta(slot, call_id, name, text)

    def _finish_line(self, obj: dict[str, Any]) -> None:
        response = self.response
        self._done = True
        reason = obj.get("done_reason") or "stop"
        response.finish_reason = reason
        if self._calls and reason == "stop":
            # Ollama ends a tool-calling turn with "stop": the turn still waits on tool results.
            response.normalised_finish_reason = "tool_calls"
        if obj.get("eval_count") is not None:
            prompt = obj.get("prompt_eval_count") or 0
            completion = obj["eval_count"]
            response.usage = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "reasoning_tokens": 0,  # Ollama counts thinking inside eval_count
                "cached_tokens": 0,
            }
        timings = from_ollama(obj)
        if timings:
            response.extras["server_timings"] = timings

    def finish(self) -> None:
        if not self._done:
            what = "a line with done: true" if self._stream else "done: true"
            raise ProviderError(f"response ended before {what}: it is incomplete", base.STREAM_CUT)


class NdjsonExchange:
    """An httpx2 streaming response read as NDJSON lines stamped where the bytes arrive,
    within the run's caps and deadline, the environment's key values scrubbed from every frame."""

    def __init__(self, response: Any, *, stream: bool, send_log: SendLog, read_timeout: float | None) -> None:
        self._response = response
        self._stream = stream
        self.status_code: int = response.status_code
        self.request_id: str | None = response.headers.get("x-request-id")
        self._content_type: str = response.headers.get("content-type", "")
        self.send_log = send_log
        self.retries = send_log.retries
        self._read_timeout = read_timeout
        self._scrub = scrubber()

    async def frames(self) -> AsyncIterator[Frame]:
        limits = self.send_log.limits
        chunks: AsyncIterator[bytes] = self._response.aiter_bytes()
        arrived = arrival_clock(self._response, self.send_log.headers_at)  # kernel-stamped (core.providers.netstamp)
        if self.send_log.deadline_at is not None:
            chunks = until_deadline(chunks, self.send_log.deadline_at)
        scrub = self._scrub
        try:
            if "html" in self._content_type.lower():  # a proxy's or a portal's page, not Ollama
                page = (await read_capped(chunks, limits.max_response_bytes)).decode("utf-8", errors="replace")
                page = scrub(page) if scrub else page
                yield Frame(at=arrived(), raw=page, event=None, data="")  # kept for the wire view
                raise not_what_was_asked(self._content_type, page, "an NDJSON stream" if self._stream else "JSON")
            if self._stream:
                async for frame in iter_ndjson(chunks, limits, arrived):
                    if scrub and scrub(frame.raw) is not frame.raw:  # a key in it: rare
                        frame = Frame(frame.at, scrub(frame.raw), None, scrub(frame.data))
                    yield frame
            else:
                body = await read_capped(chunks, limits.max_response_bytes)
                text = body.decode("utf-8", errors="replace")
                if scrub:
                    text = scrub(text)
                yield Frame(at=arrived(), raw=text, event=None, data=text)
        except ProviderError:
            raise
        except Exception as exc:  # transport failures half-way through the body
            raise map_transport_error(exc, read_timeout=self._read_timeout) from exc


def _retry_delay(attempt: int, retry_after: str | None) -> float:
    if retry_after:
        try:
            wait = float(retry_after)
        except ValueError:
            wait = -1.0
        if 0 <= wait <= 60:
            return wait
    return min(FIRST_RETRY_DELAY_S * 2**attempt, MAX_RETRY_DELAY_S)


class OllamaNativeAdapter:
    def base_url(self, config: ModelConfig) -> str:
        return (config.effective_base_url() or DEFAULT_BASE_URL).rstrip("/")

    def endpoint(self, config: ModelConfig) -> str:
        return self.base_url(config) + "/api/chat"

    def request_body(self, config: ModelConfig, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return build_body(config, request, stream=stream)

    def decoder(self, request: ChatRequest, *, stream: bool) -> OllamaChatDecoder:
        return OllamaChatDecoder(stream=stream)

    @asynccontextmanager
    async def open(
        self, config: ModelConfig, request: ChatRequest, api_key: str | None, *, stream: bool
    ) -> AsyncIterator[NdjsonExchange]:
        httpx2 = await load_sdk("httpx2")  # the TLS context and transport imports, off the loop
        body = orjson.dumps(self.request_body(config, request, stream=stream))
        retries = max_retries(config, request)
        if config.timeout:
            timeout = httpx2.Timeout(config.timeout)
        else:
            timeout = httpx2.Timeout(DEFAULT_TIMEOUT_S, connect=DEFAULT_CONNECT_TIMEOUT_S)
        send_log = SendLog()
        send_log.limits = limits_of({**config.params, **request.params})
        send_log.deadline_at = clock() + send_log.limits.deadline_for(config.timeout)
        headers = {
            "content-type": "application/json",
            "accept": "application/x-ndjson" if stream else "application/json",
        }
        if api_key:  # Ollama's cloud and proxies in front of a local server take a bearer key
            headers["authorization"] = f"Bearer {api_key}"
        endpoint = self.endpoint(config)
        client = timed_http_client(None, timeout, send_log)
        try:
            response = await before_deadline(self._send(client, endpoint, body, headers, retries, send_log), send_log)
            try:
                yield NdjsonExchange(response, stream=stream, send_log=send_log, read_timeout=timeout.read)
            finally:
                await response.aclose()
        finally:
            await client.aclose()

    async def _send(
        self, client: Any, endpoint: str, body: bytes, headers: dict[str, str], retries: int, send_log: SendLog
    ) -> Any:
        """POST until a response that is not retried: 408/409/429/5xx and failed
        connections are retried `retries` times before the body starts, as the SDKs do."""
        import httpx2

        attempt = 0
        while True:
            try:
                response = await client.send(client.build_request("POST", endpoint, content=body, headers=headers), stream=True)
            except httpx2.ConnectError as exc:
                error = ProviderError(f"cannot connect to {endpoint}: {str(exc) or type(exc).__name__}", base.CONNECTION)
                error.send_log = send_log
                if attempt >= retries:
                    raise error from exc
            except Exception as exc:
                raise map_sdk_error(exc, endpoint, send_log=send_log) from exc
            else:
                if response.status_code < 300:  # a 3xx is never followed (the key stays home)
                    return response
                try:
                    await response.aread()
                except Exception:  # a body cut short still leaves the status to report
                    pass
                finally:
                    await response.aclose()
                error = status_error(response)
                error.send_log = send_log
                retryable = response.status_code in _RETRY_STATUSES or response.status_code >= 500
                if not retryable or attempt >= retries:
                    raise error
            await asyncio.sleep(_retry_delay(attempt, error.retry_after))
            attempt += 1
