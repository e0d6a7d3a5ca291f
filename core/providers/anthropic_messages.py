"""Anthropic Messages: text, thinking (signed), redacted thinking, tool_use, usage
with cache tokens, and `event: error` mid-stream. The request side is in
`anthropic_request`.

The SDK builds and sends the request; the frames are read raw, because the SDK's
own iterator drops `ping` events (the wire view shows them) and turns a
mid-stream error into an exception that loses the frames read so far.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator

from core.events import DeltaEvent, ReasoningDelta, TextDelta, ToolCallDelta
from core.providers import base
from core.providers.base import Frame, ProviderError, SendLog, load_json, optional_text, require_text
from core.providers.anthropic_request import build_body
from core.providers.bounds import before_deadline
from core.providers.http import SdkExchange, map_sdk_error, sdk_client
from core.providers.payload_errors import payload_error
from core.request import ChatRequest
from core.response import ResponseBuilder

if TYPE_CHECKING:  # the table class loads SQLModel; `llmwb run` reads configs without it
    from core.store.models import ModelConfig

DEFAULT_BASE_URL = "https://api.anthropic.com"

# --- response ----------------------------------------------------------------


def normalise_usage(raw: dict[str, Any]) -> dict[str, Any]:
    """The shared usage names, with Anthropic's own fields kept beside them."""
    cache_read = raw.get("cache_read_input_tokens") or 0
    cache_write = raw.get("cache_creation_input_tokens") or 0
    prompt = (raw.get("input_tokens") or 0) + cache_read + cache_write
    completion = raw.get("output_tokens")
    return {
        **raw,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + (completion or 0),
        "reasoning_tokens": 0,  # Anthropic counts thinking inside output_tokens, not apart
        "cached_tokens": cache_read,
    }


@dataclass
class _Block:
    kind: str  # text | thinking | redacted_thinking | tool_use | anything newer (ignored)
    tool_slot: int = -1
    thinking_parts: list[str] = field(default_factory=list)
    signature: str | None = None
    data: str | None = None


