"""What the two protocol renderers have in common.

A renderer turns a `Plan` into SSE frames. Each frame comes with a kind so the
server's streaming loop can apply timing and faults without knowing the
protocol: timing and fault counters apply to CONTENT frames only; META frames
(role chunk, message_start, ping, block start/stop, usage, [DONE]) go out as
soon as they are reached; CONTENT_END is an empty marker placed after the last
content frame, where "after N chunks" faults fire when N equals the total.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Protocol

META = 0
CONTENT = 1
CONTENT_END = 2

Frame = tuple[bytes, int]  # (SSE bytes, kind)


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + uuid.uuid4().hex[:length]


class WireRenderer(Protocol):
    protocol: str  # "openai" | "anthropic"

    def response_headers(self) -> dict[str, str]: ...
    def stream_frames(self) -> Iterator[Frame]: ...
    def malformed_frame(self) -> bytes: ...
    def error_frame(self, message: str) -> bytes: ...
    def nonstream_body(self) -> bytes: ...


# Canned messages for status-only faults, so `fault: {http_status: 429}` alone reads naturally.
DEFAULT_ERROR_MESSAGES = {
    400: "Bad request",
    401: "Invalid API key (simulated)",
    403: "Permission denied (simulated)",
    404: "Not found (simulated)",
    408: "Request timed out (simulated)",
    413: "Request too large (simulated)",
    429: "Rate limit reached (simulated)",
    500: "Internal server error (simulated)",
    502: "Bad gateway (simulated)",
    503: "Service unavailable (simulated)",
    529: "Overloaded",
}


def default_error_message(status: int) -> str:
    return DEFAULT_ERROR_MESSAGES.get(status, f"HTTP {status} (simulated)")
