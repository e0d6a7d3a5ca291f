"""core.compare: summary figures, best marks, output diff, groups of runs."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from compare_support import sim_config
from sqlalchemy import text

from core.compare import (
    RunOutcome,
    RunSpec,
    best_marks,
    compare_outputs,
    group_kind,
    load_group,
    new_group_id,
    run_group,
    summarise,
)
from core.events import Failed, Finished, RunStarted, TextDelta
from core.request import ChatRequest
from core.simulator import scenario_from_dict
from core.store import Store
from core.store.models import ModelConfig, Run


def outcome(label: str, status: str = "ok", stream: bool = True, **metrics: float) -> RunOutcome:
    return RunOutcome(label, stream, run_id=label, status=status, metrics=metrics, response={"finish_reason": "stop"})


def test_summary_rows_carry_the_figures_and_the_error() -> None:
    ok = outcome("a", ttft_ms=120.0, total_ms=900.0, decode_tps=55.5, prompt_tokens=9, completion_tokens=40,
                 cost_usd=0.002, usage_source="estimated")  # fmt: skip
    failed = RunOutcome("b", False, status="error", error="HTTP 429 rate limited", metrics={"total_ms": 30.0})
    rows = summarise([ok, failed])
    assert (rows[0].label, rows[0].mode, rows[0].ttft_ms, rows[0].decode_tps) == ("a", "stream", 120.0, 55.5)
    assert rows[0].usage_estimated and rows[0].finish_reason == "stop" and rows[0].cost_usd == 0.002
    assert (rows[1].mode, rows[1].status, rows[1].ttft_ms) == ("nonstream", "error", None)
    assert rows[1].error == "HTTP 429 rate limited"


def test_best_marks_lowest_times_and_cost_highest_rate() -> None:
    rows = summarise([
        outcome("slow", ttft_ms=300.0, total_ms=900.0, decode_tps=80.0, cost_usd=0.01),
        outcome("fast", ttft_ms=100.0, total_ms=1200.0, decode_tps=40.0, cost_usd=0.02),
        outcome("failed", status="error", ttft_ms=5.0, total_ms=6.0, cost_usd=0.0),  # quick, not good
    ])  # fmt: skip
    assert best_marks(rows) == {"ttft_ms": 1, "total_ms": 0, "decode_tps": 0, "cost_usd": 0}


def test_best_marks_nobody_when_all_equal_or_alone() -> None:
    rows = summarise([outcome("a", cost_usd=0.0, ttft_ms=10.0), outcome("b", cost_usd=0.0, ttft_ms=20.0)])
    assert best_marks(rows) == {"ttft_ms": 0}
    assert best_marks(summarise([outcome("alone", ttft_ms=10.0)])) == {}


def test_compare_outputs_identical_ignores_tool_call_ids() -> None:
    a = {"content": "Hi", "tool_calls": [{"id": "call_1", "name": "f", "arguments": {"x": 1, "y": 2}}]}
    b = {"content": "Hi", "tool_calls": [{"id": "call_9", "name": "f", "arguments": {"y": 2, "x": 1}}]}
    assert compare_outputs(a, b) == (True, [])


def test_compare_outputs_diff_of_text_and_tool_calls() -> None:
    identical, lines = compare_outputs(
        {"content": "Paris\nsits on the Seine", "tool_calls": []},
        {"content": "Paris\nlies on the Seine", "tool_calls": [{"name": "g", "arguments": "{bad"}]},
    )
    assert not identical
    assert lines[:2] == ["--- stream", "+++ nonstream"]
    assert "-sits on the Seine" in lines and "+lies on the Seine" in lines
    assert "+[tool call] g({bad)" in lines


def test_a_tie_for_best_goes_to_the_earliest_row() -> None:
    rows = summarise([
        outcome("worse", ttft_ms=50.0, total_ms=700.0, decode_tps=10.0, cost_usd=0.03),
        outcome("first", ttft_ms=10.0, total_ms=500.0, decode_tps=90.0, cost_usd=0.01),
        outcome("second", ttft_ms=10.0, total_ms=500.0, decode_tps=90.0, cost_usd=0.01),
    ])  # fmt: skip
    assert best_marks(rows) == {"ttft_ms": 1, "total_ms": 1, "decode_tps": 1, "cost_usd": 1}


def test_whitespace_only_differences_are_differences() -> None:
    """Stream and non-stream answers that differ in a space or a line end did differ on
    the wire: "identical" would hide a decoding bug."""
    for a, b in [("Hi there", "Hi  there"), ("Hi", "Hi "), ("Hi", "Hi\n"), ("a\nb", "a\r\nb"), ("a\nb", "a\n\nb")]:
        identical, lines = compare_outputs({"content": a}, {"content": b})
        assert not identical, (a, b)
        assert lines[:2] == ["--- stream", "+++ nonstream"]
    assert compare_outputs({"content": "Hi\n"}, {"content": "Hi\n"}) == (True, [])


async def _collect(specs, store, concurrent):  # type: ignore[no-untyped-def]
    group_id = new_group_id()
    events = [item async for item in run_group(specs, store=store, concurrent=concurrent, group_id=group_id)]
    return group_id, events


async def test_concurrent_group_one_failure_does_not_disturb_the_others(sim_store) -> None:
    request = ChatRequest.from_prompt("hello there")
    specs = [RunSpec(sim_store.get_config(n), request) for n in ("echo", "fault-429", "demo-diff")]
    group_id, events = await _collect(specs, sim_store, concurrent=True)
    finals = {i: e for i, e in events if isinstance(e, (Finished, Failed))}
    assert isinstance(finals[0], Finished) and isinstance(finals[2], Finished)
    assert isinstance(finals[1], Failed) and finals[1].http_status == 429
    assert sorted(i for i, e in events if isinstance(e, RunStarted)) == [0, 1, 2]
    saved = {run.model_config_name: run for run in sim_store.runs_in_group(group_id)}
    assert {name: run.status for name, run in saved.items()} == {"echo": "ok", "fault-429": "error", "demo-diff": "ok"}


async def test_sequential_group_runs_one_after_the_other(sim_store) -> None:
    config = sim_store.get_config("demo-diff")
    request = ChatRequest.from_prompt("hi")
    specs = [RunSpec(config, request), RunSpec(config, replace(request, stream=False))]
    group_id, events = await _collect(specs, sim_store, concurrent=False)
    indexes = [i for i, _ in events]
    assert indexes == sorted(indexes)  # every event of run 0 before any of run 1
    runs = load_group(sim_store, group_id)
    assert [r.stream for r in runs] == [True, False] and group_kind(runs) == "stream"
    streamed, plain = (RunOutcome.from_run(r) for r in runs)
    identical, diff = compare_outputs(streamed.response, plain.response)
    assert not identical
    assert "+Paris is the capital of France. It lies on the Seine and has roughly 2.1 million inhabitants." in diff


async def test_closing_a_concurrent_group_saves_runs_in_flight_as_cancelled(store, simulator) -> None:
    # Two answers that stall after two words: both are in flight when the group is closed
    # (short demo answers could end first on a loaded machine, and be saved as ok).
    specs = []
    for name in ("stall-a", "stall-b"):
        simulator.add_scenario(scenario_from_dict({
            "name": name, "api": "openai", "text": "one two three four", "chunking": {"mode": "word"},
            "timing": {"first_token_ms": 0, "gap_ms": 0}, "fault": {"stall_after_chunks": 2, "stall_s": 600},
        }))  # fmt: skip
        config = store.save_config(ModelConfig(
            name=name, provider="simulator", model=name, base_url=simulator.root_url + "/v1", params={"max_retries": 0},
        ))  # fmt: skip
        specs.append(RunSpec(config, ChatRequest.from_prompt("hello there")))
    group_id = new_group_id()
    events = run_group(specs, store=store, concurrent=True, group_id=group_id)
    async for _, event in events:
        if isinstance(event, TextDelta):
            break  # the user pressed escape while text was arriving
    await events.aclose()
    assert [(r.model_config_name, r.status) for r in sorted(store.runs_in_group(group_id), key=lambda r: r.model_config_name)] == [
        ("stall-a", "cancelled"), ("stall-b", "cancelled"),
    ]  # fmt: skip


def test_load_group_keeps_the_latest_run_per_column(sim_store) -> None:
    async def rerun() -> str:
        request = ChatRequest.from_prompt("hi")
        specs = [RunSpec(sim_store.get_config(n), request) for n in ("echo", "fault-429")]
        group_id, _ = await _collect(specs, sim_store, concurrent=True)
        # A column re-run in the same group, switched to non-stream.
        await _collect([RunSpec(sim_store.get_config("fault-429"), replace(request, stream=False))], sim_store, False)
        again = [e async for e in run_group([RunSpec(sim_store.get_config("echo"), replace(request, stream=False))],
                                            store=sim_store, concurrent=False, group_id=group_id)]  # fmt: skip
        assert again
        return group_id

    group_id = asyncio.run(rerun())
    runs = load_group(sim_store, group_id)
    assert group_kind(runs) == "models"
    assert [(r.model_config_name, r.stream) for r in runs] == [("echo", False), ("fault-429", True)]


def test_sim_config_has_no_base_url() -> None:
    assert sim_config("echo").base_url is None


def _saved_group(store, group_id: str, started: list[tuple[str, int | None]]) -> None:
    """Runs of one comparison, saved in the order given (`created_at` follows it)."""
    base_time = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i, (name, position) in enumerate(started):
        store.create_run(Run(
            model_config_name=name, provider="simulator", model=name, status="ok", group_id=group_id,
            group_position=position, created_at=base_time + timedelta(seconds=i),
        ))  # fmt: skip


def test_a_reopened_comparison_keeps_its_column_order_whichever_run_started_first(store) -> None:
    # Columns started together begin in whichever order their reader processes get going:
    # here the third column's run was saved first and the first column's last.
    _saved_group(store, "g1", [("gamma", 2), ("alpha", 0), ("beta", 1), ("alpha", 0)])
    assert [r.model_config_name for r in load_group(store, "g1")] == ["alpha", "beta", "gamma"]


async def test_a_concurrent_group_saves_each_run_with_its_column(sim_store) -> None:
    request = ChatRequest.from_prompt("hi")
    names = ("fault-429", "echo", "demo-diff")
    group_id, _ = await _collect([RunSpec(sim_store.get_config(n), request) for n in names], sim_store, concurrent=True)
    assert {r.model_config_name: r.group_position for r in sim_store.runs_in_group(group_id)} == {
        "fault-429": 0, "echo": 1, "demo-diff": 2,
    }  # fmt: skip
    assert [r.model_config_name for r in load_group(sim_store, group_id)] == list(names)


def test_a_comparison_saved_before_positions_were_kept_reopens_in_start_order(store) -> None:
    # A schema-3 file (no group_position column) is upgraded in place and its runs keep
    # the order they started in; a column re-run since, with a position, comes first.
    old = store
    _saved_group(old, "g1", [("beta", None), ("alpha", None)])
    with old.engine.begin() as conn:
        conn.execute(text("ALTER TABLE run DROP COLUMN group_position"))
        conn.execute(text("PRAGMA user_version = 3"))
    old.engine.dispose()

    upgraded = Store()
    assert [r.model_config_name for r in load_group(upgraded, "g1")] == ["beta", "alpha"]
    _saved_group(upgraded, "g1", [("zeta", None), ("alpha", 0)])
    assert [r.model_config_name for r in load_group(upgraded, "g1")] == ["alpha", "beta", "zeta"]
