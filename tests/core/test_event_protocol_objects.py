"""The JSON-line objects the CLI prints for every kind of event (`llmwb run --json`), and
the one-line phase words the status bar and the wire view show."""

from __future__ import annotations

import json

from core.events import (
    CONNECTING,
    HEADERS,
    RETRYING,
    SENT,
    Failed,
    Finished,
    Phase,
    ReasoningDelta,
    RefusalDelta,
    RunStarted,
    TextDelta,
    ToolCallDelta,
    WireFrame,
    to_json_line,
    to_wire_dict,
)


def _line(event: object) -> object:
    line = to_json_line(event)  # type: ignore[arg-type]
    assert line is not None
    return json.loads(line)


def test_each_delta_kind_is_its_own_object_and_not_done() -> None:
    assert to_wire_dict(TextDelta("hi", offset_ms=3.0)) == {"content": "hi", "done": False}
    assert to_wire_dict(ReasoningDelta("think")) == {"reasoning": "think", "done": False}
    assert to_wire_dict(RefusalDelta("no")) == {"refusal": "no", "done": False}
    assert _line(ToolCallDelta(2, "call_9", "lookup", '{"q"')) == {
        "tool_call": {"index": 2, "id": "call_9", "name": "lookup", "arguments_delta": '{"q"'},
        "done": False,
    }


def test_a_delta_whose_text_is_not_a_string_takes_the_general_path() -> None:
    # Decoders check text fields; should one slip through, the line is still valid JSON.
    assert _line(TextDelta(None)) == {"content": None, "done": False}  # type: ignore[arg-type]


def test_a_finished_line_carries_the_answer_metrics_and_run_id() -> None:
    event = Finished(final_response={"content": "ok"}, metrics={"ttft_ms": 12.5}, run_id="r1")
    assert _line(event) == {"done": True, "final_response": {"content": "ok"}, "metrics": {"ttft_ms": 12.5}, "run_id": "r1"}
    unsaved = Finished(final_response={}, metrics={})
    assert to_wire_dict(unsaved) == {"done": True, "final_response": {}, "metrics": {}}


def test_a_failed_line_says_why_with_status_and_retry_hint_in_protocol_order() -> None:
    event = Failed(
        error="HTTP 429 rate limited", error_type="rate_limit", partial_response={"content": "par"},
        metrics={"total_ms": 5.0}, http_status=429, retry_after="7", run_id="r2",
    )  # fmt: skip
    line = to_json_line(event)
    assert line == (
        '{"done": true, "status": "error", "error": "HTTP 429 rate limited", "error_type": "rate_limit", '
        '"http_status": 429, "retry_after": "7", "partial_response": {"content": "par"}, '
        '"metrics": {"total_ms": 5.0}, "run_id": "r2"}'
    )


def test_a_failed_line_without_hint_or_run_id_leaves_them_out_but_keeps_a_null_status() -> None:
    event = Failed(error="cancelled by the user", error_type="cancelled", partial_response={}, metrics={}, status="cancelled")
    assert _line(event) == {
        "done": True, "status": "cancelled", "error": "cancelled by the user", "error_type": "cancelled",
        "http_status": None, "partial_response": {}, "metrics": {},
    }  # fmt: skip


def test_a_wire_frame_line_has_its_offset_to_the_microsecond() -> None:
    assert _line(WireFrame(12.345678, 'data: {"x": 1}')) == {
        "wire": {"offset_ms": 12.346, "data": 'data: {"x": 1}'},
        "done": False,
    }


def test_a_phase_line_leaves_out_what_the_phase_does_not_have() -> None:
    sent = Phase(SENT, 1.23456, attempt=2)
    assert _line(sent) == {"phase": {"phase": "sent", "offset_ms": 1.235, "attempt": 2}, "done": False}
    retry = Phase(
        RETRYING, 40.0, attempt=1, http_status=429, request_id="req_1", retry_in_s=0.5, max_retries=2,
        detail={"headers": {"retry-after": "1"}},
    )  # fmt: skip
    assert _line(retry) == {
        "phase": {
            "phase": "retrying", "offset_ms": 40.0, "attempt": 1, "http_status": 429, "request_id": "req_1",
            "retry_in_s": 0.5, "max_retries": 2, "detail": {"headers": {"retry-after": "1"}},
        },
        "done": False,
    }  # fmt: skip


def test_run_started_is_not_a_protocol_line() -> None:
    event = RunStarted(run_id="r3", model_config="sim", stream=True)
    assert to_wire_dict(event) is None
    assert to_json_line(event) is None


def test_phase_words_for_a_status_bar() -> None:
    assert Phase(CONNECTING, 0.0).describe() == "connecting…"
    assert Phase(CONNECTING, 900.0, attempt=3).describe() == "connecting… (attempt 3)"
    assert Phase(SENT, 1.0).describe() == "request sent, waiting for the response…"
    assert Phase(HEADERS, 42.06, http_status=200).describe() == "HTTP 200 after 42.1 ms"
    assert (
        Phase(HEADERS, 42.0, http_status=200, request_id="req_7").describe() == "HTTP 200 after 42.0 ms · request id req_7"
    )


def test_retry_words_name_the_status_the_wait_and_the_count() -> None:
    assert (
        Phase(RETRYING, 5.0, attempt=1, http_status=503, retry_in_s=1.23456, max_retries=3).describe()
        == "HTTP 503 — retrying in 1.23 s (1/3)"
    )
    # A connection that failed has no status; an SDK that did not say how long waits "a moment".
    assert Phase(RETRYING, 5.0, attempt=2, max_retries=2).describe() == "retrying in a moment (2/2)"
    assert Phase(RETRYING, 5.0, attempt=1, retry_in_s=0.0, max_retries=1).describe() == "retrying in 0 s (1/1)"
