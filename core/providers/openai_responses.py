"""OpenAI's Responses API (`POST /v1/responses`), also served by DeepSeek, Qwen,
OpenRouter, Ollama, vLLM and LM Studio. The request side is in `openai_responses_request`.

The stream is semantic events (`event: response.output_text.delta` …), each with a
`type` and a `sequence_number`, and no `[DONE]`: it ends with `response.completed`,
`response.incomplete` or `response.failed` (or an `error` event). The SDK builds and
sends the request; the frames are read raw, as for chat completions (the SDK's
per-event model building is the slow part of the hot path).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Sequence

import orjson

from core.events import DeltaEvent, ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta
from core.providers import base
from core.providers.base import Frame, ProviderError, SendLog, require_text
from core.providers.bounds import before_deadline
from core.providers.http import SdkExchange, map_sdk_error, sdk_client
from core.providers.openai_responses_request import build_body
from core.providers.payload_errors import payload_error
from core.request import ChatRequest
from core.response import ResponseBuilder

if TYPE_CHECKING:  # the table class loads SQLModel; `llmwb run` reads configs without it
    from core.store.models import ModelConfig

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_NO_EVENTS: tuple[DeltaEvent, ...] = ()  # shared: never appended to
# Lifecycle events that carry the response object (id, model) but no content.
_LIFECYCLE = ("response.created", "response.in_progress", "response.queued")


def normalise_usage(raw: dict[str, Any]) -> dict[str, Any]:
    """The shared usage names, with the Responses API's own fields kept beside them."""
    input_details = raw.get("input_tokens_details") or {}
    output_details = raw.get("output_tokens_details") or {}
    prompt, completion = raw.get("input_tokens") or 0, raw.get("output_tokens")
    return {
        **raw,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": raw.get("total_tokens") or prompt + (completion or 0),
        "reasoning_tokens": output_details.get("reasoning_tokens") or 0,
        "cached_tokens": input_details.get("cached_tokens") or 0,
    }


