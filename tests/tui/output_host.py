"""Tiny host apps that mount the output pane and the metrics sidebar alone, and
helpers to wait for what a user would see (the pane draws on a timer)."""

from __future__ import annotations

from typing import Callable

from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.pilot import Pilot

from tui.widgets.metrics import MetricsSidebar
from tui.widgets.output import OutputPane


class OutputHost(App[None]):
    def compose(self) -> ComposeResult:
        with Horizontal():
            yield OutputPane()
            yield MetricsSidebar()


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run (timers included) until `condition()` holds; fail after `timeout` s."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
        waited += 0.02
    await pilot.pause()


def screen_text(app: App) -> str:
    """The characters on screen now, one line per row (what a user reads)."""
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(segment.text for segment in strip).rstrip() for strip in update.strips)
