"""Pilot tests of the compare screens on simulator models."""

from __future__ import annotations

from compare_support import CompareHost, settle, sim_config, wait_for
from textual import events
from textual.widgets import SelectionList

from core.request import ChatRequest
from core.simulator import SimulatorServer, scenario_from_dict
from core.store import Store
from core.store.models import ModelConfig
from tui.screens.compare_models import ModelsCompareScreen
from tui.screens.compare_stream import StreamCompareScreen
from tui.widgets.compare import CompareColumn, DiffView, SummaryTable
from tui.widgets.compare.model_picker import ModelPickerScreen


def stream_host(store: Store, model: str) -> CompareHost:
    request = ChatRequest.from_prompt("say this back")
    return CompareHost(store, lambda app: StreamCompareScreen(store.get_config(model), request))


def models_host(store: Store, names: list[str] | None, prompt: str = "hello there") -> CompareHost:
    request = ChatRequest.from_prompt(prompt)
    configs = None if names is None else [store.get_config(n) for n in names]
    return CompareHost(store, lambda app: ModelsCompareScreen(request, configs))


async def test_stream_vs_nonstream_two_columns_identical(sim_store) -> None:
    app = stream_host(sim_store, "echo")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        left, right = screen.query(CompareColumn)
        assert (left.stream, right.stream) == (True, False)
        assert left.status == right.status == "ok"
        assert screen.query_one(DiffView).verdict == "✓ Outputs identical"
        assert left.output.text == right.output.text == "say this back"
        table = screen.query_one(SummaryTable)
        assert [row.mode for row in table.rows_data] == ["stream", "nonstream"]
        assert "one after the other" in str(screen.query_one("#compare-title").content)


async def test_stream_vs_nonstream_shows_the_diff(sim_store) -> None:
    app = stream_host(sim_store, "demo-diff")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        diff = app.screen.query_one(DiffView)
        assert diff.verdict.startswith("≠ Outputs differ") and "word by word" in diff.verdict
        body = diff.query_one(".diff-lines").content
        assert body.plain.startswith("Paris is the capital of France.")  # common words once
        changed = {body.plain[span.start : span.end]: str(span.style) for span in body.spans}
        assert any("strike" in style for style in changed.values())  # words only the stream said
        assert any(style == "green" for style in changed.values())  # words only the non-stream said
        assert diff.query_one(".diff-lines").display


async def test_concurrent_toggle_and_rerun_make_a_new_saved_group(sim_store) -> None:
    app = stream_host(sim_store, "echo")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        first_group = screen.group_id
        await pilot.press("c", "f5")
        await settle(pilot)
        assert screen.concurrent_used is True and screen.group_id != first_group
        assert "concurrently" in str(screen.query_one("#compare-title").content)
        assert sorted(r.stream for r in sim_store.runs_in_group(screen.group_id)) == [False, True]


async def test_escape_cancels_runs_in_flight_and_saves_them(sim_store, simulator: SimulatorServer) -> None:
    # Stalls after four words for longer than any test runs: the built-in fault-stall's
    # 1.5 s could end before a loaded machine's poll saw the four words.
    simulator.add_scenario(scenario_from_dict({
        "name": "stall-long", "text": "One two three four five six seven eight.", "chunking": {"mode": "word"},
        "timing": {"first_token_ms": 0, "gap_ms": 0}, "fault": {"stall_after_chunks": 4, "stall_s": 60},
    }))  # fmt: skip
    sim_store.save_config(ModelConfig(
        name="stall-long", provider="openai-compatible", model="stall-long", base_url=simulator.root_url + "/v1",
        params={"max_retries": 0},
    ))  # fmt: skip
    app = models_host(sim_store, ["stall-long", "echo"])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await pilot.pause()
        group_id = screen.group_id
        stalled = screen.query_one("#column-0", CompareColumn)
        await wait_for(pilot, lambda: stalled.output.text == "One two three four", "the stalled column's first words")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ModelsCompareScreen)
        saved = {r.model_config_name: r for r in sim_store.runs_in_group(group_id)}
        assert saved["stall-long"].status == "cancelled"
        assert saved["stall-long"].response["content"] == "One two three four"  # partial output kept


async def test_models_compare_a_failing_model_keeps_the_others_going(sim_store) -> None:
    app = models_host(sim_store, ["echo", "fault-429", "demo-diff"])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        columns = {c.label: c for c in app.screen.columns}
        statuses = {name: column.status for name, column in columns.items()}
        assert statuses == {"echo": "ok", "fault-429": "error", "demo-diff": "ok"}
        assert columns["fault-429"].outcome.http_status == 429
        assert columns["demo-diff"].output.text.startswith("Paris is the capital")
        rows = {row.label: row for row in app.screen.query_one(SummaryTable).rows_data}
        assert "429" in rows["fault-429"].error and rows["echo"].error is None


async def test_sorting_the_table_changes_row_order(sim_store) -> None:
    app = models_host(sim_store, ["demo-diff", "echo", "fault-429"])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(SummaryTable)
        assert table.ordered_labels == ["demo-diff", "echo", "fault-429"]
        await pilot.press("s")  # model name
        assert table.sort_key == "label"
        await pilot.press("s", "s")  # status: "error" before "ok"
        assert table.sort_key == "status" and table.ordered_labels[0] == "fault-429"
        await pilot.press("s", "s")  # TTFT, then total time: quickest first
        assert table.sort_key == "total_ms"
        shown = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert shown == table.ordered_labels
        totals = {row.label: row.total_ms for row in table.rows_data}
        assert [totals[label] for label in shown] == sorted(totals.values())


