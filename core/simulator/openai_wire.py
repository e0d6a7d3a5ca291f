"""OpenAI chat-completions shapes: streamed chunks, the whole completion, error bodies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson

from core.simulator.script import REASONING, TEXT, TOOL_ARGS, TOOL_START, Plan, ResolvedUsage
from core.simulator.wire import CONTENT, CONTENT_END, META, Frame, new_id

SYSTEM_FINGERPRINT = "fp_llmwb_sim"


def error_type_and_code(status: int) -> tuple[str, str | None]:
    """Roughly what api.openai.com puts in `type` and `code` for each status."""
    if status == 401:
        return "invalid_request_error", "invalid_api_key"
    if status == 404:
        return "invalid_request_error", "model_not_found"
    if status == 429:
        return "requests", "rate_limit_exceeded"
    if status in (503, 529):
        return "server_error", "overloaded"
    if status >= 500:
        return "server_error", None
    return "invalid_request_error", None


def error_body(status: int, message: str, *, code: str | None = None, error_type: str | None = None) -> bytes:
    default_type, default_code = error_type_and_code(status)
    return orjson.dumps(
        {
            "error": {
                "message": message,
                "type": error_type or default_type,
                "param": None,
                "code": code if code is not None else default_code,
            }
        }
    )


def model_not_found_body(model: str) -> bytes:
    return error_body(404, f"The model `{model}` does not exist", code="model_not_found")


def usage_object(usage: ResolvedUsage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def models_list_body(names: list[str]) -> bytes:
    return orjson.dumps(
        {"object": "list", "data": [{"id": n, "object": "model", "created": 0, "owned_by": "llmwb-simulator"} for n in names]}
    )


class OpenAIWire:
    protocol = "openai"

    def __init__(self, plan: Plan, model: str, *, request_id: str, include_usage: bool = False) -> None:
        self.plan = plan
        self.model = model
        self.request_id = request_id
        self.include_usage = include_usage
        self.completion_id = new_id("chatcmpl-", 29)
        self.created = int(time.time())
        head = orjson.dumps(
            {
                "id": self.completion_id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": model,
                "system_fingerprint": SYSTEM_FINGERPRINT,
            }
        )
        # Chunks differ only in their delta, so the rest is encoded once: at 20k+ chunks/s
        # rebuilding the whole object per chunk would be the server's main cost.
        self._chunk_head = head[:-1]  # without the closing brace
        self._delta_prefix = b"data: " + self._chunk_head + b',"choices":[{"index":0,"delta":'
        usage_null = b',"usage":null' if include_usage else b""  # as the real API does with include_usage
        self._delta_suffix = b',"logprobs":null,"finish_reason":null}]' + usage_null + b"}\n\n"

    def response_headers(self) -> dict[str, str]:
        return {"x-request-id": self.request_id, "openai-processing-ms": "1"}

    def _chunk(self, delta: dict[str, Any]) -> bytes:
        return self._delta_prefix + orjson.dumps(delta) + self._delta_suffix

    def stream_frames(self) -> Iterator[Frame]:
        plan = self.plan
        prefix, suffix, dumps = self._delta_prefix, self._delta_suffix, orjson.dumps
        # The real API opens with the role and an empty content string; it carries no content.
        yield self._chunk({"role": "assistant", "content": ""}), META
        calls = plan.tool_calls
        text_key = b'{"refusal":' if plan.refusal else b'{"content":'
        for step in plan.steps:
            kind = step.kind
            if kind == TEXT:
                yield prefix + text_key + dumps(step.text) + b"}" + suffix, CONTENT
            elif kind == REASONING:
                yield prefix + b'{"reasoning_content":' + dumps(step.text) + b"}" + suffix, CONTENT
            elif kind == TOOL_START:
                call = calls[step.tool_index]
                delta = {
                    "tool_calls": [
                        {"index": call.index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
                    ]
                }
                yield self._chunk(delta), CONTENT
            elif kind == TOOL_ARGS:
                delta = {"tool_calls": [{"index": step.tool_index, "function": {"arguments": step.text}}]}
                yield self._chunk(delta), CONTENT
        yield b"", CONTENT_END
        final: dict[str, Any] = {"choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": plan.finish_reason}]}
        if self.include_usage:
            final["usage"] = None
        yield b"data: " + self._chunk_head + b"," + orjson.dumps(final)[1:] + b"\n\n", META
        if self.include_usage:
            usage = {"choices": [], "usage": usage_object(plan.usage)}
            yield b"data: " + self._chunk_head + b"," + orjson.dumps(usage)[1:] + b"\n\n", META
        yield b"data: [DONE]\n\n", META

    def malformed_frame(self) -> bytes:
        # A chunk cut off mid-string: the SSE framing is fine, the JSON is not.
        return self._delta_prefix + b'{"content":"this chunk was cut sho\n\n'

    def error_frame(self, message: str) -> bytes:
        return b"data: " + error_body(503, message, code="overloaded") + b"\n\n"

    def nonstream_body(self) -> bytes:
        plan = self.plan
        message: dict[str, Any] = {"role": "assistant", "content": plan.text or None, "refusal": None}
        if plan.refusal:
            message["content"], message["refusal"] = None, plan.text
        if plan.reasoning:
            message["reasoning_content"] = plan.reasoning
        if plan.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in plan.tool_calls
            ]
        return orjson.dumps(
            {
                "id": self.completion_id,
                "object": "chat.completion",
                "created": self.created,
                "model": self.model,
                "system_fingerprint": SYSTEM_FINGERPRINT,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": plan.finish_reason}],
                "usage": usage_object(plan.usage),
            }
        )
