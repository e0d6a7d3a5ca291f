"""The flush clock restarting from idle: a new run's first frame comes at the base pace,
whatever the last streams' frames cost (their spacing and stretch held ctrl+r's first
frame back by 10-20 ms, bench/tui_responsiveness.py)."""

from __future__ import annotations

from typing import Any

from tui.widgets.output.flush_clock import FLUSH_HZ, FlushClock


class _TimerApp:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def set_timer(self, delay: float, callback: Any, name: str | None = None) -> None:
        self.delays.append(delay)


class _Pane:
    is_attached = True
    _pruning = False

    async def _flush(self) -> None:
        pass


def test_the_first_tick_after_idle_comes_at_the_base_pace() -> None:
    app = _TimerApp()
    clock = FlushClock(app)  # type: ignore[arg-type]
    # as after six costly compare columns: ticks spaced out, frames slow
    clock._interval, clock._frame_s = 0.5, 0.2
    clock.want(_Pane())
    assert app.delays == [1 / FLUSH_HZ]
    assert clock.interval == 1 / FLUSH_HZ
