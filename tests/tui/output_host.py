"""Tiny host apps that mount the output pane and the metrics sidebar alone, and
helpers to wait for what a user would see (the pane draws on a timer)."""

from __future__ import annotations

import os
import time
from typing import Callable

from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.pilot import Pilot
from textual.widgets import DataTable

from tui.widgets.history import HistoryScreen
from tui.widgets.metrics import MetricsSidebar
from tui.widgets.output import OutputPane


class OutputHost(App[None]):
    def compose(self) -> ComposeResult:
        with Horizontal():
            yield OutputPane()
            yield MetricsSidebar()


# A bound for a failing test, never a synchronisation: generous, since a loaded 2-core
# machine (other test workers, a CPU hog) once took over 5 s to open a menu and answer a key.
# A mutation run of a widget module (bench/MUTATION.md) sets it lower: a mutant that breaks
# the pane fails its first wait in seconds, not 30, and hundreds of them are run.
WAIT_LIMIT_S = float(os.environ.get("LLMWB_TEST_WAIT_LIMIT_S", "30"))


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = WAIT_LIMIT_S) -> None:
    """Let the app run (timers included) until `condition()` holds; fail after `timeout`
    seconds of wall-clock time, naming the condition's source line — or at once, with the
    app's exception, when the app failed meanwhile (nothing it would draw can come then)."""
    deadline = time.monotonic() + max(timeout, WAIT_LIMIT_S)
    while not condition():
        where = f"{condition.__code__.co_filename.rsplit('/', 1)[-1]}:{condition.__code__.co_firstlineno}"
        if pilot.app._exception is not None:
            raise AssertionError(f"the app failed while waiting for the condition at {where}") from pilot.app._exception
        if time.monotonic() > deadline:
            raise AssertionError(f"condition at {where} not met after {max(timeout, WAIT_LIMIT_S):.0f} s")
        await pilot.pause(0.02)
    await pilot.pause()


def screen_text(app: App) -> str:
    """The characters on screen now, one line per row (what a user reads)."""
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(segment.text for segment in strip).rstrip() for strip in update.strips)


async def open_history(pilot: Pilot, runs: int | None = None) -> HistoryScreen:
    """ctrl+o, then wait until the history is mounted with its table focused (and holding
    `runs` rows, when given): a key pressed sooner, on a loaded machine, went to a screen
    not yet mounted and was lost, and the next `enter` opened the wrong run."""
    await pilot.pause()
    await pilot.press("ctrl+o")

    def ready() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, HistoryScreen) or not screen.is_mounted:
            return False
        table = screen.query_one(DataTable)
        return (runs is None or table.row_count == runs) and (table.has_focus or not table.display)

    await wait_until(pilot, ready)
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


def response(content: str = "", reasoning: str = "", tool_calls: list | None = None, finish: str = "stop") -> dict:
    """A final response as the core gives one to the pane."""
    return {"content": content, "reasoning": reasoning, "tool_calls": tool_calls or [], "finish_reason": finish}
