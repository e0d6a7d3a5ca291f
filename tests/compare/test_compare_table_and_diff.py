"""What a comparison shows: each column's figures, outcome and server timings in the
summary table; the best mark on every column that has a winner; the diff lines of two
answers (empty answers, tool-call arguments as written); which events a group run
delivers; and a run that breaks inside the runner ending its column with a message."""

from __future__ import annotations

import re
from typing import Any, AsyncIterator

from core import compare
from core.compare import (
    RunOutcome,
    RunSpec,
    SummaryRow,
    best_marks,
    compare_outputs,
    new_group_id,
    run_group,
    summarise,
)
from core.events import Failed, Finished, Phase, RunStarted, WireFrame
from core.request import ChatRequest
from core.store.models import Run


def test_a_group_id_is_g_and_eleven_hex_digits_fresh_each_time() -> None:
    ids = {new_group_id() for _ in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"g[0-9a-f]{11}", group_id) for group_id in ids)


# --- outcomes and the summary table ---------------------------------------------------


def test_a_finished_event_becomes_an_ok_column_with_its_figures() -> None:
    event = Finished(final_response={"content": "hi", "finish_reason": "stop"}, metrics={"ttft_ms": 12.0}, run_id="r1")
    outcome = RunOutcome.from_event("gpt", False, event)
    assert outcome == RunOutcome("gpt", False, "r1", "ok", {"ttft_ms": 12.0}, {"content": "hi", "finish_reason": "stop"})
    assert (outcome.error, outcome.error_type, outcome.http_status, outcome.mode) == (None, None, None, "nonstream")


def test_a_failed_event_becomes_a_column_with_its_error_status_and_partial_answer() -> None:
    event = Failed(
        error="rate limited", error_type="rate_limit", partial_response={"content": "par"}, metrics={"ttfb_ms": 3.0},
        http_status=429, run_id="r2", status="cancelled",
    )  # fmt: skip
    outcome = RunOutcome.from_event("claude", True, event)
    assert outcome == RunOutcome(
        "claude", True, "r2", "cancelled", {"ttfb_ms": 3.0}, {"content": "par"}, "rate limited", "rate_limit", 429
    )
    assert outcome.mode == "stream"


def test_a_saved_run_becomes_the_same_column_it_was_live() -> None:
    row = Run(
        id="r3", model_config_name="local", provider="openai", model="m", stream=False, status="error",
        error="bad gateway", error_type="server", http_status=502, response={"content": "x"}, metrics={"total_ms": 9.5},
    )  # fmt: skip
    outcome = RunOutcome.from_run(row)
    assert outcome == RunOutcome("local", False, "r3", "error", {"total_ms": 9.5}, {"content": "x"}, "bad gateway", "server", 502)
    # a copy: the table never writes into the saved row
    outcome.metrics["total_ms"] = 0.0
    assert row.metrics == {"total_ms": 9.5}


def test_the_summary_row_carries_every_figure_the_table_shows() -> None:
    outcome = RunOutcome(
        "llama", True, "r4", "ok",
        metrics={"ttft_ms": 80.0, "total_ms": 900.0, "decode_tps": 41.0, "prompt_tokens": 26, "completion_tokens": 41,
                 "usage_source": "estimated", "cost_usd": 0.001},
        response={"finish_reason": "stop", "server_timings": {"source": "ollama", "load_ms": 1200.0}},
    )  # fmt: skip
    [row] = summarise([outcome])
    assert row == SummaryRow(
        label="llama", mode="stream", status="ok", run_id="r4", ttft_ms=80.0, total_ms=900.0, decode_tps=41.0,
        prompt_tokens=26, completion_tokens=41, usage_estimated=True, cost_usd=0.001, finish_reason="stop",
        error=None, server_says="load 1.2 s",
    )  # fmt: skip


def _row(status: str = "ok", **figures: Any) -> SummaryRow:
    values: dict[str, Any] = {"ttft_ms": None, "total_ms": None, "decode_tps": None, "cost_usd": None, **figures}
    return SummaryRow("m", "stream", status, None, prompt_tokens=None, completion_tokens=None,
                      usage_estimated=False, finish_reason=None, error=None, **values)  # fmt: skip


def test_a_column_where_everyone_ties_does_not_stop_the_next_columns_from_being_marked() -> None:
    rows = [_row(ttft_ms=50.0, total_ms=300.0, cost_usd=0.2), _row(ttft_ms=50.0, total_ms=200.0, cost_usd=0.1)]
    assert best_marks(rows) == {"total_ms": 1, "cost_usd": 1}


