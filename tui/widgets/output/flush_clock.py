"""One flush tick for all the output panes of an app.

Each pane buffers what it is fed and draws it at the tick. With a timer per pane,
six compare columns streaming at once flushed at six unrelated moments of every
tenth of a second, and each flush cost a screen layout and repaint of its own (up
to 60 a second); on one shared tick their updates land in the same frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from textual.app import App

# bench/tui_stream.py --app, 2,000 chunks/s: at 10 Hz the wait for the next flush alone
# put chunk-to-screen p95 over 100 ms (105 ms, CPU 26%); 15 Hz: 86 ms, CPU 35%. With
# six compare panes, smaller flushes also cut key p95 (bench/compare_ui.py: 55-85 → 18-20 ms).
FLUSH_HZ = 15


class Flushable(Protocol):
    @property
    def is_attached(self) -> bool: ...

    _pruning: bool

    async def _flush(self) -> None: ...


class FlushClock:
    def __init__(self, app: App[object]) -> None:
        self._app = app
        self._due: dict[Flushable, None] = {}  # an ordered set: panes fed since the last tick
        self._timer = app.set_interval(1 / FLUSH_HZ, self._tick, pause=True)
        self._running = False

    def want(self, pane: Flushable) -> None:
        """Flush `pane` at the next tick."""
        self._due[pane] = None
        if not self._running:
            self._running = True
            self._timer.resume()

    def drop(self, pane: Flushable) -> None:
        self._due.pop(pane, None)

    async def _tick(self) -> None:
        due, self._due = self._due, {}
        with self._app.batch_update():
            for pane in due:
                # A pane being removed (its screen closed) may have lost its children already.
                if pane.is_attached and not pane._pruning:
                    await pane._flush()
        if not self._due:
            self._running = False
            self._timer.pause()


_clocks: WeakKeyDictionary[App[object], FlushClock] = WeakKeyDictionary()


def flush_clock(app: App[object]) -> FlushClock:
    """The app's flush clock (made on first use)."""
    clock = _clocks.get(app)
    if clock is None:
        clock = _clocks[app] = FlushClock(app)
    return clock
