"""The event protocol every consumer sees, and its JSON-line form.

The first three shapes are the contract of the debug API this product grew from;
`to_json_line` keeps them byte-compatible (Python's default separators, non-ASCII
kept as is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Union


# Every delta carries `offset_ms`: when the bytes of the frame that carried it were
# read, in ms from the run's t0, stamped on the I/O loop (core.iothread). The runner
# sets it; decoders build deltas without it. Outside the JSON-line protocol.


@dataclass(slots=True)
class TextDelta:
    content: str
    offset_ms: float | None = None


@dataclass(slots=True)
class ReasoningDelta:
    reasoning: str
    offset_ms: float | None = None


@dataclass(slots=True)
class RefusalDelta:
    """The model declining to answer (OpenAI's `refusal`): shown as such, never as an
    empty successful answer."""

    refusal: str
    offset_ms: float | None = None


@dataclass(slots=True)
class ToolCallDelta:
    index: int
    id: str | None
    name: str | None
    arguments_delta: str
    offset_ms: float | None = None


@dataclass(slots=True)
class WireFrame:
    """One raw frame off the wire, as it arrived. Not part of the JSON-line protocol
    (the CLI prints it only when asked); the wire view and the store read it."""

    offset_ms: float
    data: str


# Phase words, in the order a run goes through them (retrying repeats the first three).
CONNECTING = "connecting"  # the request was handed to the transport (carries the request as sent)
SENT = "sent"  # the request's last byte was written
HEADERS = "headers"  # response headers are in: status, request id, TTFB (an error carries its body)
RETRYING = "retrying"  # the SDK will send the request again after `retry_in_s`


@dataclass(slots=True)
class Phase:
    """A step of the HTTP exchange, emitted as it happens (one set per attempt). Outside
    the JSON-line protocol unless the CLI is asked for it (`--phases`, or `--wire`)."""

    phase: str
    offset_ms: float  # from t0 (the first attempt's send)
    attempt: int = 1
    http_status: int | None = None
    request_id: str | None = None
    retry_in_s: float | None = None
    max_retries: int | None = None
    detail: dict[str, Any] | None = None  # connecting: the request; headers: headers (+ an error's body)

    def describe(self) -> str:
        """One line for a status bar or the wire view: "HTTP 429 — retrying in 7 s (1/2)"."""
        if self.phase == CONNECTING:
            return "connecting…" if self.attempt == 1 else f"connecting… (attempt {self.attempt})"
        if self.phase == SENT:
            return "request sent, waiting for the response…"
        if self.phase == HEADERS:
            rid = f" · request id {self.request_id}" if self.request_id else ""
            return f"HTTP {self.http_status} after {self.offset_ms:.1f} ms{rid}"
        status = f"HTTP {self.http_status} — " if self.http_status else ""
        wait = f"{self.retry_in_s:.3g} s" if self.retry_in_s is not None else "a moment"
        return f"{status}retrying in {wait} ({self.attempt}/{self.max_retries})"


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
Event = Union[RunStarted, TextDelta, ReasoningDelta, ToolCallDelta, RefusalDelta, WireFrame, Phase, Finished, Failed]


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
    if isinstance(event, Phase):
        return {"phase": phase_dict(event), "done": False}
    return None


def phase_dict(event: Phase) -> dict[str, Any]:
    out: dict[str, Any] = {"phase": event.phase, "offset_ms": round(event.offset_ms, 3), "attempt": event.attempt}
    for key in ("http_status", "request_id", "retry_in_s", "max_retries", "detail"):
        value = getattr(event, key)
        if value is not None:
            out[key] = value
    return out


# json.dumps' default separators keep the lines byte-compatible with the original API;
# one encoder, built once, because this runs for every chunk.
_ENCODER = json.JSONEncoder(ensure_ascii=False)
# The JSON string literal of a str, exactly as _ENCODER writes it (the C encoder's).
_quote = json.encoder.encode_basestring

# The per-chunk events, formatted directly: the same bytes as _ENCODER's, in a fifth of
# the time (no dict, no generic encoder walk). tests/core/test_events_json.py holds them equal.
_SIMPLE_DELTAS = {
    TextDelta: ('{"content": ', "content"),
    ReasoningDelta: ('{"reasoning": ', "reasoning"),
    RefusalDelta: ('{"refusal": ', "refusal"),
}


def to_json_line(event: Event) -> str | None:
    simple = _SIMPLE_DELTAS.get(type(event))
    if simple is not None:
        text = getattr(event, simple[1])
        if type(text) is str:  # decoders check it; anything else takes the general path
            return simple[0] + _quote(text) + ', "done": false}'
    payload = to_wire_dict(event)
    if payload is None:
        return None
    return _ENCODER.encode(payload)
