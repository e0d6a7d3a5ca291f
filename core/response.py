"""Assembles the final (or partial) response from deltas, as they arrive.

The same builder serves streamed and non-streamed runs, so both end in one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

# Provider words for why a response ended, mapped to the normalised ones in DESIGN.md.
_FINISH_REASONS = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "eos": "stop",
    "length": "length",
    "max_tokens": "length",
    "max_output_tokens": "length",
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
    if not isinstance(reason, str):  # decoders refuse other types; a snapshot must never fail
        return None
    return _FINISH_REASONS.get(reason, reason)


# A token count above this is no count a server could mean (and would overflow SQLite's integers).
MAX_TOKEN_COUNT = 10**15


def _is_count(value: Any) -> bool:
    if type(value) is int:
        return 0 <= value <= MAX_TOKEN_COUNT
    # 12.0 is a count written as JSON's one number type; 12.5 is not.
    return type(value) is float and value.is_integer() and 0 <= value <= MAX_TOKEN_COUNT


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def usage_problem(raw: Any) -> str | None:
    """Why a server's usage object cannot be believed, or None when it can.

    Every field whose name says it counts tokens (`*_tokens`, also one level down in
    `*_details` objects and Anthropic's `cache_creation`) must be a whole number
    from 0 to MAX_TOKEN_COUNT, or null; a `*_details` field an object or null.
    Fields that are not counts (Anthropic's `service_tier`) are left alone."""
    if not isinstance(raw, dict):
        return f"usage is {type(raw).__name__}, not an object"
    for key, value in raw.items():
        if value is None:
            continue
        if str(key).endswith("tokens"):
            if not _is_count(value):
                return f"usage {key} is {_shown(value)}, not a token count"
        elif isinstance(value, dict):
            for inner_key, inner in value.items():
                if inner is not None and str(inner_key).endswith("tokens") and not _is_count(inner):
                    return f"usage {key}.{inner_key} is {_shown(inner)}, not a token count"
        elif str(key).endswith("_details"):
            return f"usage {key} is {type(value).__name__}, not an object"
    return None


def _whole_counts(usage: dict[str, Any]) -> dict[str, Any]:
    # Counts sent as 12.0 are stored as 12: every consumer treats them as ints.
    return {k: int(v) if type(v) is float and k.endswith("tokens") else v for k, v in usage.items()}


MAX_TOOL_CALLS = 1024  # slots in one response: an index beyond is no real call


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
    refusal_parts: list[str] = field(default_factory=list)
    tool_calls: dict[int, ToolCallParts] = field(default_factory=dict)
    finish_reason: str | None = None
    # When the provider's word alone misleads (Ollama ends a tool-calling turn with "stop").
    normalised_finish_reason: str | None = None
    model: str | None = None
    id: str | None = None
    usage: dict[str, Any] | None = None
    # Set when the server sent usage that cannot be believed (see `set_usage`).
    usage_note: str | None = None
    # Provider extras worth keeping: llama.cpp `timings`, Anthropic thinking blocks with signatures.
    extras: dict[str, Any] = field(default_factory=dict)

    def set_usage(self, raw: Any, normalise: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Take a server's usage object through the adapter's `normalise`, if it can be
        believed. A bad count (a string, an object, -1, 12.5, 400 digits) must not cost an
        otherwise good answer: the usage is dropped, tokens are estimated, and
        `usage_note` says why, in the final response and the metrics."""
        problem = usage_problem(raw)
        if problem is None:
            normalised = normalise(_whole_counts(raw))
            problem = usage_problem(normalised)  # sums of good counts can still overflow the cap
            if problem is None:
                self.usage, self.usage_note = normalised, None
                return
        self.usage = None
        self.usage_note = f"the server's usage was unusable ({problem}); tokens are estimated"

    def add_text(self, text: str) -> None:
        self.content_parts.append(text)

    def add_reasoning(self, text: str) -> None:
        self.reasoning_parts.append(text)

    def add_refusal(self, text: str) -> None:
        self.refusal_parts.append(text)

    def add_tool_delta(self, index: int, call_id: str | None, name: str | None, arguments: str) -> None:
        """Raises TypeError (a malformed chunk, to the decoders) for fields of the wrong type."""
        if type(index) is not int or not 0 <= index < MAX_TOOL_CALLS:
            raise TypeError(f"tool call index is {_shown(index)}, not a small whole number")
        for value, what in ((call_id, "tool call id"), (name, "tool call name"), (arguments, "tool call arguments")):
            if value is not None and type(value) is not str:
                raise TypeError(f"{what} is {type(value).__name__}, not a string")
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

    @property
    def refusal(self) -> str:
        return "".join(self.refusal_parts)

    def output_text(self) -> str:
        """Everything the model generated, for estimating tokens when usage is missing."""
        args = "".join("".join(c.argument_parts) for c in self.tool_calls.values())
        return self.reasoning + self.content + self.refusal + args

    def snapshot(self, *, finish_override: str | None = None) -> dict[str, Any]:
        raw_reason = self.finish_reason if isinstance(self.finish_reason, str) else None
        normalised = finish_override or self.normalised_finish_reason or normalise_finish_reason(raw_reason)
        refusal = self.refusal
        if refusal and normalised in (None, "stop"):
            # OpenAI ends a refusal with "stop": the answer is a refusal, not a success.
            normalised = "content_filter"
        result: dict[str, Any] = {
            "content": self.content,
            "reasoning": self.reasoning,
            "tool_calls": [self.tool_calls[i].as_dict() for i in sorted(self.tool_calls)],
            "finish_reason": normalised,
            "provider_finish_reason": raw_reason,
            "model": self.model if isinstance(self.model, str) else None,
            "id": self.id if isinstance(self.id, str) else None,
            "usage": self.usage,
        }
        if self.usage_note:
            result["usage_note"] = self.usage_note
        if refusal:
            result["refusal"] = refusal
        result.update(self.extras)
        return result
