"""What a recorded response says, read by the providers' official SDKs (plain JSON where no
SDK speaks the protocol), in one shape llmwb's result is compared against.

Each reader points its SDK at the loopback server replaying the recording and accumulates
the answer the way an SDK user would: chunks for a stream, the parsed object otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from recorded_corpus import Recording

# The SDKs' exception classes for HTTP statuses, as llmwb's error_type words.
_ERROR_TYPES = {
    "AuthenticationError": "auth",
    "PermissionDeniedError": "auth",
    "NotFoundError": "not_found",
    "RateLimitError": "rate_limit",
    "BadRequestError": "bad_request",
    "UnprocessableEntityError": "bad_request",
    "ConflictError": "bad_request",
    "OverloadedError": "overloaded",
    "InternalServerError": "server_error",
}


@dataclass
class Answer:
    """One response, reduced to what a user reads off it."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[tuple[str | None, str | None, Any]] = field(default_factory=list)  # id, name, arguments
    finish_reason: str | None = None  # the provider's own word, when the protocol has one
    finish: str | None = None  # the normalised word, where the protocol has no own word to compare
    prompt_tokens: int | None = None  # None: the provider reported no usage
    completion_tokens: int | None = None
    error_status: int | None = None  # an HTTP error status, or None (a mid-stream error keeps the 200)
    error_type: str | None = None
    error_text: tuple[str, ...] = ()  # fragments the error message must show
    failed: bool = False


def arguments_value(raw: Any) -> Any:
    """Tool arguments as an object when they are JSON, else as sent."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return raw


def _error_fragments(body: Any, message: str | None) -> tuple[str, ...]:
    """The provider's message, and the upstream cause OpenRouter puts in `metadata.raw`."""
    fragments = []
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        if isinstance(error.get("message"), str):
            fragments.append(error["message"])
        raw = (error.get("metadata") or {}).get("raw") if isinstance(error.get("metadata"), dict) else None
        if isinstance(raw, str):
            fragments.append(raw)
    elif isinstance(error, str):
        fragments.append(error)
    if not fragments and message:
        fragments.append(message)
    return tuple(" ".join(f.split()) for f in fragments)  # llmwb shows errors on one line


def _status_failure(answer: Answer, exc: Any) -> Answer:
    answer.failed = True
    answer.error_status = exc.status_code
    answer.error_type = _ERROR_TYPES.get(type(exc).__name__)
    answer.error_text = _error_fragments(exc.body, exc.message)
    return answer


def _midstream_failure(answer: Answer, exc: Any) -> Answer:
    answer.failed = True
    answer.error_text = _error_fragments({"error": exc.body}, exc.message)
    return answer


# --- OpenAI chat completions (and every server that speaks it) ----------------------


def _parts_text(content: Any, want: str) -> str:
    """Text out of `content`: a string, or a list of parts (Mistral's reasoning models send
    `[{"type": "thinking", "thinking": [{"text": …}]}, {"type": "text", "text": …}]`)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content if want == "text" else ""
    out = []
    for part in content:
        kind = part.get("type")
        if want == "text" and kind == "text":
            out.append(part.get("text") or "")
        elif want == "thinking" and kind == "thinking":
            inner = part.get("thinking")
            out.extend(p.get("text") or "" for p in inner) if isinstance(inner, list) else out.append(inner or "")
    return "".join(out)


def _reasoning_of(extra: dict[str, Any]) -> str:
    return extra.get("reasoning_content") or extra.get("reasoning") or ""


def _usage_into(answer: Answer, usage: Any) -> None:
    if usage is None:
        return
    usage = usage if isinstance(usage, dict) else usage.model_dump()
    if usage.get("completion_tokens") is not None:
        answer.prompt_tokens = usage.get("prompt_tokens")
        answer.completion_tokens = usage["completion_tokens"]


def _loopback_http_client(sdk: Any) -> Any:
    """The SDK's own default HTTP client (its timeouts, limits, redirects), without the
    trust store: the replay is plain http on 127.0.0.1, and loading the store for every
    client was ~30 ms of CPU each, a tenth of this corpus's time."""
    return sdk.DefaultAsyncHttpxClient(verify=False, trust_env=False)


