"""Ollama's native shapes: /api/chat as NDJSON lines or one object, /api/tags, errors.

Tool calls go out whole, one line each, with their arguments as an object (as
Ollama sends them), so a scenario's argument fragments make no frames here.
The last line carries the server's own durations in nanoseconds, derived from
the scenario's timing so they agree with what the stream actually did:

  total  = first_token_ms + the gaps between content lines (when the last one is due)
  load   = a fifth of first_token_ms (a model already in memory loads fast)
  eval   = the gaps between content lines + one gap (the first token is decoded too)
  prompt = the rest of first_token_ms
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import orjson

from core.simulator.scenario import Timing
from core.simulator.script import REASONING, TEXT, TOOL_START, Plan, scripted_duration_s
from core.simulator.wire import CONTENT, CONTENT_END, META, Frame

_NS_PER_MS = 1_000_000
LOAD_SHARE = 0.2  # of first_token_ms

# OpenAI's finish words (the Plan's) as Ollama's done_reason: it ends tool-calling turns with "stop".
_DONE_REASONS = {"stop": "stop", "length": "length", "tool_calls": "stop", "content_filter": "stop"}


def error_body(message: str) -> bytes:
    return orjson.dumps({"error": message})


def model_not_found_body(model: str) -> bytes:
    return error_body(f'model "{model}" not found, try pulling it first')


def tags_body(names: list[str]) -> bytes:
    models = [
        {
            "name": name,
            "model": name,
            "modified_at": "1970-01-01T00:00:00Z",
            "size": 0,
            "digest": "",
            "details": {"format": "simulated", "family": "llmwb-simulator", "parameter_size": "", "quantization_level": ""},
        }
        for name in names
    ]
    return orjson.dumps({"models": models})


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _arguments(raw: str) -> Any:
    """A scenario's arguments as the object Ollama sends; text that is not JSON stays text."""
    try:
        return orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        return raw


def server_durations(timing: Timing, content_lines: int, prompt_tokens: int, eval_tokens: int) -> dict[str, int]:
    """The durations (ns) and counts the last line reports for `content_lines` paced lines."""
    first_ms = timing.first_token_ms
    decode_ms = scripted_duration_s(timing, content_lines) * 1000.0 - first_ms
    load_ms = first_ms * LOAD_SHARE
    eval_ms = decode_ms + timing.gap_ms
    prompt_ms = max(first_ms - load_ms - timing.gap_ms, 0.0)
    return {
        "total_duration": int((first_ms + decode_ms) * _NS_PER_MS),
        "load_duration": int(load_ms * _NS_PER_MS),
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": int(prompt_ms * _NS_PER_MS),
        "eval_count": eval_tokens,
        "eval_duration": int(eval_ms * _NS_PER_MS),
    }


class OllamaWire:
    protocol = "ollama"

    def __init__(self, plan: Plan, model: str, *, timing: Timing, streamed: bool) -> None:
        self.plan = plan
        self.model = model
        self.timing = timing
        self.streamed = streamed
        self._head = b'{"model":' + orjson.dumps(model) + b',"created_at":'

    def response_headers(self) -> dict[str, str]:
        return {"content-type": "application/x-ndjson" if self.streamed else "application/json; charset=utf-8"}

    def _line(self, message: dict[str, Any], rest: bytes = b'"done":false') -> bytes:
        return (
            self._head + orjson.dumps(_now_iso()) + b',"message":' + orjson.dumps({"role": "assistant", **message})
            + b"," + rest + b"}\n"
        )  # fmt: skip

    def _content_messages(self) -> Iterator[dict[str, Any]]:
        calls = self.plan.tool_calls
        for step in self.plan.steps:
            if step.kind == TEXT:
                yield {"content": step.text}
            elif step.kind == REASONING:
                yield {"content": "", "thinking": step.text}
            elif step.kind == TOOL_START:
                call = calls[step.tool_index]
                function = {"index": call.index, "name": call.name, "arguments": _arguments(call.arguments)}
                yield {"content": "", "tool_calls": [{"id": call.id, "function": function}]}

    def _final_fields(self, content_lines: int) -> dict[str, Any]:
        usage = self.plan.usage
        return {
            "done_reason": _DONE_REASONS.get(self.plan.finish_reason, "stop"),
            "done": True,
            **server_durations(self.timing, content_lines, usage.prompt_tokens, usage.completion_tokens),
        }

    def stream_frames(self) -> Iterator[Frame]:
        lines = 0
        for message in self._content_messages():
            lines += 1
            yield self._line(message), CONTENT
        yield b"", CONTENT_END
        yield self._line({"content": ""}, orjson.dumps(self._final_fields(lines))[1:-1]), META

    def malformed_frame(self) -> bytes:
        # A line cut off mid-string: the framing is fine, the JSON is not.
        return self._head + b'"' + _now_iso().encode() + b'","message":{"role":"assistant","content":"this chunk was cut sho\n'

    def error_frame(self, message: str) -> bytes:
        return error_body(message) + b"\n"

    def nonstream_body(self) -> bytes:
        plan = self.plan
        message: dict[str, Any] = {"role": "assistant", "content": plan.text}
        if plan.reasoning:
            message["thinking"] = plan.reasoning
        if plan.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "function": {"index": c.index, "name": c.name, "arguments": _arguments(c.arguments)}}
                for c in plan.tool_calls
            ]
        lines = sum(1 for _ in self._content_messages())
        return orjson.dumps(
            {"model": self.model, "created_at": _now_iso(), "message": message, **self._final_fields(lines)}
        )
