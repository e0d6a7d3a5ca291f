"""Anthropic messages shapes: the SSE event sequence, the whole message, error bodies."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import orjson

from core.simulator.script import REASONING, TEXT, TOOL_ARGS, TOOL_START, Plan, ResolvedUsage
from core.simulator.wire import CONTENT, CONTENT_END, META, Frame, new_id

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def error_body(status: int, message: str, *, kind: str | None = None) -> bytes:
    return orjson.dumps({"type": "error", "error": {"type": kind or error_type(status), "message": message}})


def model_not_found_body(model: str) -> bytes:
    return error_body(404, f"model: {model}", kind="not_found_error")


def signature_for(thinking: str) -> str:
    # Real signatures are opaque base64; a digest keeps ours stable per thinking text.
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest() * 2).decode()


def usage_object(usage: ResolvedUsage, output_tokens: int) -> dict[str, Any]:
    # Anthropic's input_tokens excludes cache reads; they are reported beside it.
    return {
        "input_tokens": usage.prompt_tokens - usage.cached_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cached_tokens,
        "output_tokens": output_tokens,
    }


def tool_input(arguments: str) -> Any:
    """Parsed arguments; the raw string when they are not JSON (a scenario may send bad JSON on purpose)."""
    try:
        return json.loads(arguments) if arguments else {}
    except ValueError:
        return arguments


def _event(name: bytes, payload: dict[str, Any]) -> bytes:
    return b"event: " + name + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


class AnthropicWire:
    protocol = "anthropic"

    def __init__(self, plan: Plan, model: str, *, request_id: str) -> None:
        self.plan = plan
        self.model = model
        self.request_id = request_id
        self.message_id = new_id("msg_")
        self._last_index = 0  # index of the open content block, for the malformed frame

    def response_headers(self) -> dict[str, str]:
        return {"request-id": self.request_id}

    def stream_frames(self) -> Iterator[Frame]:
        plan = self.plan
        dumps = orjson.dumps
        message = {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_object(plan.usage, min(1, plan.usage.completion_tokens)),
        }
        yield _event(b"message_start", {"type": "message_start", "message": message}), META
        yield b'event: ping\ndata: {"type": "ping"}\n\n', META

        index = -1
        open_kind = -1  # step kind of the open block, -1 when none
        open_tool = -1
        delta_prefix = b""

        def close_block() -> Iterator[Frame]:
            if open_kind == REASONING:
                signature = {"type": "signature_delta", "signature": signature_for(plan.reasoning)}
                yield _event(b"content_block_delta", {"type": "content_block_delta", "index": index, "delta": signature}), META
            if open_kind != -1:
                yield _event(b"content_block_stop", {"type": "content_block_stop", "index": index}), META

        for step in plan.steps:
            kind = step.kind
            if kind == TOOL_ARGS and open_kind == TOOL_START and open_tool == step.tool_index:
                yield delta_prefix + b'"input_json_delta","partial_json":' + dumps(step.text) + b"}}\n\n", CONTENT
                continue
            if kind != open_kind or kind == TOOL_START:
                yield from close_block()
                index += 1
                self._last_index = index
                # Block deltas differ only in their text: encode the envelope once per block.
                delta_prefix = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":{"type":' % index
                if kind == REASONING:
                    block: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
                elif kind == TEXT:
                    block = {"type": "text", "text": ""}
                else:
                    call = plan.tool_calls[step.tool_index]
                    block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
                    open_tool = step.tool_index
                start = _event(b"content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
                open_kind = TOOL_START if kind in (TOOL_START, TOOL_ARGS) else kind
                # A tool_use block start carries the call's name: it is content, like OpenAI's first tool delta.
                yield start, CONTENT if kind == TOOL_START else META
                if kind == TOOL_START:
                    continue
            if kind == TEXT:
                yield delta_prefix + b'"text_delta","text":' + dumps(step.text) + b"}}\n\n", CONTENT
            elif kind == REASONING:
                yield delta_prefix + b'"thinking_delta","thinking":' + dumps(step.text) + b"}}\n\n", CONTENT
            elif kind == TOOL_ARGS:  # arguments without a preceding start cannot happen; render anyway
                yield delta_prefix + b'"input_json_delta","partial_json":' + dumps(step.text) + b"}}\n\n", CONTENT
        yield b"", CONTENT_END
        yield from close_block()
        # message_delta's usage is cumulative and overrides message_start's.
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": self._stop_reason(), "stop_sequence": None},
            "usage": usage_object(plan.usage, plan.usage.completion_tokens),
        }
        yield _event(b"message_delta", delta), META
        yield b'event: message_stop\ndata: {"type":"message_stop"}\n\n', META

    def _stop_reason(self) -> str:
        # Claude says it declined through the stop reason; the text is sent as text.
        return "refusal" if self.plan.refusal else STOP_REASONS[self.plan.finish_reason]

    def malformed_frame(self) -> bytes:
        return (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,'
            b'"delta":{"type":"text_delta","text":"this event was cut sho\n\n' % self._last_index
        )

    def error_frame(self, message: str) -> bytes:
        return b"event: error\ndata: " + error_body(529, message, kind="overloaded_error") + b"\n\n"

    def nonstream_body(self) -> bytes:
        plan = self.plan
        content: list[dict[str, Any]] = []
        if plan.reasoning:
            content.append({"type": "thinking", "thinking": plan.reasoning, "signature": signature_for(plan.reasoning)})
        if plan.text:
            content.append({"type": "text", "text": plan.text})
        for call in plan.tool_calls:
            content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call.arguments)})
        return orjson.dumps(
            {
                "id": self.message_id,
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": content,
                "stop_reason": self._stop_reason(),
                "stop_sequence": None,
                "usage": usage_object(plan.usage, plan.usage.completion_tokens),
            }
        )