async def openai_chat(recording: Recording, base_url: str) -> Answer:
    import openai

    client = openai.AsyncOpenAI(
        base_url=base_url, api_key="sk-replay", max_retries=0, http_client=_loopback_http_client(openai)
    )
    answer = Answer()
    try:
        if recording.asked_to_stream:
            return await _openai_chat_stream(client, recording, answer)
        completion = await client.chat.completions.create(model=recording.model, messages=_PROMPT)
        choice = completion.choices[0]
        message = choice.message  # None when Azure's content filter withheld the answer
        if message is not None:
            answer.content = _parts_text(message.content, "text")
            answer.reasoning = _reasoning_of(message.model_extra or {}) or _parts_text(message.content, "thinking")
            answer.tool_calls = [
                (call.id, call.function.name, arguments_value(call.function.arguments))
                for call in message.tool_calls or ()
            ]
        answer.finish_reason = choice.finish_reason
        _usage_into(answer, completion.usage)
        return answer
    except openai.APIStatusError as exc:
        return _status_failure(answer, exc)
    finally:
        await client.close()


_PROMPT = [{"role": "user", "content": "replay"}]


async def _openai_chat_stream(client: Any, recording: Recording, answer: Answer) -> Answer:
    import openai

    calls: dict[int, list[Any]] = {}
    try:
        stream = await client.chat.completions.create(model=recording.model, messages=_PROMPT, stream=True)
        async for chunk in stream:
            _usage_into(answer, chunk.usage)
            extra = chunk.model_extra or {}
            if answer.completion_tokens is None and isinstance(extra.get("x_groq"), dict):
                _usage_into(answer, extra["x_groq"].get("usage"))  # Groq's usage sits beside the chunk
            for choice in chunk.choices or ():
                if choice.index:
                    continue
                delta = choice.delta
                answer.content += _parts_text(delta.content, "text")
                answer.reasoning += _reasoning_of(delta.model_extra or {}) or _parts_text(delta.content, "thinking")
                for call in delta.tool_calls or ():
                    slot = calls.setdefault(call.index or 0, [None, None, ""])
                    slot[0] = slot[0] or call.id
                    if call.function is not None:
                        slot[1] = slot[1] or call.function.name
                        slot[2] += call.function.arguments or ""
                if choice.finish_reason:
                    answer.finish_reason = choice.finish_reason
    except openai.APIStatusError as exc:
        return _status_failure(answer, exc)
    except openai.APIError as exc:  # an error event or error payload inside the stream
        _midstream_failure(answer, exc)
    answer.tool_calls = [(i, n, arguments_value(a)) for i, n, a in (calls[k] for k in sorted(calls))]
    return answer


# --- OpenAI Responses API ---------------------------------------------------------------


# Why a Responses API response ended, in the normalised words (its `status` is not a reason).
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


def _from_response(answer: Answer, response: Any) -> Answer:
    for item in response.output or ():
        if item.type == "message":
            for part in item.content or ():
                if part.type == "output_text":
                    answer.content += part.text
        elif item.type == "reasoning":
            # OpenAI sends summaries (separate parts, one thought each); DeepSeek and
            # gpt-oss servers send the reasoning text itself as `reasoning_text` content.
            texts = [s.text for s in item.summary or ()]
            texts += [c.text for c in getattr(item, "content", None) or () if c.type == "reasoning_text"]
            answer.reasoning += "\n\n".join(texts)
        elif item.type == "function_call":
            answer.tool_calls.append((item.call_id, item.name, arguments_value(item.arguments)))
    if response.status == "completed":
        answer.finish = "tool_calls" if answer.tool_calls else "stop"
    elif response.status == "incomplete" and response.incomplete_details is not None:
        answer.finish = _INCOMPLETE_REASONS.get(response.incomplete_details.reason or "", "length")
    if response.usage is not None:
        answer.prompt_tokens = response.usage.input_tokens
        answer.completion_tokens = response.usage.output_tokens
    return answer


