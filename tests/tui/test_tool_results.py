"""Answering a run's tool calls from the workbench: the modal, the next turn, the errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from output_host import open_history, screen_text, wait_until
from tui.app import LlmwbApp
from tui.commands import screen_commands
from tui.screens.help import collect_bindings
from tui.screens.main import MainScreen
from tui.screens.tool_results import ToolResultsScreen

SIZE = (140, 44)
RUN_TIMEOUT = 20.0  # an upper bound for a failing test, never a synchronisation
CANNED = '{"temperature": 18, "unit": "celsius", "conditions": "light rain"}'  # core.seed's get_weather


def main_screen(app: LlmwbApp) -> MainScreen:
    assert isinstance(app.screen, MainScreen)
    return app.screen


async def run_on(pilot: Pilot, name: str) -> MainScreen:
    """Select `name`, run the prompt, wait for the end."""
    app: LlmwbApp = pilot.app  # type: ignore[assignment]
    screen = main_screen(app)
    screen.models.reload(select=name)
    await wait_until(pilot, lambda: (c := screen.models.selected_config) is not None and c.name == name)
    runs_before = len(app.store.list_runs())
    await pilot.press("ctrl+r")
    await wait_for_new_run(pilot, screen, runs_before)
    return screen


async def wait_for_new_run(pilot: Pilot, screen: MainScreen, runs_before: int) -> None:
    """Until a run started after `runs_before` were saved is over (the runner saves it as it starts)."""
    app: LlmwbApp = pilot.app  # type: ignore[assignment]
    await wait_until(pilot, lambda: len(app.store.list_runs()) > runs_before, timeout=RUN_TIMEOUT)
    await wait_until(pilot, lambda: not screen.running and screen.output.status in ("ok", "error"), timeout=RUN_TIMEOUT)


def answer_key_enabled(screen: MainScreen) -> bool:
    """The footer offers Answer (in Cancel's place) only while the shown run can be answered."""
    return any(active.binding.action == "answer_tool_calls" for active in screen.active_bindings.values())


def notified(app: LlmwbApp, words: str) -> bool:
    return any(words in notification.message for notification in app._notifications)


def palette_entry_available(screen: MainScreen) -> bool:
    return {name: callback for name, _, callback in screen_commands(screen)}["Answer tool calls"].available


async def open_answers(pilot: Pilot) -> ToolResultsScreen:
    """Open the modal and wait until it is ready for keys: its boxes composed and the first
    focused (on a loaded machine the screen is pushed well before either)."""
    await pilot.press("ctrl+l")
    await wait_until(
        pilot,
        lambda: isinstance(screen := pilot.app.screen, ToolResultsScreen)
        and bool(boxes := screen.result_boxes)
        and boxes[0].has_focus,
    )
    modal = pilot.app.screen
    assert isinstance(modal, ToolResultsScreen)
    return modal


async def send_and_wait(pilot: Pilot, screen: MainScreen, runs_before: int) -> None:
    await pilot.press("ctrl+s")
    await wait_for_new_run(pilot, screen, runs_before)


def sent_messages(app: LlmwbApp, run_id: str) -> list[dict[str, Any]]:
    saved = app.store.get_run(run_id)
    assert saved is not None
    return saved.request["body"]["messages"]


async def test_tool_calls_answered_from_the_modal_become_the_next_turn(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        assert not answer_key_enabled(screen)  # nothing shown yet
        screen = await run_on(pilot, "demo-tools")
        [first] = app.store.list_runs()
        assert first.response["finish_reason"] == "tool_calls"
        assert answer_key_enabled(screen) and palette_entry_available(screen)

        modal = await open_answers(pilot)
        text = screen_text(app)
        assert "call_paris" in text and "call_tokyo" in text and '"city": "Tokyo"' in text
        paris, tokyo = modal.result_boxes
        assert paris.text == CANNED and tokyo.text == CANNED  # pre-filled from the tool definition
        # Leave Paris canned; replace Tokyo's result with a typed one.
        await pilot.press("tab", "f7", *"clear-22C")
        assert tokyo.text == "clear-22C"
        await send_and_wait(pilot, screen, runs_before=1)

        assert isinstance(app.screen, MainScreen)
        assert screen.output.text == "Paris: light rain, 18 °C. Tokyo: clear, 22 °C. Take an umbrella in Paris."
        second = next(run for run in app.store.list_runs() if run.id != first.id)
        assert second.parent_run_id == first.id and second.status == "ok"
        messages = sent_messages(app, second.id)
        assistant = next(m for m in messages if m["role"] == "assistant")
        assert [call["id"] for call in assistant["tool_calls"]] == ["call_paris", "call_tokyo"]
        tool_messages = [(m["tool_call_id"], m["content"]) for m in messages if m["role"] == "tool"]
        assert tool_messages == [("call_paris", CANNED), ("call_tokyo", "clear-22C")]
        assert "turn 2" in str(screen.query_one("#output-header", Static).render())
        # Turn 1 stays on screen above turn 2's answer: the calls, then the results sent. The
        # pane draws on its flush clock, so the run's end can come a frame before its last text.
        await wait_until(pilot, lambda: "Paris: light rain" in screen_text(app))
        shown = screen_text(app)
        assert shown.index("Turn 1 · assistant") < shown.index("→ tool call get_weather") < shown.index(
            "← result of get_weather"
        ) < shown.index("Turn 2 · assistant (this run)") < shown.index("Paris: light rain")
        # The answer ended the conversation: nothing left to answer.
        assert not answer_key_enabled(screen)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and notified(app, "Nothing to answer")  # the key says why


async def test_tool_use_on_the_anthropic_protocol_is_answered(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await run_on(pilot, "demo-claude")
        [first] = app.store.list_runs()
        [call] = first.response["tool_calls"]
        modal = await open_answers(pilot)
        assert [box.text for box in modal.result_boxes] == [CANNED]
        await send_and_wait(pilot, screen, runs_before=1)

        assert screen.output.text == "It is 18 °C with light rain in 東京 right now — an umbrella would help."
        second = next(run for run in app.store.list_runs() if run.id != first.id)
        assert second.parent_run_id == first.id
        messages = sent_messages(app, second.id)
        blocks = [block for message in messages if isinstance(message["content"], list) for block in message["content"]]
        assert {"thinking", "tool_use", "tool_result"} <= {block["type"] for block in blocks}
        [result] = [block for block in blocks if block["type"] == "tool_result"]
        assert result["tool_use_id"] == call["id"] and CANNED in str(result["content"])


async def test_the_key_follows_the_shown_run(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys = dict(entry for _, entries in collect_bindings(app.screen) for entry in entries)
        assert keys["^l"].startswith("Answer — Answer the shown run's tool calls")  # the help screen's line
        screen = await run_on(pilot, "demo-tools")
        [tool_run] = app.store.list_runs()
        assert answer_key_enabled(screen)

        await run_on(pilot, "echo")  # ends in "stop": nothing to answer
        assert screen.output.status == "ok"
        assert not answer_key_enabled(screen)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)

        # Reopened from the history, the tool-call run can be answered again.
        await open_history(pilot, runs=2)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and answer_key_enabled(screen))
        modal = await open_answers(pilot)
        assert modal.run_id == tool_run.id


async def test_a_call_without_a_result_is_named_and_nothing_is_sent(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await run_on(pilot, "demo-tools")
        modal = await open_answers(pilot)
        await pilot.press("tab", "f7", "backspace", "ctrl+s")
        await pilot.pause()
        assert app.screen is modal
        assert "Every call needs a result: get_weather (call_tokyo) has none" in screen_text(app)
        assert modal.focused is modal.result_boxes[1]
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert len(app.store.list_runs()) == 1


async def test_a_model_config_deleted_meanwhile_is_reported(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await run_on(pilot, "demo-tools")
        await open_answers(pilot)
        app.store.remove_config("demo-tools")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("no longer exists" in n.message for n in app._notifications))
        await wait_until(pilot, lambda: not screen.running)
        assert len(app.store.list_runs()) == 1
        # Still usable: another model runs.
        await run_on(pilot, "echo")
        assert screen.output.status == "ok" and len(app.store.list_runs()) == 2


def test_a_send_before_the_result_boxes_exist_sends_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ctrl+s queued behind the modal's compose (a loaded machine) must not send the
    calls with no results: it waits for the boxes."""
    calls = [{"id": "call_paris", "name": "get_weather", "arguments": "{}"}]
    modal = ToolResultsScreen("run000000001", calls, {"get_weather": "sunny"})
    dismissed: list[object] = []
    monkeypatch.setattr(modal, "dismiss", dismissed.append)
    modal.action_send()
    assert dismissed == []