# --- the diff of two answers --------------------------------------------------------------


def test_an_empty_answer_has_no_lines_to_diff() -> None:
    same, diff = compare_outputs({"content": None}, {"content": "hi"})
    assert not same
    assert diff == ["--- stream", "+++ nonstream", "@@ -0,0 +1 @@", "+hi"]
    assert compare_outputs({"content": ""}, {}) == (True, [])


def test_tool_call_arguments_diff_as_written_keys_sorted_unicode_kept() -> None:
    a = {"tool_calls": [{"name": "weather", "arguments": {"unit": "C", "city": "Zürich"}}]}
    b = {"tool_calls": [{"name": "weather", "arguments": {"city": "Zürich", "unit": "F"}}]}
    same, diff = compare_outputs(a, b, a_name="left", b_name="right")
    assert not same
    assert diff == [
        "--- left", "+++ right", "@@ -1 +1 @@",
        '-[tool call] weather({"city": "Zürich", "unit": "C"})',
        '+[tool call] weather({"city": "Zürich", "unit": "F"})',
    ]  # fmt: skip
    reordered = {"tool_calls": [{"name": "weather", "arguments": {"city": "Zürich", "unit": "C"}}]}
    assert compare_outputs(a, reordered) == (True, [])


def test_a_tool_call_without_arguments_shows_empty_parentheses() -> None:
    same, diff = compare_outputs({"content": "a"}, {"content": "a", "tool_calls": [{"name": "now", "arguments": None}]})
    assert not same and diff[-1] == "+[tool call] now()"


# --- the events a group delivers --------------------------------------------------------


async def test_a_group_delivers_wire_frames_unless_told_not_to_and_phases_only_when_asked(sim_store) -> None:
    specs = [RunSpec(sim_store.get_config("echo"), ChatRequest.from_prompt("hi"))]
    default = [event async for _, event in run_group(specs, store=sim_store, concurrent=False)]
    assert any(isinstance(e, WireFrame) for e in default) and not any(isinstance(e, Phase) for e in default)
    quiet = [event async for _, event in run_group(specs, store=sim_store, concurrent=True, wire_frames=False, phases=True)]
    assert not any(isinstance(e, WireFrame) for e in quiet) and any(isinstance(e, Phase) for e in quiet)
    assert isinstance(quiet[-1], Finished)


def _breaking_run(real_run: Any, *, after_final: bool):  # type: ignore[no-untyped-def]
    """`run`, except that the config named "broken" raises: before anything, or after its final event."""

    async def run(config: Any, request: Any, options: Any) -> AsyncIterator[Any]:
        if config.name != "broken":
            async for event in real_run(config, request, options):
                yield event
            return
        if after_final:
            yield Finished(final_response={"content": "done"}, metrics={}, run_id="rb")
        raise KeyError("no such column")

    return run


async def test_a_run_that_raises_ends_its_column_with_an_internal_error_and_the_next_run_goes_on(sim_store, monkeypatch) -> None:
    monkeypatch.setattr(compare, "run", _breaking_run(compare.run, after_final=False))
    request = ChatRequest.from_prompt("hi")
    broken = sim_store.get_config("echo").model_copy(update={"name": "broken"})
    specs = [RunSpec(broken, request), RunSpec(sim_store.get_config("echo"), request)]
    events = [item async for item in run_group(specs, store=sim_store, concurrent=False)]
    assert events[0] == (
        0, Failed(error="internal error: KeyError: 'no such column'", error_type="internal", partial_response={}, metrics={})
    )  # fmt: skip
    assert [type(e) for i, e in events if i == 0] == [Failed]
    assert isinstance(events[1][1], RunStarted) and isinstance(events[-1][1], Finished) and events[-1][0] == 1


async def test_a_run_that_raises_after_its_final_event_ends_only_once(sim_store, monkeypatch) -> None:
    monkeypatch.setattr(compare, "run", _breaking_run(compare.run, after_final=True))
    broken = sim_store.get_config("echo").model_copy(update={"name": "broken"})
    events = [e async for _, e in run_group([RunSpec(broken, ChatRequest.from_prompt("hi"))], store=sim_store, concurrent=True)]
    assert events == [Finished(final_response={"content": "done"}, metrics={}, run_id="rb")]
