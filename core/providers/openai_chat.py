"""OpenAI chat completions, for OpenAI and every server that speaks it (DeepSeek,
OpenRouter, Groq, vLLM, LM Studio, Ollama's /v1, llama.cpp's llama-server)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator, Sequence

from core.events import DeltaEvent, ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta
from core.providers import base
from core.providers.base import Frame, ProviderError, SendLog, load_json, optional_text, require_text
from core.providers.bounds import before_deadline
from core.providers.http import SdkExchange, map_sdk_error, sdk_client
from core.providers.payload_errors import payload_error
from core.request import ChatRequest, Message, ToolSpec
from core.response import ResponseBuilder
from core.server_timings import from_llamacpp

if TYPE_CHECKING:  # the table class loads SQLModel; `llmwb run` reads configs without it
    from core.store.models import ModelConfig

# Config params that configure the client (or llmwb's caps) rather than go in the request body.
CLIENT_OPTIONS = base.CLIENT_OPTIONS
DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _message_to_openai(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls
        ]
    return out


def tools_to_openai(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


def tool_choice_to_openai(choice: str | None) -> Any:
    if choice in (None, ""):
        return None
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def normalise_usage(raw: dict[str, Any]) -> dict[str, Any]:
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    cached = prompt_details.get("cached_tokens") or raw.get("prompt_cache_hit_tokens") or 0
    return {
        "prompt_tokens": raw.get("prompt_tokens") or 0,
        "completion_tokens": raw.get("completion_tokens"),
        "total_tokens": raw.get("total_tokens"),
        "reasoning_tokens": completion_details.get("reasoning_tokens") or 0,
        "cached_tokens": cached,
    }


_NO_EVENTS: tuple[DeltaEvent, ...] = ()  # what a frame without content yields


def _thinking_texts(thinking: Any) -> list[str]:
    """The text of a `thinking` part: a list of text parts, or (some servers) a string."""
    if isinstance(thinking, str):
        return [thinking] if thinking else []
    texts = []
    for piece in thinking or ():
        text = piece.get("text") if isinstance(piece, dict) else piece
        if text:
            require_text(text, "thinking text")
            texts.append(text)
    return texts


class OpenAIChatDecoder:
    def __init__(self, *, stream: bool) -> None:
        self.response = ResponseBuilder()
        self._stream = stream
        self._done = False
        self._ids_pending = True  # id and model are read off the first chunks that carry them
        # Ollama reuses index 0 for every call: a new id on a used index opens a new slot.
        self._slot_ids: dict[int, str] = {}
        self._slot_for_index: dict[int, int] = {}

    def _tool_slot(self, index: int, call_id: str | None) -> int:
        slot = self._slot_for_index.get(index, index)
        if call_id:
            known = self._slot_ids.get(slot)
            if known is not None and known != call_id:
                slot = max(self.response.tool_calls) + 1
                self._slot_for_index[index] = slot
            self._slot_ids[slot] = call_id
        return slot

    def feed(self, frame: Frame) -> Sequence[DeltaEvent]:
        data = frame.data
        if not data or frame.event == "comment":
            return _NO_EVENTS
        if data == "[DONE]":
            self._done = True
            return _NO_EVENTS
        try:
            obj = load_json(data)
        except ValueError:
            if frame.event == "error":  # an error event is an error, whatever its body
                raise payload_error(data, streamed=self._stream) from None
            raise ProviderError(f"malformed chunk (not JSON): {data[:120]!r}", base.MALFORMED) from None
        if type(obj) is not dict:
            if frame.event == "error":
                raise payload_error(obj, streamed=self._stream)
            raise ProviderError(f"malformed chunk (not an object): {data[:120]!r}", base.MALFORMED)
        if "error" in obj and obj["error"]:
            try:  # OpenRouter's error chunk still carries the usage so far: keep it
                self._note_envelope(obj)
            except (AttributeError, TypeError):
                pass
            raise payload_error(obj["error"], streamed=self._stream)
        if frame.event == "error":  # `event: error` whose body is the error itself
            raise payload_error(obj, streamed=self._stream)
        try:
            if not self._stream:
                return self._decode_whole(obj)
            return self._decode_chunk(obj)
        except (AttributeError, TypeError) as error:  # valid JSON in a shape no server sends
            raise ProviderError(f"malformed chunk ({error}): {data[:120]!r}", base.MALFORMED) from None

    def _note_envelope(self, obj: dict[str, Any]) -> None:
        response = self.response
        if self._ids_pending:
            if response.id is None and obj.get("id"):
                response.id = optional_text(obj["id"], "id")
            if response.model is None and obj.get("model"):
                response.model = optional_text(obj["model"], "model")
            self._ids_pending = response.id is None or response.model is None
        usage = obj.get("usage")
        if not usage and "x_groq" in obj:  # Groq's streamed usage sits in its own envelope
            x_groq = obj["x_groq"]
            usage = x_groq.get("usage") if type(x_groq) is dict else None
        if usage:
            response.set_usage(usage, normalise_usage)  # a bad count is noted, not fatal
        if "timings" in obj:  # llama.cpp's own speed figures, kept for comparison
            response.extras["timings"] = obj["timings"]
            server_timings = from_llamacpp(obj["timings"])
            if server_timings:
                response.extras["server_timings"] = server_timings

    def _decode_chunk(self, obj: dict[str, Any]) -> Sequence[DeltaEvent]:
        # The hot path: one call per streamed chunk. Most chunks carry one short delta.
        self._note_envelope(obj)
        choices = obj.get("choices")
        if not choices:  # the usage chunk: [] or null
            return _NO_EVENTS
        events: list[DeltaEvent] = []
        response = self.response
        for choice in choices:
            if choice.get("index"):  # n > 1: the first choice is the answer shown
                continue
            delta = choice.get("delta")
            if delta is None:
                if "message" in choice:  # a whole completion where a stream was asked for
                    return self._decode_whole(obj, noted=True)
                continue
            content = delta.get("content")
            if content:
                if type(content) is list:
                    events.extend(self._content_parts(content))
                else:
                    require_text(content, "content")
                    response.content_parts.append(content)
                    events.append(TextDelta(content))
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                require_text(reasoning, "reasoning")
                response.reasoning_parts.append(reasoning)
                events.insert(0, ReasoningDelta(reasoning))  # reasoning precedes text in a chunk
            refusal = delta.get("refusal")
            if refusal:
                require_text(refusal, "refusal")
                response.add_refusal(refusal)
                events.append(RefusalDelta(refusal))
            tool_calls = delta.get("tool_calls")
            if tool_calls:
                for call in tool_calls:
                    function = call.get("function") or {}
                    call_id = call.get("id")
                    slot = self._tool_slot(call.get("index") or 0, call_id)
                    arguments = function.get("arguments") or ""
                    require_text(arguments, "tool call arguments")
                    name = function.get("name")
                    response.add_tool_delta(slot, call_id, name, arguments)
                    events.append(ToolCallDelta(slot, call_id, name, arguments))
            finish_reason = choice.get("finish_reason")
            if finish_reason:
                response.finish_reason = optional_text(finish_reason, "finish_reason")
        return events

    def _decode_whole(self, obj: dict[str, Any], *, noted: bool = False) -> list[DeltaEvent]:
        if not noted:
            self._note_envelope(obj)
        self._done = True
        events: list[DeltaEvent] = []
        choices = obj.get("choices") or []
        if not choices:
            raise ProviderError("response has no choices", base.MALFORMED)
        choice = choices[0]
        message = choice.get("message") or {}
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning:
            require_text(reasoning, "reasoning")
            self.response.add_reasoning(reasoning)
            events.append(ReasoningDelta(reasoning))
        content = message.get("content")
        if content:
            if type(content) is list:
                events.extend(self._content_parts(content))
            else:
                require_text(content, "content")
                self.response.add_text(content)
                events.append(TextDelta(content))
        if message.get("refusal"):
            require_text(message["refusal"], "refusal")
            self.response.add_refusal(message["refusal"])
            events.append(RefusalDelta(message["refusal"]))
        for index, call in enumerate(message.get("tool_calls") or ()):
            function = call.get("function") or {}
            arguments = function.get("arguments") or ""
            require_text(arguments, "tool call arguments")
            self.response.add_tool_delta(index, call.get("id"), function.get("name"), arguments)
            events.append(ToolCallDelta(index, call.get("id"), function.get("name"), arguments))
        self.response.finish_reason = optional_text(choice.get("finish_reason"), "finish_reason")
        return events

    def _content_parts(self, parts: list[Any]) -> list[DeltaEvent]:
        """`content` as a list of parts (Mistral's reasoning models): `thinking` parts
        (themselves a list of text parts) are reasoning, `text` parts the answer."""
        events: list[DeltaEvent] = []
        for part in parts:
            if isinstance(part, str):  # a bare string part is text
                part = {"type": "text", "text": part}
            kind = part.get("type")
            if kind == "thinking":
                for piece in _thinking_texts(part.get("thinking")):
                    self.response.add_reasoning(piece)
                    events.append(ReasoningDelta(piece))
            elif kind in ("text", None) and part.get("text"):
                require_text(part["text"], "text part")
                self.response.add_text(part["text"])
                events.append(TextDelta(part["text"]))
            # other part kinds (references, images) carry nothing shown as text
        return events

    def finish(self) -> None:
        # Some servers end without `[DONE]`; a finish_reason already says the answer is whole.
        if self._stream and not self._done and self.response.finish_reason is None:
            raise ProviderError("stream ended before [DONE] and before a finish_reason: the response is incomplete", base.STREAM_CUT)


class OpenAIChatAdapter:
    """Builds the request with the `openai` SDK; reads the frames itself."""

    def endpoint(self, config: ModelConfig) -> str:
        return (self.base_url(config)).rstrip("/") + "/chat/completions"

    def base_url(self, config: ModelConfig) -> str:
        return config.effective_base_url() or DEFAULT_BASE_URL

    def request_body(
        self, config: ModelConfig, request: ChatRequest, *, stream: bool, include_usage: bool = True
    ) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend(_message_to_openai(m) for m in request.messages)
        body: dict[str, Any] = {"model": config.model, "messages": messages}
        params = {**config.params, **request.params}
        body.update({k: v for k, v in params.items() if k not in CLIENT_OPTIONS})
        if request.tools:
            body["tools"] = tools_to_openai(request.tools)
            choice = tool_choice_to_openai(request.tool_choice)
            if choice is not None:
                body["tool_choice"] = choice
        body["stream"] = stream
        if stream and include_usage:
            body["stream_options"] = {**body.get("stream_options", {}), "include_usage": True}
        return body

    def decoder(self, request: ChatRequest, *, stream: bool) -> OpenAIChatDecoder:
        return OpenAIChatDecoder(stream=stream)

    @asynccontextmanager
    async def open(
        self, config: ModelConfig, request: ChatRequest, api_key: str | None, *, stream: bool
    ) -> AsyncIterator[SdkExchange]:
        send_log = SendLog()
        client = await sdk_client(
            "openai", "openai.resources.chat", "AsyncOpenAI",
            config=config, params={**config.params, **request.params}, api_key=api_key,
            base_url=self.base_url(config), send_log=send_log,
        )  # fmt: skip
        endpoint = self.endpoint(config)
        try:
            body = self.request_body(config, request, stream=stream)
            try:
                manager, response = await self._send(client, body, endpoint, send_log)
            except ProviderError as error:
                if not (stream and rejects_stream_options(error)):
                    raise
                # The server refused `stream_options`: same call without it; usage is
                # then estimated (and marked so). Counted as a retry.
                body = self.request_body(config, request, stream=stream, include_usage=False)
                manager, response = await self._send(client, body, endpoint, send_log)
            try:
                yield SdkExchange(response, stream=stream, send_log=send_log)
            finally:
                await manager.__aexit__(None, None, None)
        finally:
            await client.close()

    async def _send(self, client: Any, body: dict[str, Any], endpoint: str, send_log: SendLog) -> tuple[Any, Any]:
        known = {"model", "messages", "stream"}
        extra = {k: v for k, v in body.items() if k not in known}
        manager = client.chat.completions.with_streaming_response.create(
            model=body["model"], messages=body["messages"], stream=body["stream"], extra_body=extra
        )
        try:
            return manager, await before_deadline(manager.__aenter__(), send_log)
        except Exception as exc:
            raise map_sdk_error(exc, endpoint, send_log=send_log) from exc


def rejects_stream_options(error: ProviderError) -> bool:
    """A 400/422 whose message names the option (servers word it variously)."""
    text = error.message.lower()
    return error.http_status in (400, 422) and ("stream_options" in text or "include_usage" in text)
