"""What the wire view and a reopened run show of each attempt (core.providers.phases):
the request as sent with its auth masked, each answer's status, headers, request id and
error body, redirects apart from retries, and the phase events in order."""

from __future__ import annotations

from typing import Any, AsyncIterator

import httpx2
import pytest

from core.events import CONNECTING, HEADERS, RETRYING, SENT, Phase
from core.providers.phases import REDACTED, PhaseLog, redact_header

KEY = "sk-phase-log-key-0123456789abcdef"
SCRUBBED = "[REDACTED]"  # a key value from the environment, wherever it appears


@pytest.fixture(autouse=True)
def key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHASE_TEST_API_KEY", KEY)


def request(body: Any = b'{"q": 1}', headers: list[tuple[str, str]] | None = None) -> httpx2.Request:
    return httpx2.Request("POST", "https://api.example.test/v1/chat", headers=headers or [], content=body)


def response(status: int, headers: list[tuple[str, str]] | None = None) -> httpx2.Response:
    return httpx2.Response(status, headers=headers or [])


def logged() -> tuple[PhaseLog, list[Phase]]:
    seen: list[Phase] = []
    return PhaseLog(seen.append), seen


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("Authorization", f"Bearer {KEY}", f"Bearer {REDACTED}"),
        ("x-api-key", KEY, REDACTED),
        ("Api-Key", KEY, REDACTED),
        ("x-goog-api-key", KEY, REDACTED),
        ("Cookie", "session=abc def", REDACTED),  # not a scheme: the whole value goes
        ("proxy-authorization", "Basic dXNlcjpwYXNz", f"Basic {REDACTED}"),
        ("set-cookie", "id=1", REDACTED),
        ("authorization", "Bearer", REDACTED),  # a scheme alone keeps nothing either
        ("authorization", "Bearer key with spaces", f"Bearer {REDACTED}"),
        ("content-type", "application/json; charset=utf-8", "application/json; charset=utf-8"),
    ],
)
def test_auth_headers_are_masked_keeping_their_scheme(name: str, value: str, shown: str) -> None:
    assert redact_header(name, value) == shown


def test_the_request_as_sent_is_kept_once_with_keys_hidden_and_each_attempt_numbered() -> None:
    log, seen = logged()
    sent = request(
        f'{{"prompt": "my key is {KEY}"}}'.encode(),
        [("authorization", f"Bearer {KEY}"), ("x-trace", "a"), ("x-trace", "b"), ("x-echo", KEY)],
    )
    log.on_send(sent, 10.0)
    log.on_send(request(b"second"), 10.5004567)
    assert log.request == {
        "method": "POST",
        "url": "https://api.example.test/v1/chat",
        "headers": {
            "host": "api.example.test", "authorization": f"Bearer {REDACTED}", "x-trace": "a, b",
            "x-echo": SCRUBBED, "content-length": str(len(sent.content)),
        },  # fmt: skip
        "body": f'{{"prompt": "my key is {SCRUBBED}"}}',
    }
    assert log.attempts == [{"attempt": 1, "sent_ms": 0.0}, {"attempt": 2, "sent_ms": 500.457}]  # to the µs
    assert [(p.phase, p.attempt) for p in seen] == [(CONNECTING, 1), (CONNECTING, 2)]
    assert seen[0].offset_ms == 0.0 and seen[1].offset_ms == pytest.approx(500.4567)
    assert seen[0].detail is not None and seen[0].detail["method"] == "POST"
    assert seen[1].detail is not None and seen[1].detail["body"] == "second"


def test_a_body_not_yet_read_or_empty_is_kept_as_none() -> None:
    async def streamed() -> AsyncIterator[bytes]:
        yield b"x"

    log, _ = logged()
    log.on_send(request(streamed()), 1.0)
    assert log.request is not None and log.request["body"] is None
    empty, _ = logged()
    empty.on_send(request(b""), 1.0)
    assert empty.request is not None and empty.request["body"] is None


def test_bytes_that_are_not_utf8_in_a_body_are_shown_replaced() -> None:
    log, _ = logged()
    log.on_send(request(b'{"a": "\xff"}'), 1.0)
    assert log.request is not None and log.request["body"] == '{"a": "\ufffd"}'


