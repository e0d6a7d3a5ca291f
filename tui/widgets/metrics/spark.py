"""A saved run's sparkline, rebuilt from its wire frames' arrival offsets.

Live, the sidebar counts the characters each event brings per tick; a reopened run
has only its raw frames, so the same count is taken from them: the text a frame
carries (answer, reasoning, tool-call arguments, whichever protocol) in the
250 ms tick its bytes arrived. Without this a reopened run drew a flat line that
read as a stall.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from core.providers.sse import parse_frame
from core.store.models import RunFrame

# The keys under which the protocols llmwb speaks put generated text in a frame.
TEXT_KEYS = frozenset(
    {"content", "text", "thinking", "reasoning", "reasoning_content", "partial_json", "arguments", "delta",
     "refusal", "response"}
)  # fmt: skip
CHARS_PER_TOKEN = 4


def frame_text_chars(data: str) -> int:
    """Characters of generated text in one saved frame: an SSE event's data as the decoders
    read it (core.providers.sse.parse_frame: one JSON object may span several `data:` lines),
    or an NDJSON line, which carries no SSE field."""
    frame = parse_frame(data, 0.0)
    payload = (frame.data if frame is not None and frame.data else data).strip()
    if not payload.startswith("{"):
        return 0
    try:
        return _text_chars(json.loads(payload))
    except ValueError:
        return 0


def _text_chars(value: Any, key: str = "") -> int:
    if isinstance(value, str):
        return len(value) if key in TEXT_KEYS else 0
    if isinstance(value, dict):
        return sum(_text_chars(item, str(name)) for name, item in value.items())
    if isinstance(value, list):
        return sum(_text_chars(item, key) for item in value)
    return 0


def ticks_from_frames(frames: Iterable[RunFrame], tick_ms: float) -> list[float]:
    """Estimated tokens per tick from t0 to the last frame, zeros where nothing arrived."""
    counts: dict[int, float] = {}
    last = -1
    for frame in frames:
        chars = frame_text_chars(frame.data)
        index = max(0, int(frame.offset_ms // tick_ms))
        last = max(last, index)
        if chars:
            counts[index] = counts.get(index, 0.0) + chars / CHARS_PER_TOKEN
    return [0.0] + [counts.get(i, 0.0) for i in range(last + 1)] if last >= 0 else []