class OpenAIResponsesDecoder:
    def __init__(self, *, stream: bool) -> None:
        self.response = ResponseBuilder()
        self._stream = stream
        self._done = False
        # Function calls are output items: their slot by output_index (and by item id,
        # for servers that leave the index out), and whether arguments arrived as deltas.
        self._slots: dict[tuple[str, Any], int] = {}
        self._calls = 0
        self._streamed_args: set[int] = set()
        self._summary_break = False  # a new summary part starts: separate it from the last

    # --- frames -------------------------------------------------------------------

    def feed(self, frame: Frame) -> Sequence[DeltaEvent]:
        data = frame.data
        if not data or frame.event == "comment":
            return _NO_EVENTS
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise ProviderError(f"malformed chunk (not JSON): {data[:120]!r}", base.MALFORMED) from None
        if type(obj) is not dict:
            raise ProviderError(f"malformed chunk (not an object): {data[:120]!r}", base.MALFORMED)
        kind = obj.get("type") or frame.event
        try:
            if kind == "error" or frame.event == "error":
                raise self._error_event(obj)
            # A whole response: asked for, or a server that ignored `stream`.
            if not self._stream or (kind is None and obj.get("object") == "response"):
                return self._decode_whole(obj)
            handler = _HANDLERS.get(kind)  # events newer than this code carry nothing we show
            return handler(self, obj) if handler else _NO_EVENTS
        except (AttributeError, TypeError) as error:  # valid JSON in a shape no server sends
            raise ProviderError(f"malformed chunk ({error}): {data[:120]!r}", base.MALFORMED) from None

    def _lifecycle(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        self._note_response(obj.get("response") or {})
        return _NO_EVENTS

    def _text_delta(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        delta = obj.get("delta")
        if not delta:
            return _NO_EVENTS
        require_text(delta, "output_text delta")
        self.response.add_text(delta)
        return [TextDelta(delta)]

    def _refusal_delta(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        delta = obj.get("delta")
        if not delta:
            return _NO_EVENTS
        require_text(delta, "refusal delta")
        self.response.add_refusal(delta)
        return [RefusalDelta(delta)]

    def _reasoning_delta(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        delta = obj.get("delta")
        if not delta:
            return _NO_EVENTS
        require_text(delta, "reasoning delta")
        if self._summary_break:
            self._summary_break = False
            if self.response.reasoning_parts:
                delta = "\n\n" + delta
        self.response.add_reasoning(delta)
        return [ReasoningDelta(delta)]

    def _summary_part_added(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        self._summary_break = True
        return _NO_EVENTS

    def _item_added(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        item = obj.get("item") or {}
        if item.get("type") != "function_call":
            return _NO_EVENTS
        # Shown as soon as the model starts the call, named, before any argument arrives.
        slot = self._calls
        self._calls += 1
        self._slots[("index", obj.get("output_index"))] = slot
        if item.get("id"):
            self._slots[("item", item["id"])] = slot
        arguments = item.get("arguments") or ""
        require_text(arguments, "function_call arguments")
        if arguments:
            self._streamed_args.add(slot)
        return self._tool_delta(slot, item.get("call_id"), item.get("name"), arguments)

    def _arguments_delta(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        delta = obj.get("delta")
        slot = self._slot_of(obj)
        if not delta or slot is None:
            return _NO_EVENTS
        require_text(delta, "function_call_arguments delta")
        self._streamed_args.add(slot)
        return self._tool_delta(slot, None, None, delta)

    def _item_done(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        # Some servers send a call's arguments only whole, when the item is done.
        item = obj.get("item") or {}
        if item.get("type") != "function_call":
            return _NO_EVENTS
        slot = self._slot_of(obj, item.get("id"))
        if slot is None:  # done without added: the whole call at once
            return self._item_added(obj)
        arguments = item.get("arguments") or ""
        if slot in self._streamed_args or not arguments:
            return _NO_EVENTS
        require_text(arguments, "function_call arguments")
        self._streamed_args.add(slot)
        return self._tool_delta(slot, item.get("call_id"), item.get("name"), arguments)

    def _completed(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        self._done = True
        self._note_response(obj.get("response") or {})
        self.response.finish_reason = "tool_calls" if self.response.tool_calls else "stop"
        return _NO_EVENTS

    def _incomplete(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        self._done = True
        response = obj.get("response") or {}
        self._note_response(response)
        details = response.get("incomplete_details") or {}
        self.response.finish_reason = details.get("reason") or "length"
        return _NO_EVENTS

    def _failed(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        self._done = True
        response = obj.get("response") or {}
        self._note_response(response)
        raise payload_error(response.get("error") or {"message": "the response failed"}, streamed=self._stream)

    # --- helpers ---------------------------------------------------------------------

    def _error_event(self, obj: dict[str, Any]) -> ProviderError:
        # The `error` event has code/message at its top level; some servers nest an `error`.
        error = obj.get("error")
        if not isinstance(error, dict):
            error = {key: obj[key] for key in ("message", "code", "param") if obj.get(key) is not None}
        return payload_error(error or obj, streamed=self._stream)

    def _slot_of(self, obj: dict[str, Any], item_id: Any = None) -> int | None:
        slot = self._slots.get(("index", obj.get("output_index")))
        if slot is None:
            slot = self._slots.get(("item", item_id or obj.get("item_id")))
        return slot

    def _tool_delta(self, slot: int, call_id: str | None, name: str | None, arguments: str) -> Sequence[DeltaEvent]:
        self.response.add_tool_delta(slot, call_id, name, arguments)
        return [ToolCallDelta(slot, call_id, name, arguments)]

    def _note_response(self, response: dict[str, Any]) -> None:
        built = self.response
        if built.id is None and response.get("id"):
            built.id = response["id"]
        if built.model is None and response.get("model"):
            built.model = response["model"]
        if response.get("usage"):
            built.usage = normalise_usage(response["usage"])

    # --- a whole (non-streamed) response ------------------------------------------

    def _decode_whole(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        self._done = True
        if obj.get("status") == "failed" or obj.get("error"):
            self._note_response(obj)
            raise payload_error(obj.get("error") or {"message": "the response failed"}, streamed=False)
        if "output" not in obj and obj.get("object") != "response":
            raise ProviderError(f"response is not a Responses API response: {str(obj)[:120]!r}", base.MALFORMED)
        self._note_response(obj)
        events: list[DeltaEvent] = []
        for item in obj.get("output") or ():
            events += _WHOLE_ITEMS.get(item.get("type"), _nothing)(self, item)
        if obj.get("status") == "incomplete":
            self.response.finish_reason = (obj.get("incomplete_details") or {}).get("reason") or "length"
        else:
            self.response.finish_reason = "tool_calls" if self.response.tool_calls else "stop"
        return events

    def _whole_reasoning(self, item: dict[str, Any]) -> Sequence[DeltaEvent]:
        # Summaries (OpenAI) or the reasoning text itself (open-weight models on vLLM, Ollama).
        parts = [part.get("text") for part in (item.get("summary") or ())]
        if not any(parts):
            parts = [part.get("text") for part in (item.get("content") or ())]
        text = "\n\n".join(part for part in parts if part)
        if not text:
            return _NO_EVENTS
        require_text(text, "reasoning")
        self.response.add_reasoning(text)
        return [ReasoningDelta(text)]

    def _whole_message(self, item: dict[str, Any]) -> Sequence[DeltaEvent]:
        events: list[DeltaEvent] = []
        for part in item.get("content") or ():
            if part.get("type") == "output_text" and part.get("text"):
                events += self._text_delta({"delta": part["text"]})
            elif part.get("type") == "refusal" and part.get("refusal"):
                events += self._refusal_delta({"delta": part["refusal"]})
        return events

    def _whole_call(self, item: dict[str, Any]) -> Sequence[DeltaEvent]:
        arguments = item.get("arguments") or ""
        require_text(arguments, "function_call arguments")
        slot = len(self.response.tool_calls)
        return self._tool_delta(slot, item.get("call_id"), item.get("name"), arguments)

    def finish(self) -> None:
        if self._stream and not self._done:
            raise ProviderError(
                "stream ended before response.completed: the connection was cut", base.STREAM_CUT
            )


def _nothing(_decoder: OpenAIResponsesDecoder, _item: dict[str, Any]) -> Sequence[DeltaEvent]:
    return _NO_EVENTS  # output item kinds that show nothing here (web search calls, images …)


_Handler = Callable[[OpenAIResponsesDecoder, dict[str, Any]], Sequence[DeltaEvent]]
_HANDLERS: dict[str, _Handler] = {
    **{kind: OpenAIResponsesDecoder._lifecycle for kind in _LIFECYCLE},
    "response.output_text.delta": OpenAIResponsesDecoder._text_delta,
    "response.refusal.delta": OpenAIResponsesDecoder._refusal_delta,
    "response.reasoning_summary_text.delta": OpenAIResponsesDecoder._reasoning_delta,
    "response.reasoning_text.delta": OpenAIResponsesDecoder._reasoning_delta,
    "response.reasoning_summary_part.added": OpenAIResponsesDecoder._summary_part_added,
    "response.output_item.added": OpenAIResponsesDecoder._item_added,
    "response.function_call_arguments.delta": OpenAIResponsesDecoder._arguments_delta,
    "response.output_item.done": OpenAIResponsesDecoder._item_done,
    "response.completed": OpenAIResponsesDecoder._completed,
    "response.incomplete": OpenAIResponsesDecoder._incomplete,
    "response.failed": OpenAIResponsesDecoder._failed,
}
_WHOLE_ITEMS: dict[str, _Handler] = {
    "reasoning": OpenAIResponsesDecoder._whole_reasoning,
    "message": OpenAIResponsesDecoder._whole_message,
    "function_call": OpenAIResponsesDecoder._whole_call,
}


class OpenAIResponsesAdapter:
    """Builds the request with the `openai` SDK (`responses.with_streaming_response`);
    reads the frames itself."""

    def base_url(self, config: ModelConfig) -> str:
        return config.effective_base_url() or DEFAULT_BASE_URL

    def endpoint(self, config: ModelConfig) -> str:
        return self.base_url(config).rstrip("/") + "/responses"

    def request_body(self, config: ModelConfig, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return build_body(config, request, stream=stream)

    def decoder(self, request: ChatRequest, *, stream: bool) -> OpenAIResponsesDecoder:
        return OpenAIResponsesDecoder(stream=stream)

    @asynccontextmanager
    async def open(
        self, config: ModelConfig, request: ChatRequest, api_key: str | None, *, stream: bool
    ) -> AsyncIterator[SdkExchange]:
        body = self.request_body(config, request, stream=stream)
        send_log = SendLog()
        client = await sdk_client(
            "openai", "openai.resources.responses", "AsyncOpenAI",
            config=config, params={**config.params, **request.params}, api_key=api_key,
            base_url=self.base_url(config), send_log=send_log,
        )  # fmt: skip
        try:
            known = {"model", "input", "stream"}
            manager = client.responses.with_streaming_response.create(
                model=body["model"],
                input=body["input"],
                stream=body["stream"],
                extra_body={k: v for k, v in body.items() if k not in known},
            )
            try:
                response = await before_deadline(manager.__aenter__(), send_log)
            except Exception as exc:
                raise map_sdk_error(exc, self.endpoint(config), send_log=send_log) from exc
            try:
                yield SdkExchange(response, stream=stream, send_log=send_log)
            finally:
                await manager.__aexit__(None, None, None)
        finally:
            await client.close()