def test_each_answer_is_recorded_on_its_attempt_with_its_error_body() -> None:
    log, seen = logged()
    log.on_send(request(), 100.0)
    log.on_sent(100.002)
    log.on_headers(
        response(503, [("request-id", "req_9"), ("retry-after", "1"), ("x-echo", f"Bearer {KEY}")]),
        100.2501234, f"overloaded, key {KEY}".encode(),
    )  # fmt: skip
    attempt = log.attempts[0]
    assert attempt["status"] == 503 and attempt["headers_ms"] == 250.123 and attempt["request_id"] == "req_9"
    assert attempt["body"] == f"overloaded, key {SCRUBBED}"
    assert attempt["headers"] == {"request-id": "req_9", "retry-after": "1", "x-echo": f"Bearer {SCRUBBED}"}
    assert "redirect" not in attempt
    assert [(p.phase, p.attempt) for p in seen] == [(CONNECTING, 1), (SENT, 1), (HEADERS, 1)]
    headers = seen[2]
    assert (headers.http_status, headers.request_id) == (503, "req_9")
    assert headers.offset_ms == pytest.approx(250.1234)
    assert headers.detail == {"headers": attempt["headers"], "body": attempt["body"]}
    assert seen[1].offset_ms == pytest.approx(2.0)


def test_a_success_has_no_body_and_the_openai_request_id_is_preferred() -> None:
    log, seen = logged()
    log.on_send(request(), 0.0)
    log.on_headers(response(200, [("x-request-id", "req_a"), ("request-id", "req_b")]), 0.1, None)
    assert log.attempts[0]["request_id"] == "req_a" and "body" not in log.attempts[0]
    assert seen[-1].detail == {"headers": {"x-request-id": "req_a", "request-id": "req_b"}}
    plain, _ = logged()
    plain.on_send(request(), 0.0)
    plain.on_headers(response(200), 0.1, None)
    assert "request_id" not in plain.attempts[0]


def test_answers_and_sends_with_no_attempt_open_are_ignored() -> None:
    log, seen = logged()
    log.on_sent(1.0)
    log.on_headers(response(200), 1.0, None)
    assert seen == [] and log.attempts == [] and log.request is None
    assert log.record() == {"request": None, "attempts": []}


def test_every_send_after_the_first_is_a_retry_also_when_a_redirect_ends_the_run() -> None:
    """Redirects are never followed, so a redirect answer ends the run: a 503, its retry
    answered 301, is one retry (the redirect used to be subtracted: 0)."""
    log, _ = logged()
    assert log.retries_so_far() == 0
    log.on_send(request(), 0.0)
    log.on_headers(response(503), 0.1, b"busy")
    log.on_send(request(), 0.2)
    log.on_headers(response(301, [("location", "https://elsewhere.test/")]), 0.3, b"moved")
    assert log.attempts[1]["redirect"] is True and "redirect" not in log.attempts[0]
    assert log.retries_so_far() == 1


def test_a_retry_is_announced_with_the_last_status_and_noted_on_its_attempt() -> None:
    log, seen = logged()
    log.on_send(request(), 0.0)
    log.on_headers(response(429), 0.01, b"{}")
    log.on_retry(1.23456, 1, 3)
    assert log.attempts[0]["retry_in_s"] == 1.235
    retry = seen[-1]
    assert (retry.phase, retry.attempt, retry.http_status, retry.retry_in_s, retry.max_retries) == (RETRYING, 1, 429, 1.23456, 3)


def test_a_retry_before_any_answer_has_no_status() -> None:
    log, seen = logged()
    log.on_retry(0.5, 1, 2)
    assert log.attempts == []
    assert (seen[-1].phase, seen[-1].http_status, seen[-1].offset_ms) == (RETRYING, None, 0.0)
    log.on_send(request(), 5.0)  # a connection that failed: no answer, then the retry
    log.on_retry(0.5, 2, 2)
    assert (seen[-1].attempt, seen[-1].http_status) == (2, None) and log.attempts[0]["retry_in_s"] == 0.5


def test_without_a_listener_the_attempts_are_still_kept() -> None:
    log = PhaseLog(None)
    log.on_send(request(), 0.0)
    log.on_sent(0.001)
    log.on_headers(response(200), 0.002, None)
    log.on_retry(0.1, 1, 1)
    assert [a["attempt"] for a in log.attempts] == [1] and log.attempts[0]["status"] == 200
