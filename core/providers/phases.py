"""The steps of a run's HTTP exchange, reported as they happen, and every attempt kept.

The runner puts a PhaseLog in a context variable for its task; the HTTP client's
hooks (core.providers.http.timed_http_client) find it there, so every adapter built
on that client reports phases without knowing about them. The hooks see every
attempt, including the ones an SDK retries and never shows its caller.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Callable

from core.events import CONNECTING, HEADERS, RETRYING, SENT, Phase
from core.metrics import clock
from core.redact import scrub, scrubber

current_phases: ContextVar["PhaseLog | None"] = ContextVar("llmwb_phases", default=None)

# Header values never shown or stored as sent: they carry keys.
SECRET_HEADERS = {
    "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie",
}  # fmt: skip
REDACTED = "[redacted]"


def redact_header(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, _, rest = value.partition(" ")
    # Keep the scheme ("Bearer"), so a wrong auth style is still visible.
    return f"{scheme} {REDACTED}" if rest and scheme.isalpha() else REDACTED


def _headers(headers: Any) -> dict[str, str]:
    """Response or request headers as a dict; a repeated header joined with ", ".
    Auth headers are masked by name, and any key value from the environment wherever
    it appears (a server may echo one back in any header)."""
    out: dict[str, str] = {}
    scrub_value = scrubber()  # the environment scanned once for all the headers, not per header
    for name, value in headers.multi_items():
        value = scrub_value(redact_header(name, value))
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _text(content: bytes) -> str:
    # A prompt or an error body may quote a key: nothing kept or shown carries one.
    return scrub(content.decode("utf-8", errors="replace"))


class PhaseLog:
    """One run's attempts: the request as sent, then each attempt's status, headers,
    and an error's body. `emit` (None: keep only) receives a Phase as each step happens."""

    def __init__(self, emit: Callable[[Phase], None] | None) -> None:
        self._emit = emit
        self.t0: float | None = None
        self.request: dict[str, Any] | None = None
        self.attempts: list[dict[str, Any]] = []

    def _offset(self, at: float) -> float:
        return 0.0 if self.t0 is None else (at - self.t0) * 1000.0

    def _phase(self, phase: Phase) -> None:
        if self._emit is not None:
            self._emit(phase)

    def retries_so_far(self) -> int:
        return max(len(self.attempts) - 1, 0)  # as SendLog.retries

    # --- called by the HTTP client's hooks ------------------------------------------

    def on_send(self, request: Any, at: float) -> None:
        if self.t0 is None:
            self.t0 = at
        sent = {
            "method": request.method,
            "url": scrub(str(request.url)),
            "headers": _headers(request.headers),
            "body": _text(request.content) if _has_content(request) else None,
        }
        if self.request is None:
            self.request = sent
        self.attempts.append({"attempt": len(self.attempts) + 1, "sent_ms": round(self._offset(at), 3)})
        self._phase(Phase(CONNECTING, self._offset(at), attempt=len(self.attempts), detail=sent))

    def on_sent(self, at: float) -> None:
        if self.attempts:
            self._phase(Phase(SENT, self._offset(at), attempt=len(self.attempts)))

    def on_headers(self, response: Any, at: float, body: bytes | None) -> None:
        if not self.attempts:
            return
        attempt = self.attempts[-1]
        request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
        attempt.update(
            status=response.status_code, headers_ms=round(self._offset(at), 3), headers=_headers(response.headers)
        )
        if request_id:
            attempt["request_id"] = request_id
        if body is not None:
            attempt["body"] = _text(body)
        if response.has_redirect_location:
            attempt["redirect"] = True
        detail: dict[str, Any] = {"headers": attempt["headers"]}
        if body is not None:
            detail["body"] = attempt["body"]
        self._phase(
            Phase(
                HEADERS, self._offset(at), attempt=len(self.attempts), http_status=response.status_code,
                request_id=request_id, detail=detail,
            )  # fmt: skip
        )

    def on_retry(self, wait_s: float, retry: int, max_retries: int) -> None:
        """The SDK decided to send again after `wait_s` seconds (retry `retry` of `max_retries`)."""
        last = self.attempts[-1] if self.attempts else {}
        if last:
            last["retry_in_s"] = round(wait_s, 3)
        self._phase(
            Phase(
                RETRYING, self._offset(clock()), attempt=retry, http_status=last.get("status"),
                retry_in_s=wait_s, max_retries=max_retries,
            )  # fmt: skip
        )

    def record(self) -> dict[str, Any]:
        """What is kept with the run's request: the request as sent and every attempt."""
        return {"request": self.request, "attempts": self.attempts}


def _has_content(request: Any) -> bool:
    try:
        return bool(request.content)
    except Exception:  # a streaming request body, not read: nothing to show
        return False
