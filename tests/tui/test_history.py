"""The history modal: what a row says, and what its keys do."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from textual.widgets import DataTable, Input

from core.request import ChatRequest
from core.store.models import Run
from output_host import open_history, wait_until
from tui.app import LlmwbApp
from tui.screens.compare_models import ModelsCompareScreen
from tui.screens.compare_stream import StreamCompareScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.main import MainScreen
from tui.widgets.history import HistoryScreen, rows

T0 = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)


def saved_run(store, name: str, prompt: str, *, minutes: int, **extra) -> Run:  # type: ignore[no-untyped-def]
    stream = extra.pop("stream", True)
    run = Run(
        model_config_name=name, provider="simulator", model=name, created_at=T0 + timedelta(minutes=minutes),
        stream=stream, request=ChatRequest.from_prompt(prompt, stream=stream).to_dict(),
        status=extra.pop("status", "ok"), response={"content": f"answer to {prompt}"},
        metrics={"ttft_ms": 152.4, "total_ms": 12_345.0, "prompt_tokens": 12, "completion_tokens": 40,
                 "usage_source": "estimated", "cost_usd": 0.000123},
        **extra,
    )  # fmt: skip
    store.create_run(run)
    store.finish_run(run, [])
    return run


def test_a_row_reads_like_a_summary() -> None:
    run = Run(
        model_config_name="demo-fast", provider="simulator", model="demo-fast", created_at=T0,
        status="error", error_type="rate_limit", group_id="g1",
        request=ChatRequest.from_prompt("one two three four five six seven eight nine ten").to_dict(),
        metrics={"ttft_ms": 152.4, "total_ms": 12_345.0, "prompt_tokens": 12, "completion_tokens": 40,
                 "usage_source": "estimated", "cost_usd": 0.000123},
    )  # fmt: skip
    when, model, mode, status, ttft, total, tokens, cost, part_of, prompt = rows.row(run)
    assert (model, mode, status, part_of) == ("demo-fast", "stream", "rate_limit", "comparison")
    assert (ttft, total, tokens, cost) == ("152 ms", "12.3 s", "~12+40", "~$0.000123")
    assert prompt == "one two three four five six seven eight…"
    assert rows.when(T0, now=T0.astimezone()) == T0.astimezone().strftime("%H:%M:%S")
    assert rows.when(T0, now=(T0 + timedelta(days=3)).astimezone()) == T0.astimezone().strftime("%b %d %H:%M")
    assert rows.when(T0, now=(T0 + timedelta(days=400)).astimezone()) == T0.astimezone().strftime("%Y-%m-%d %H:%M")


def test_missing_figures_show_a_dash() -> None:
    run = Run(model_config_name="x", provider="openai", model="m", status="cancelled")
    assert rows.row(run)[3:9] == ("cancelled", "—", "—", "—", "—", "")


async def test_lists_newest_first_and_opens_or_loads(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    saved_run(app.store, "demo-fast", "older prompt", minutes=0)
    newer = saved_run(app.store, "echo", "newer prompt", minutes=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+o")
        history = app.screen
        assert isinstance(history, HistoryScreen)
        table = history.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        assert [table.get_row_at(i)[-1] for i in range(table.row_count)] == ["newer prompt", "older prompt"]
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await wait_until(pilot, lambda: screen.output.text == "answer to newer prompt")
        # the run's figures, and how it was sent (its metrics here carry no "stream")
        assert screen.metrics.final_metrics == {"stream": True, **newer.metrics}

        # The editor holds a typed prompt: `p` asks before replacing it.
        typed = screen.editor.prompt_text
        assert typed.strip()
        await open_history(pilot, runs=2)
        await pilot.press("down", "p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await pilot.pause()
        assert screen.editor.prompt_text == typed  # kept
        await open_history(pilot, runs=2)
        await pilot.press("down", "p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await pilot.pause()
        assert screen.editor.build_request().last_user_text == "older prompt"


async def test_escape_closes_and_an_empty_history_says_so(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+o")
        assert "No runs yet" in str(app.screen.query_one("#history-empty").render())
        await pilot.press("enter", "escape")
        assert isinstance(app.screen, MainScreen)


async def test_a_compared_run_reopens_its_comparison(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    saved_run(app.store, "demo-fast", "both ways", minutes=0, group_id="stream-group", stream=True)
    saved_run(app.store, "demo-fast", "both ways", minutes=1, group_id="stream-group", stream=False)
    saved_run(app.store, "demo-fast", "two models", minutes=2, group_id="models-group")
    saved_run(app.store, "echo", "two models", minutes=3, group_id="models-group")
    saved_run(app.store, "echo", "alone", minutes=4)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        history = await open_history(pilot)
        await pilot.press("c")  # the newest run was not compared: the key says so
        await wait_until(pilot, lambda: any("not part of a comparison" in n.message for n in app._notifications))
        assert app.screen is history
        await pilot.press("down", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelsCompareScreen))
        app.pop_screen()
        await open_history(pilot, runs=5)
        await pilot.press("down", "down", "down", "down", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, StreamCompareScreen))


def prompts(history: HistoryScreen) -> list[str]:
    return [rows.user_text(run.request) for run in history.shown_runs]



async def test_search_and_filters_narrow_the_list(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    saved_run(app.store, "demo-fast", "weather in Tokyo", minutes=0)
    saved_run(app.store, "echo", "hello there", minutes=1, stream=False)
    saved_run(app.store, "echo", "another hello", minutes=2, status="error", error_type="rate_limit")
    async with app.run_test(size=(120, 40)) as pilot:
        history = await open_history(pilot)
        await pilot.press("slash", *"hello")
        await wait_until(pilot, lambda: prompts(history) == ["another hello", "hello there"])
        await pilot.press(*" status:error")
        await wait_until(pilot, lambda: prompts(history) == ["another hello"])
        search = history.query_one("#history-search", Input)
        search.value = "mode:non-stream"
        await wait_until(pilot, lambda: prompts(history) == ["hello there"])
        search.value = "colour:red"
        await wait_until(pilot, lambda: "unknown filter" in str(history.query_one("#history-problem").render()))
        search.value = ""
        await pilot.press(*"tokyo", "enter")  # Enter: on to the results, then Enter opens
        await wait_until(pilot, lambda: prompts(history) == ["weather in Tokyo"])
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_pages_load_past_fifty(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    for i in range(55):
        saved_run(app.store, "echo", f"run {i}", minutes=i)
    async with app.run_test(size=(120, 40)) as pilot:
        history = await open_history(pilot)
        assert len(history.shown_runs) == 50
        table = history.query_one(DataTable)
        table.move_cursor(row=48)
        await pilot.press("down")  # onto the last loaded row: the next page comes
        await wait_until(pilot, lambda: len(history.shown_runs) == 55)
        assert prompts(history)[-1] == "run 0"


async def test_delete_asks_and_export_writes_a_file(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    keep = saved_run(app.store, "echo", "keep me", minutes=0)
    doomed = saved_run(app.store, "echo", "delete me", minutes=1)
    async with app.run_test(size=(120, 40)) as pilot:
        history = await open_history(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await pilot.pause()
        assert app.store.get_run(doomed.id) is not None  # asked, refused: kept
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: prompts(history) == ["keep me"])
        assert app.store.get_run(doomed.id) is None

        await pilot.press("x")
        await pilot.pause()
        await pilot.press("m")
        exported = app.data_dir / "exports" / f"run-{keep.id}.md"
        await wait_until(pilot, lambda: exported.exists())
        assert "keep me" in exported.read_text()