async def openai_responses(recording: Recording, base_url: str) -> Answer:
    import openai

    client = openai.AsyncOpenAI(
        base_url=base_url, api_key="sk-replay", max_retries=0, http_client=_loopback_http_client(openai)
    )
    answer = Answer()
    try:
        if not recording.asked_to_stream:
            return _from_response(answer, await client.responses.create(model=recording.model, input="replay"))
        stream = await client.responses.create(model=recording.model, input="replay", stream=True)
        async for event in stream:
            if event.type in ("response.completed", "response.incomplete", "response.failed"):
                _from_response(answer, event.response)
                if event.type == "response.failed":
                    error = event.response.error
                    answer.failed, answer.error_text = True, ((error.message,) if error else ())
            elif event.type == "error":
                answer.failed, answer.error_text = True, (event.message,)
        return answer
    except openai.APIStatusError as exc:
        return _status_failure(answer, exc)
    finally:
        await client.close()


# --- Anthropic Messages ---------------------------------------------------------------


async def anthropic_messages(recording: Recording, base_url: str) -> Answer:
    import anthropic

    client = anthropic.AsyncAnthropic(
        base_url=base_url, api_key="sk-ant-replay", max_retries=0, http_client=_loopback_http_client(anthropic)
    )
    answer = Answer()
    try:
        async with client.messages.stream(model=recording.model, max_tokens=1024, messages=_PROMPT) as stream:
            try:
                message = await stream.get_final_message()
            except anthropic.APIStatusError as exc:
                if exc.status_code != 200:
                    raise
                _midstream_failure(answer, exc)
                message = stream.current_message_snapshot
        for block in message.content:
            if block.type == "text":
                answer.content += block.text
            elif block.type == "thinking":
                answer.reasoning += block.thinking
            elif block.type == "tool_use":
                answer.tool_calls.append((block.id, block.name, block.input))
        if not answer.failed:
            answer.finish_reason = message.stop_reason
            usage = message.usage
            answer.prompt_tokens = (
                usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
            )
            answer.completion_tokens = usage.output_tokens
        return answer
    except anthropic.APIStatusError as exc:
        return _status_failure(answer, exc)
    finally:
        await client.close()


# --- Ollama's native /api/chat (no official Python SDK on this machine: plain JSON) ---


def ollama_native(recording: Recording) -> Answer:
    answer = Answer()
    if recording.status >= 400:
        answer.failed, answer.error_status = True, recording.status
        answer.error_type = {404: "not_found", 401: "auth", 429: "rate_limit"}.get(recording.status, "bad_request")
        answer.error_text = _error_fragments(json.loads(recording.body), None)
        return answer
    lines = [json.loads(line) for line in recording.body.splitlines() if line.strip()]
    for line in lines:
        message = line.get("message") or {}
        answer.content += message.get("content") or ""
        answer.reasoning += message.get("thinking") or ""
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            answer.tool_calls.append((call.get("id"), function.get("name"), function.get("arguments")))
        if line.get("done"):
            answer.finish_reason = line.get("done_reason")
            answer.prompt_tokens = line.get("prompt_eval_count")
            answer.completion_tokens = line.get("eval_count")
    return answer


async def expected_answer(recording: Recording, root_url: str) -> Answer:
    if recording.kind == "anthropic":
        return await anthropic_messages(recording, root_url)
    if recording.kind == "openai-responses":
        return await openai_responses(recording, root_url + "/v1")
    if recording.kind == "ollama-native":
        return ollama_native(recording)
    return await openai_chat(recording, root_url + "/v1")