class AnthropicMessagesDecoder:
    def __init__(self, *, stream: bool) -> None:
        self.response = ResponseBuilder()
        self._stream = stream
        self._done = False
        self._blocks: dict[int, _Block] = {}
        self._tool_count = 0
        self._raw_usage: dict[str, Any] = {}

    def feed(self, frame: Frame) -> list[DeltaEvent]:
        data = frame.data
        if not data or frame.event in ("comment", "ping"):
            return []
        try:
            obj = load_json(data)
        except ValueError:
            if frame.event == "error":  # an error event is an error, whatever its body
                raise payload_error(data, streamed=self._stream) from None
            raise ProviderError(f"malformed chunk (not JSON): {data[:120]!r}", base.MALFORMED) from None
        if not isinstance(obj, dict):
            if frame.event == "error":
                raise payload_error(obj, streamed=self._stream)
            raise ProviderError(f"malformed chunk (not an object): {data[:120]!r}", base.MALFORMED)
        kind = obj.get("type")
        if kind == "error" or frame.event == "error":
            raise payload_error(obj.get("error", obj), streamed=self._stream)
        try:
            if not self._stream or kind == "message":  # some servers ignore `stream` and answer whole
                return self._decode_whole(obj)
            handler = _HANDLERS.get(kind)  # ping and event types newer than this code carry nothing we show
            return handler(self, obj) if handler else []
        except (AttributeError, TypeError) as error:  # valid JSON in a shape no server sends
            raise ProviderError(f"malformed chunk ({error}): {data[:120]!r}", base.MALFORMED) from None

    # streamed events -------------------------------------------------------
    def _message_start(self, obj: dict[str, Any]) -> list[DeltaEvent]:
        message = obj.get("message") or {}
        self.response.id = optional_text(message.get("id"), "message id")
        self.response.model = optional_text(message.get("model"), "model")
        self._merge_usage(message.get("usage"))
        return []

    def _block_start(self, obj: dict[str, Any]) -> list[DeltaEvent]:
        content = obj.get("content_block") or {}
        block = self._blocks[obj.get("index", 0)] = _Block(kind=content.get("type", ""))
        if block.kind == "tool_use":
            # Shown as soon as the model starts the call, before any argument arrives.
            block.tool_slot = self._tool_count
            self._tool_count += 1
            return self._tool_delta(block.tool_slot, content.get("id"), content.get("name"), "")
        if block.kind == "redacted_thinking":
            block.data = content.get("data", "")
        elif block.kind == "text" and content.get("text"):
            return self._text(content["text"])
        elif block.kind == "thinking" and content.get("thinking"):
            return self._thinking(block, content["thinking"])
        return []

    def _block_delta(self, obj: dict[str, Any]) -> list[DeltaEvent]:
        delta = obj.get("delta") or {}
        block = self._blocks.get(obj.get("index", 0))
        kind = delta.get("type")
        if kind == "text_delta":
            return self._text(delta.get("text", ""))
        if block is None:
            return []
        if kind == "thinking_delta":
            return self._thinking(block, delta.get("thinking", ""))
        if kind == "signature_delta":
            block.signature = (block.signature or "") + delta.get("signature", "")
        elif kind == "input_json_delta" and block.kind == "tool_use" and delta.get("partial_json"):
            require_text(delta["partial_json"], "partial_json")
            return self._tool_delta(block.tool_slot, None, None, delta["partial_json"])
        return []

    def _block_stop(self, obj: dict[str, Any]) -> list[DeltaEvent]:
        block = self._blocks.get(obj.get("index", 0))
        if block is not None:
            self._keep_thinking(block)
        return []

    def _message_delta(self, obj: dict[str, Any]) -> list[DeltaEvent]:
        delta = obj.get("delta") or {}
        if delta.get("stop_reason"):
            self.response.finish_reason = optional_text(delta["stop_reason"], "stop_reason")
        self._merge_usage(obj.get("usage"))
        return []

    def _message_stop(self, obj: dict[str, Any]) -> list[DeltaEvent]:
        self._done = True
        return []

    # building blocks -------------------------------------------------------
    def _text(self, text: str) -> list[DeltaEvent]:
        if not text:
            return []
        require_text(text, "text")
        self.response.add_text(text)
        return [TextDelta(text)]

    def _thinking(self, block: _Block, text: str) -> list[DeltaEvent]:
        if not text:
            return []
        require_text(text, "thinking")
        block.thinking_parts.append(text)
        self.response.add_reasoning(text)
        return [ReasoningDelta(text)]

    def _tool_delta(self, slot: int, call_id: str | None, name: str | None, arguments: str) -> list[DeltaEvent]:
        self.response.add_tool_delta(slot, call_id, name, arguments)
        return [ToolCallDelta(slot, call_id, name, arguments)]

    def _keep_thinking(self, block: _Block) -> None:
        """A finished thinking block, kept so a follow-up turn can send it back verbatim."""
        if block.kind == "thinking":
            entry: dict[str, Any] = {"thinking": "".join(block.thinking_parts), "signature": block.signature}
        elif block.kind == "redacted_thinking":
            entry = {"redacted_data": block.data}
        else:
            return
        self.response.extras.setdefault("thinking_blocks", []).append(entry)

    def _merge_usage(self, usage: Any) -> None:
        # message_delta's counts are cumulative: each one overrides what came before.
        if usage is None or usage == {}:
            return
        if isinstance(usage, dict):
            self._raw_usage.update({k: v for k, v in usage.items() if v is not None})
            usage = self._raw_usage
        self.response.set_usage(usage, normalise_usage)  # a bad count is noted, not fatal

    # a whole (non-streamed) message ----------------------------------------
    def _decode_whole(self, obj: dict[str, Any]) -> list[DeltaEvent]:
        self._done = True
        if obj.get("type") != "message" and "content" not in obj:
            raise ProviderError(f"response is not a message: {str(obj)[:120]!r}", base.MALFORMED)
        self._message_start({"message": obj})
        events: list[DeltaEvent] = []
        for content in obj.get("content") or ():
            block = _Block(kind=content.get("type", ""))
            if block.kind == "text":
                events += self._text(content.get("text", ""))
            elif block.kind == "thinking":
                events += self._thinking(block, content.get("thinking", ""))
                block.signature = content.get("signature")
            elif block.kind == "redacted_thinking":
                block.data = content.get("data", "")
            elif block.kind == "tool_use":
                # json's default separators are the ones Anthropic's streamed input uses, so the
                # raw arguments of a streamed and a non-streamed run compare equal.
                arguments = json.dumps(content.get("input") or {}, ensure_ascii=False)
                events += self._tool_delta(self._tool_count, content.get("id"), content.get("name"), arguments)
                self._tool_count += 1
            self._keep_thinking(block)
        self.response.finish_reason = optional_text(obj.get("stop_reason"), "stop_reason")
        return events

    def finish(self) -> None:
        if self._stream and not self._done:
            raise ProviderError("stream ended before message_stop: the connection was cut", base.STREAM_CUT)


