"""The top of the wire view: the request as sent (URL, headers with keys redacted,
body) and every attempt's answer (status, headers, an error's body), live from the
core's phase events or from what a saved run kept (`run.request["http"]`)."""

from __future__ import annotations

from typing import Any

from core.events import CONNECTING, HEADERS, RETRYING, SENT, Phase


def wire_line(offset_ms: float, data: str) -> str:
    """`+  152.3 ms  data: {...}`; a multi-line frame (SSE `event:` + `data:`) stays indented."""
    return f"+{offset_ms:9.1f} ms  " + data.rstrip("\n").replace("\n", "\n" + " " * 15)


def _header_block(headers: dict[str, str] | None) -> list[str]:
    return [f"  {name}: {value}" for name, value in (headers or {}).items()]


def request_text(request: dict[str, Any], attempt: int) -> str:
    again = f"  (attempt {attempt})" if attempt > 1 else ""
    lines = [f"→ {request.get('method', 'POST')} {request.get('url', '')}{again}", *_header_block(request.get("headers"))]
    if request.get("body"):
        lines.append("  " + str(request["body"]))
    return "\n".join(lines)


def response_text(status: int | None, headers: dict[str, str] | None, body: str | None) -> str:
    lines = [f"← HTTP {status}", *_header_block(headers)]
    if body:
        lines.append("  " + body.strip())
    return "\n".join(lines)


def phase_lines(phase: Phase) -> list[str]:
    """What a live phase adds to the wire view."""
    detail = phase.detail or {}
    if phase.phase == CONNECTING:
        return [wire_line(phase.offset_ms, request_text(detail, phase.attempt))] if detail else []
    if phase.phase == SENT:
        return [wire_line(phase.offset_ms, "→ request sent")]
    if phase.phase == HEADERS:
        return [wire_line(phase.offset_ms, response_text(phase.http_status, detail.get("headers"), detail.get("body")))]
    if phase.phase == RETRYING:
        return [wire_line(phase.offset_ms, "↻ " + phase.describe())]
    return []


def saved_lines(http: dict[str, Any] | None) -> list[str]:
    """The same, for a saved run: the request, then each attempt's answer."""
    if not http or not http.get("request"):
        return []
    lines = []
    for attempt in http.get("attempts") or [{"attempt": 1, "sent_ms": 0.0}]:
        number = attempt.get("attempt", 1)
        lines.append(wire_line(attempt.get("sent_ms") or 0.0, request_text(http["request"], number)))
        if attempt.get("status") is not None:
            text = response_text(attempt["status"], attempt.get("headers"), attempt.get("body"))
            lines.append(wire_line(attempt.get("headers_ms") or 0.0, text))
        if attempt.get("retry_in_s") is not None:
            lines.append(wire_line(attempt.get("headers_ms") or 0.0, f"↻ retried after {attempt['retry_in_s']:g} s"))
    return lines