async def test_rerun_one_column_switched_to_nonstream(sim_store) -> None:
    app = models_host(sim_store, ["echo", "demo-diff"])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        column = screen.query_one("#column-1", CompareColumn)
        other = screen.query_one("#column-0", CompareColumn)
        first_other_run = other.run_id
        column.focus()
        await pilot.press("m", "f5")
        await settle(pilot)
        assert column.stream is False and column.status == "ok"
        assert column.output.text.startswith("Paris is the capital of France. It lies")  # the non-stream answer
        assert other.run_id == first_other_run  # untouched
        assert [r.mode for r in screen.query_one(SummaryTable).rows_data] == ["stream", "nonstream"]
        assert len(sim_store.runs_in_group(screen.group_id)) == 3


async def test_model_picker_requires_two_to_six(sim_store) -> None:
    app = models_host(sim_store, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ModelPickerScreen)
        await pilot.press("space", "c")  # only one selected
        assert isinstance(app.screen, ModelPickerScreen)
        assert "Select 2 to 6 models" in str(app.screen.query_one("#model-picker-message").content)
        await pilot.press("down", "space", "c")
        await settle(pilot)
        assert isinstance(app.screen, ModelsCompareScreen)
        assert [c.label for c in app.screen.columns] == ["demo-diff", "demo-tools"]


async def test_model_picker_keys_arriving_together_tick_the_rows_they_were_pressed_on(sim_store) -> None:
    """A terminal delivers keys typed fast (or over SSH) in one read: each space ticks the
    row the cursor was on when it was pressed, not the row the cursor reached later."""
    app = models_host(sim_store, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen)
        names = [config.name for config in picker.configs]
        for key in ("space", "down", "down", "space", "down", "space"):  # queued before any is handled
            app.post_message(events.Key(key, " " if key == "space" else None))
        count = picker.query_one("#model-picker-count")
        await wait_for(pilot, lambda: "3 of 6 selected" in str(count.content), "three ticked")
        assert set(picker.query_one(SelectionList).selected) == {names[0], names[2], names[3]}


async def test_model_picker_escape_returns(sim_store) -> None:
    app = models_host(sim_store, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, (ModelPickerScreen, ModelsCompareScreen))


async def test_reopen_from_group_without_rerunning(sim_store) -> None:
    app = models_host(sim_store, ["echo", "fault-429"])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        group_id = app.screen.group_id
    runs_before = len(sim_store.list_runs())
    # Each run keeps its column: the two start in either order, so that is what orders them.
    assert {r.model_config_name: r.group_position for r in sim_store.runs_in_group(group_id)} == {"echo": 0, "fault-429": 1}

    # Either class reopens either kind of comparison.
    reopened = CompareHost(sim_store, lambda app: StreamCompareScreen.from_group(sim_store, group_id))
    async with reopened.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = reopened.screen
        assert isinstance(screen, ModelsCompareScreen)
        columns = {c.label: c for c in screen.columns}
        assert {n: c.status for n, c in columns.items()} == {"echo": "ok", "fault-429": "error"}
        assert columns["echo"].output.text == "hello there"
        assert [r.label for r in screen.query_one(SummaryTable).rows_data] == ["echo", "fault-429"]
    assert len(sim_store.list_runs()) == runs_before


async def test_reopen_stream_comparison(sim_store) -> None:
    app = stream_host(sim_store, "demo-diff")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        group_id = app.screen.group_id
    reopened = CompareHost(sim_store, lambda app: ModelsCompareScreen.from_group(sim_store, group_id))
    async with reopened.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = reopened.screen
        assert isinstance(screen, StreamCompareScreen) and screen.concurrent_used is False
        assert screen.query_one(DiffView).verdict.startswith("≠ Outputs differ")
        assert [c.status for c in screen.query(CompareColumn)] == ["ok", "ok"]


async def test_model_picker_refuses_a_seventh_tick_at_once(sim_store) -> None:
    for i in range(3):
        sim_store.save_config(sim_config(f"echo-{i}"))
    app = CompareHost(sim_store, lambda app: ModelsCompareScreen(ChatRequest.from_prompt("hi"), preselect="echo"))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen)
        count = picker.query_one("#model-picker-count")
        assert str(count.content).startswith("1 of 6 selected")  # the workbench's model, ticked
        await pilot.press("home")
        for _ in range(8):
            await pilot.press("space", "down")
        await pilot.pause()
        assert len(picker.query_one("#model-picker-list").selected) == 6
        assert "At most 6" in str(picker.query_one("#model-picker-message").content)
        assert str(count.content).startswith("6 of 6 selected")


async def test_v_and_r_act_on_the_focused_column_and_y_copies_it(sim_store) -> None:
    app = models_host(sim_store, ["echo", "demo-diff"])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        first = app.screen.columns[0]
        assert app.screen.focused is first  # the column, not its inner pane
        await pilot.press("v")
        assert first.output.view == "plain"
        await pilot.press("y")
        assert app.clipboard == "hello there"


async def test_stream_vs_nonstream_says_so_when_both_fail(sim_store) -> None:
    app = stream_host(sim_store, "fault-429")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        headline = str(app.screen.query_one("#compare-headline").content)
        assert "waiting" not in headline
        assert "stream error" in headline and "nonstream error" in headline