_HANDLERS = {
    "message_start": AnthropicMessagesDecoder._message_start,
    "content_block_start": AnthropicMessagesDecoder._block_start,
    "content_block_delta": AnthropicMessagesDecoder._block_delta,
    "content_block_stop": AnthropicMessagesDecoder._block_stop,
    "message_delta": AnthropicMessagesDecoder._message_delta,
    "message_stop": AnthropicMessagesDecoder._message_stop,
}


# --- adapter -----------------------------------------------------------------


class AnthropicMessagesAdapter:
    """Builds the request with the `anthropic` SDK; reads the frames itself."""

    def base_url(self, config: ModelConfig) -> str:
        url = (config.effective_base_url() or DEFAULT_BASE_URL).rstrip("/")
        # The SDK appends /v1/messages itself; a base URL copied with /v1 on the end would double it.
        return url[: -len("/v1")] if url.endswith("/v1") else url

    def endpoint(self, config: ModelConfig) -> str:
        return self.base_url(config) + "/v1/messages"

    def request_body(self, config: ModelConfig, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return build_body(config, request, stream=stream)

    def decoder(self, request: ChatRequest, *, stream: bool) -> AnthropicMessagesDecoder:
        return AnthropicMessagesDecoder(stream=stream)

    @asynccontextmanager
    async def open(
        self, config: ModelConfig, request: ChatRequest, api_key: str | None, *, stream: bool
    ) -> AsyncIterator[SdkExchange]:
        body = self.request_body(config, request, stream=stream)
        send_log = SendLog()
        client = await sdk_client(
            "anthropic", "anthropic.resources.messages", "AsyncAnthropic",
            config=config, params={**config.params, **request.params}, api_key=api_key,
            base_url=self.base_url(config), send_log=send_log,
        )  # fmt: skip
        try:
            known = {"model", "max_tokens", "messages", "stream"}
            manager = client.messages.with_streaming_response.create(
                model=body["model"],
                max_tokens=body["max_tokens"],
                messages=body["messages"],
                stream=body["stream"],
                extra_body={k: v for k, v in body.items() if k not in known},
            )
            try:
                response = await before_deadline(manager.__aenter__(), send_log)
            except ValueError as exc:  # the SDK refuses long non-streamed calls before sending
                raise ProviderError(str(exc), base.BAD_REQUEST) from exc
            except Exception as exc:
                raise map_sdk_error(exc, self.endpoint(config), send_log=send_log) from exc
            try:
                yield SdkExchange(response, stream=stream, send_log=send_log)
            finally:
                await manager.__aexit__(None, None, None)
        finally:
            await client.close()
