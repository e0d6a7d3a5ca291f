"""The event protocol every consumer sees, and its JSON-line form.

The first three shapes are the contract of the debug API this product grew from;
`to_json_line` keeps them byte-compatible (Python's default separators, non-ASCII
kept as is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Union


@dataclass(slots=True)
class TextDelta:
    content: str


@dataclass(slots=True)
class ReasoningDelta:
    reasoning: str


@dataclass(slots=True)
class RefusalDelta:
    """The model declining to answer (OpenAI's `refusal`): shown as such, never as an
    empty successful answer."""

    refusal: str


@dataclass(slots=True)
class ToolCallDelta:
    index: int
    id: str | None
    name: str | None
    arguments_delta: str


@dataclass(slots=True)
class WireFrame:
    """One raw frame off the wire, as it arrived. Not part of the JSON-line protocol
    (the CLI prints it only when asked); the wire view and the store read it."""

    offset_ms: float
    data: str


@dataclass(slots=True)
class RunStarted:
    """First event of every run: the id it is saved under. Not in the JSON-line protocol."""

    run_id: str
    model_config: str
    stream: bool


@dataclass(slots=True)
class Finished:
    final_response: dict[str, Any]
    metrics: dict[str, Any]
    run_id: str | None = None


@dataclass(slots=True)
class Failed:
    error: str
    error_type: str
    partial_response: dict[str, Any]
    metrics: dict[str, Any]
    http_status: int | None = None
    retry_after: str | None = None
    run_id: str | None = None
    status: str = "error"  # "error" or "cancelled"


DeltaEvent = Union[TextDelta, ReasoningDelta, ToolCallDelta, RefusalDelta]
Event = Union[RunStarted, TextDelta, ReasoningDelta, ToolCallDelta, RefusalDelta, WireFrame, Finished, Failed]


def to_wire_dict(event: Event) -> dict[str, Any] | None:
    """The protocol object for an event, or None for events outside the protocol."""
    if isinstance(event, TextDelta):
        return {"content": event.content, "done": False}
    if isinstance(event, ReasoningDelta):
        return {"reasoning": event.reasoning, "done": False}
    if isinstance(event, RefusalDelta):
        return {"refusal": event.refusal, "done": False}
    if isinstance(event, ToolCallDelta):
        return {
            "tool_call": {
                "index": event.index,
                "id": event.id,
                "name": event.name,
                "arguments_delta": event.arguments_delta,
            },
            "done": False,
        }
    if isinstance(event, Finished):
        out: dict[str, Any] = {"done": True, "final_response": event.final_response, "metrics": event.metrics}
        if event.run_id:
            out["run_id"] = event.run_id
        return out
    if isinstance(event, Failed):
        out = {
            "done": True,
            "status": event.status,
            "error": event.error,
            "error_type": event.error_type,
            "http_status": event.http_status,
        }
        if event.retry_after is not None:
            out["retry_after"] = event.retry_after
        out["partial_response"] = event.partial_response
        out["metrics"] = event.metrics
        if event.run_id:
            out["run_id"] = event.run_id
        return out
    if isinstance(event, WireFrame):
        return {"wire": {"offset_ms": round(event.offset_ms, 3), "data": event.data}, "done": False}
    return None


# json.dumps' default separators keep the lines byte-compatible with the original API;
# one encoder, built once, because this runs for every chunk.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def to_json_line(event: Event) -> str | None:
    payload = to_wire_dict(event)
    if payload is None:
        return None
    return _ENCODER.encode(payload)
