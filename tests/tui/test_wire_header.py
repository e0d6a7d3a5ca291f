"""The top of the wire view: the request as sent, each attempt's answer and retry, live from
the core's phase events and the same from a saved run; every line stamped with its offset."""

from __future__ import annotations

from core.events import CONNECTING, HEADERS, RETRYING, SENT, Phase
from tui.widgets.output.wire_header import phase_lines, saved_lines, wire_line

REQUEST = {
    "method": "POST", "url": "http://127.0.0.1:8123/v1/chat/completions",
    "headers": {"authorization": "Bearer sk-…redacted", "content-type": "application/json"},
    "body": '{"model":"demo","stream":true}',
}  # fmt: skip
SENT_LINES = [
    "+      0.0 ms  → POST http://127.0.0.1:8123/v1/chat/completions",
    "                 authorization: Bearer sk-…redacted",
    "                 content-type: application/json",
    '                 {"model":"demo","stream":true}',
]
REFUSED_LINES = [
    "+      9.5 ms  ← HTTP 429",
    "                 retry-after: 1",
    '                 {"error": "slow down"}',
]


def test_a_frame_is_stamped_with_its_offset_and_a_multi_line_frame_stays_indented_under_it() -> None:
    assert wire_line(152.34, 'data: {"a": 1}') == '+    152.3 ms  data: {"a": 1}'
    assert wire_line(12345.67, "event: ping\ndata: {}\n") == (
        "+  12345.7 ms  event: ping\n" + " " * 15 + "data: {}"
    )
    # Only the line end goes: a stray frame (no SSE field, kept as the wire carried it) keeps the rest.
    assert wire_line(3.0, "upstream said: ERR_XX\n") == "+      3.0 ms  upstream said: ERR_XX"
    assert wire_line(3.0, ": keep-alive \n") == "+      3.0 ms  : keep-alive "


def test_live_the_wire_view_shows_the_request_its_answer_the_retry_and_the_second_attempt() -> None:
    phases = [
        Phase(CONNECTING, 0.0, detail=REQUEST),
        Phase(SENT, 0.4),
        Phase(HEADERS, 9.5, http_status=429, detail={"headers": {"retry-after": "1"}, "body": '{"error": "slow down"}\n'}),
        Phase(RETRYING, 9.8, attempt=1, http_status=429, retry_in_s=1.0, max_retries=2),
        Phase(CONNECTING, 1010.0, attempt=2, detail=REQUEST),
        Phase(HEADERS, 1019.0, attempt=2, http_status=200, detail={"headers": {"content-type": "text/event-stream"}}),
    ]  # fmt: skip
    shown = "\n".join(line for phase in phases for line in phase_lines(phase)).split("\n")
    assert shown == [
        *SENT_LINES,
        "+      0.4 ms  → request sent",
        *REFUSED_LINES,
        "+      9.8 ms  ↻ HTTP 429 — retrying in 1 s (1/2)",
        "+   1010.0 ms  → POST http://127.0.0.1:8123/v1/chat/completions  (attempt 2)",
        *SENT_LINES[1:],
        "+   1019.0 ms  ← HTTP 200",
        "                 content-type: text/event-stream",
    ]


def test_a_request_without_a_body_shows_no_body_line_and_a_connect_without_the_request_shows_nothing() -> None:
    assert phase_lines(Phase(CONNECTING, 0.0, detail={**REQUEST, "method": "GET", "body": None})) == [
        "\n".join(["+      0.0 ms  → GET http://127.0.0.1:8123/v1/chat/completions", *SENT_LINES[1:3]])
    ]
    assert phase_lines(Phase(CONNECTING, 0.0)) == []


def test_a_saved_run_shows_the_same_request_answers_and_retry_as_it_did_live() -> None:
    http = {
        "request": REQUEST,
        "attempts": [
            {"attempt": 1, "sent_ms": 0.0, "status": 429, "headers_ms": 9.5, "headers": {"retry-after": "1"},
             "body": '{"error": "slow down"}', "retry_in_s": 1.0},
            {"attempt": 2, "sent_ms": 1010.0, "status": 200, "headers_ms": 1019.0,
             "headers": {"content-type": "text/event-stream"}},
        ],
    }  # fmt: skip
    assert "\n".join(saved_lines(http)).split("\n") == [
        *SENT_LINES,
        *REFUSED_LINES,
        "+      9.5 ms  ↻ retried after 1 s",
        "+   1010.0 ms  → POST http://127.0.0.1:8123/v1/chat/completions  (attempt 2)",
        *SENT_LINES[1:],
        "+   1019.0 ms  ← HTTP 200",
        "                 content-type: text/event-stream",
    ]


def test_a_saved_run_that_got_no_answer_shows_its_request_alone_and_one_without_a_request_nothing() -> None:
    unanswered = {"request": REQUEST, "attempts": [{"attempt": 1, "sent_ms": 0.0}]}
    assert "\n".join(saved_lines(unanswered)).split("\n") == SENT_LINES
    assert saved_lines(None) == saved_lines({}) == saved_lines({"request": None, "attempts": []}) == []
