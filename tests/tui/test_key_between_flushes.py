"""A key pressed while the streams' panes are being flushed is drawn before the panes not
flushed yet: they wait for the next tick (six compare columns' flushes took 10-20 ms of
CPU in one go, and the key waited for all of them and for the layout they asked for)."""

from __future__ import annotations

from typing import Callable

from textual import events
from textual.screen import Screen

from output_host import wait_until
from tui.app import LlmwbApp
from tui.screens.help import HelpScreen
from tui.widgets.output.flush_clock import flush_clock
from tui.widgets.output.render_budget import input_hold_left


class _Pane:
    """A stream's pane as the flush clock sees it; `flushed` records what the user had
    on screen when it flushed (was the key's effect drawn yet?)."""

    is_attached = True
    _pruning = False

    def __init__(self, app: LlmwbApp, screen: Screen[object], press: str | None = None) -> None:
        self.app, self.screen, self.press = app, screen, press
        self.flushed: list[bool] = []

    async def _flush(self) -> None:
        from time import perf_counter

        key_drawn = isinstance(self.app.screen, HelpScreen) and input_hold_left(perf_counter()) == 0
        self.flushed.append(key_drawn)
        if self.press:  # the user presses a key while this pane flushes
            self.app.post_message(events.Key(self.press, None))
            self.press = None


async def test_a_key_pressed_during_a_flush_is_drawn_before_the_other_panes_flush(
    app_factory: Callable[..., LlmwbApp],
) -> None:
    app = app_factory()
    async with app.run_test(size=(140, 44)) as pilot:
        await pilot.pause()
        main = app.screen
        first, second = _Pane(app, main, press="f1"), _Pane(app, main)
        clock = flush_clock(app)
        clock.want(first)  # type: ignore[arg-type]
        clock.want(second)  # type: ignore[arg-type]
        await wait_until(pilot, lambda: bool(second.flushed))
        assert first.flushed == [False]
        assert second.flushed == [True]  # the key list was on screen before it flushed
