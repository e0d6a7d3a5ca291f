"""Assembles the final (or partial) response from deltas, as they arrive.

The same builder serves streamed and non-streamed runs, so both end in one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

# Provider words for why a response ended, mapped to the normalised ones in DESIGN.md.
_FINISH_REASONS = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "eos": "stop",
    "length": "length",
    "max_tokens": "length",
    "model_length": "length",
    "tool_calls": "tool_calls",
    "tool_use": "tool_calls",
    "function_call": "tool_calls",
    "pause_turn": "stop",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "cancelled": "cancelled",
    "error": "error",
}


def normalise_finish_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    return _FINISH_REASONS.get(reason, reason)


@dataclass
class ToolCallParts:
    index: int
    id: str | None = None
    name: str | None = None
    argument_parts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        raw = "".join(self.argument_parts)
        entry: dict[str, Any] = {"index": self.index, "id": self.id, "name": self.name, "arguments_raw": raw}
        try:
            entry["arguments"] = orjson.loads(raw) if raw.strip() else {}
            entry["arguments_valid"] = True
        except orjson.JSONDecodeError:
            entry["arguments"] = raw
            entry["arguments_valid"] = False
        return entry


@dataclass
class ResponseBuilder:
    content_parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)
    tool_calls: dict[int, ToolCallParts] = field(default_factory=dict)
    finish_reason: str | None = None
    model: str | None = None
    id: str | None = None
    usage: dict[str, Any] | None = None
    # Provider extras worth keeping: llama.cpp `timings`, Anthropic thinking blocks with signatures.
    extras: dict[str, Any] = field(default_factory=dict)

    def add_text(self, text: str) -> None:
        self.content_parts.append(text)

    def add_reasoning(self, text: str) -> None:
        self.reasoning_parts.append(text)

    def add_tool_delta(self, index: int, call_id: str | None, name: str | None, arguments: str) -> None:
        parts = self.tool_calls.get(index)
        if parts is None:
            parts = self.tool_calls[index] = ToolCallParts(index=index)
        if call_id and not parts.id:
            parts.id = call_id
        if name and not parts.name:
            parts.name = name
        if arguments:
            parts.argument_parts.append(arguments)

    @property
    def content(self) -> str:
        return "".join(self.content_parts)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_parts)

    def output_text(self) -> str:
        """Everything the model generated, for estimating tokens when usage is missing."""
        args = "".join("".join(c.argument_parts) for c in self.tool_calls.values())
        return self.reasoning + self.content + args

    def snapshot(self, *, finish_override: str | None = None) -> dict[str, Any]:
        raw_reason = self.finish_reason
        normalised = finish_override or normalise_finish_reason(raw_reason)
        result: dict[str, Any] = {
            "content": self.content,
            "reasoning": self.reasoning,
            "tool_calls": [self.tool_calls[i].as_dict() for i in sorted(self.tool_calls)],
            "finish_reason": normalised,
            "provider_finish_reason": raw_reason,
            "model": self.model,
            "id": self.id,
            "usage": self.usage,
        }
        result.update(self.extras)
        return result
