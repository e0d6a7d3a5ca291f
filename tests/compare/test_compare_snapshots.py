"""How the compare views look at 80×24: finished (reopened from saved runs with
fixed figures, so nothing depends on timing) and mid-run (scripted events)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from compare_support import CompareHost, settle, wait_for

from core.events import RunStarted, TextDelta, WireFrame
from core.store import Store
from core.store.models import Run
from tui.screens.compare_models import ModelsCompareScreen
from tui.screens.compare_stream import StreamCompareScreen
from tui.widgets.compare import CompareColumn

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ANSWER = "Paris is the capital of France. It sits on the Seine and has about two million inhabitants."
ANSWER_NONSTREAM = "Paris is the capital of France. It lies on the Seine and has roughly 2.1 million inhabitants."
REQUEST = {"messages": [{"role": "user", "content": "What is the capital of France?"}], "system": "", "params": {},
           "tools": [], "tool_choice": None, "stream": True}  # fmt: skip


def saved_run(run_id: str, model: str, *, stream: bool, start_s: float, status: str = "ok", content: str = ANSWER,
              ttft: float | None = 120.0, total: float = 480.0, tps: float | None = 52.0, cost: float = 0.000051,
              error: str | None = None, http_status: int | None = None) -> Run:  # fmt: skip
    metrics = {
        "ttft_ms": ttft if stream else total, "total_ms": total, "decode_tps": tps if stream else None,
        "prompt_tokens": 9, "completion_tokens": 23 if status == "ok" else 0, "usage_source": "provider",
        "cost_usd": cost,
    }  # fmt: skip
    return Run(
        id=run_id, created_at=T0 + timedelta(seconds=start_s), finished_at=T0 + timedelta(seconds=start_s + 1),
        model_config_name=model, provider="simulator", model=model, stream=stream, status=status, error=error,
        error_type="rate_limit" if http_status == 429 else None, http_status=http_status, request=REQUEST,
        response={"content": content, "reasoning": "", "tool_calls": [],
                  "finish_reason": "stop" if status == "ok" else "error"},
        metrics=metrics, group_id="gsnapshot001",
    )  # fmt: skip


def save(store: Store, runs: list[Run]) -> None:
    for run in runs:
        store.create_run(run)
        store.finish_run(run, [(run.metrics["ttft_ms"] or 0.0, 'data: {"choices":[]}')])


@pytest.fixture
def models_group(sim_store) -> Store:  # type: ignore[no-untyped-def]
    save(sim_store, [
        saved_run("run000000001", "demo-diff", stream=True, start_s=0),
        saved_run("run000000002", "echo", stream=True, start_s=0.1, content="What is the capital of France?",
                  ttft=60.0, total=260.0, tps=31.0, cost=0.000012),
        saved_run("run000000003", "fault-429", stream=True, start_s=0.2, status="error", content="", ttft=None,
                  total=31.0, tps=None, cost=0.0, http_status=429,
                  error="HTTP 429 rate limited: Rate limit reached for requests (simulated)"),
    ])  # fmt: skip
    return sim_store


@pytest.fixture
def stream_group(sim_store) -> Store:  # type: ignore[no-untyped-def]
    save(sim_store, [
        saved_run("run000000011", "demo-diff", stream=True, start_s=0),
        saved_run("run000000012", "demo-diff", stream=False, start_s=2, content=ANSWER_NONSTREAM, total=390.0),
    ])  # fmt: skip
    return sim_store


def test_models_compare_finished(snap_compare, models_group) -> None:  # type: ignore[no-untyped-def]
    app = CompareHost(models_group, lambda app: ModelsCompareScreen.from_group(models_group, "gsnapshot001"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_stream_compare_finished(snap_compare, stream_group) -> None:  # type: ignore[no-untyped-def]
    app = CompareHost(stream_group, lambda app: StreamCompareScreen.from_group(stream_group, "gsnapshot001"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_models_compare_mid_run(snap_compare, models_group) -> None:  # type: ignore[no-untyped-def]
    """Column 1 re-running live: scripted events, so the frame shown is always the same."""

    async def mid_run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        column = pilot.app.screen.query_one("#column-1", CompareColumn)
        column.feed(RunStarted("run000000099", "echo", True))
        column.feed(WireFrame(73.0, 'data: {"choices":[{"delta":{"content":"What is"}}]}'))
        column.feed(TextDelta("What is"))
        plain = column.output.query_one("#plain")
        await wait_for(pilot, lambda: plain.text == "What is", "the column to show 'What is'")
        await settle(pilot)

    app = CompareHost(models_group, lambda app: ModelsCompareScreen.from_group(models_group, "gsnapshot001"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_run)


def test_stream_compare_mid_run(snap_compare, stream_group) -> None:  # type: ignore[no-untyped-def]
    """The streamed column live, the non-streamed one still waiting for its body:
    scripted events, so the frame shown is always the same."""

    async def mid_run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        screen = pilot.app.screen
        streamed = screen.query_one("#stream-column", CompareColumn)
        waiting = screen.query_one("#nonstream-column", CompareColumn)
        streamed.feed(RunStarted("run000000098", "demo-diff", True))
        streamed.feed(WireFrame(118.0, 'data: {"choices":[{"delta":{"content":"Paris is the"}}]}'))
        streamed.feed(TextDelta("Paris is the"))
        waiting.feed(RunStarted("run000000099", "demo-diff", False))
        plain = streamed.output.query_one("#plain")
        await wait_for(pilot, lambda: plain.text == "Paris is the", "the column to show 'Paris is the'")
        await settle(pilot)

    app = CompareHost(stream_group, lambda app: StreamCompareScreen.from_group(stream_group, "gsnapshot001"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_run)


@pytest.fixture
def six_models_group(sim_store) -> Store:  # type: ignore[no-untyped-def]
    from compare_support import sim_config

    for i in range(1, 4):
        sim_store.save_config(sim_config(f"echo-{i}"))
    names = ["demo-diff", "echo", "echo-1", "echo-2", "echo-3", "fault-429"]
    runs = [
        saved_run(f"run00000010{i}", name, stream=True, start_s=i / 10, ttft=60.0 + 10 * i, total=300.0 + 40 * i)
        for i, name in enumerate(names[:-1])
    ]
    runs.append(saved_run("run000000109", "fault-429", stream=True, start_s=0.9, status="error", content="",
                          ttft=None, total=31.0, tps=None, cost=0.0, http_status=429,
                          error="HTTP 429 rate limited: Rate limit reached for requests (simulated)"))  # fmt: skip
    save(sim_store, runs)
    return sim_store


def test_six_models_fit_at_160x48(snap_compare, six_models_group) -> None:  # type: ignore[no-untyped-def]
    """Six columns do not fit side by side in 160 columns: two rows of three, none cut off."""
    app = CompareHost(six_models_group, lambda app: ModelsCompareScreen.from_group(six_models_group, "gsnapshot001"))
    assert snap_compare(app, terminal_size=(160, 48), run_before=settle)


def test_six_models_at_80x24(snap_compare, six_models_group) -> None:  # type: ignore[no-untyped-def]
    app = CompareHost(six_models_group, lambda app: ModelsCompareScreen.from_group(six_models_group, "gsnapshot001"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
