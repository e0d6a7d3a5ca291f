"""One flush tick for all the output panes of an app, and for taking in runs' events.

Runs stream on the core's I/O thread (core.iothread); at each tick the clock drains
every run it follows (`watch`) into its screen, then flushes the panes that were fed.
So the UI loop wakes 15 times a second however fast a stream is, and the stamps of
what it draws were taken on the I/O thread, whatever the tick's lateness.

Each pane buffers what it is fed and draws it at the tick. With a timer per pane,
six compare columns streaming at once flushed at six unrelated moments of every
tenth of a second, and each flush cost a screen layout and repaint of its own (up
to 60 a second); on one shared tick their updates land in the same frame. A
Markdown view whose rendering waited (for its budget, its tail's pace) asks for its
next layout here too, so it lands in a tick's frame rather than in one of its own.
"""

from __future__ import annotations

import asyncio
import logging
from time import perf_counter as clock
from typing import TYPE_CHECKING, Callable, Protocol

from core.events import Event
from core.handle import RunHandle
from tui.widgets.output.render_budget import end_input_hold, input_grace_left, input_hold_left, input_since

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

log = logging.getLogger("llmwb")

# bench/tui_stream.py --app, 2,000 chunks/s: at 10 Hz the wait for the next flush alone
# put chunk-to-screen p95 over 100 ms (105 ms, CPU 26%); 15 Hz: 86 ms, CPU 35%. With
# six compare panes, smaller flushes also cut key p95 (bench/compare_ui.py: 55-85 → 18-20 ms).
FLUSH_HZ = 15
# Each flush costs a layout and a paint of the screen. When they no longer fit in the
# loop's time (six fast compare columns on a loaded machine: a tick ran 0.3-1 s late),
# the flushes and the frames they cost took all of it and every key waited behind them
# (bench/tui_responsiveness.py). So a tick that runs late stretches the interval, up to
# SLOWEST_S, and on-time ticks bring it back: the panes draw less often, keys stay quick.
LATE_S = 0.03
SLOWEST_S = 0.5
STRETCH, RELAX = 1.5, 0.8
INPUT_POLL_S = 0.01
# Input holds the ticks (render_budget: input first), but never longer than this in a row:
# someone typing or holding a key down still sees the streams move, once a second.
HELD_AT_MOST_S = 1.0
# After a key's frame, ticks also wait out render_budget's grace for the next key — when
# the streams' frames cost more than this (wall time from a tick to its frame drawn; six
# compare columns: 30-40 ms of CPU, several times that on a loaded machine). One stream
# on the main screen costs a few ms: its next tokens are not held back after ctrl+r.
GRACE_FRAME_S = 0.02
FRAME_SMOOTHING = 0.3  # weight of the newest frame in the running frame cost
# Ticks come no closer than this many times their frames' cost: the streams' frames take at
# most ~40% of the UI thread (as RENDER_SHARE for Markdown), the rest is left for keys. Six
# compare columns (a frame ~40-60 ms of CPU) draw ~7 times a second instead of 15, and on a
# machine so loaded that such a frame takes 0.3-0.4 s of wall time, about once a second
# (up to SPACED_AT_MOST_S); one stream's frames (a few ms) keep FLUSH_HZ.
FRAME_SPACING = 2.5
SPACED_AT_MOST_S = 1.0


class Flushable(Protocol):
    @property
    def is_attached(self) -> bool: ...

    @property
    def screen(self) -> Screen[object]: ...

    _pruning: bool

    async def _flush(self) -> None: ...


class FlushClock:
    def __init__(self, app: App[object]) -> None:
        self._app = app
        self._due: dict[Flushable, None] = {}  # an ordered set: panes fed since the last tick
        self._watched: dict[RunHandle, tuple[Callable[[list[Event]], None], Callable[[], None]]] = {}
        self._interval = 1 / FLUSH_HZ
        self._due_at = 0.0  # when the next tick should run
        self._running = False
        self._ran_at = 0.0  # when a tick last drew (not skipped for input)
        self._frame_s = 0.0  # running cost of a tick's frame (tick to frame drawn, wall)
        self._ticking: asyncio.Task[None] | None = None  # the tick under way (a reference keeps it)

    @property
    def interval(self) -> float:
        """Seconds between flushes now (1/FLUSH_HZ unless the loop is busy)."""
        return self._interval

    def want(self, pane: Flushable) -> None:
        """Flush `pane` at the next tick."""
        self._due[pane] = None
        self._wake()

    def _wake(self) -> None:
        if not self._running:
            self._running = True
            # From idle the first tick comes at the base pace, with no input grace: the
            # spacing, stretch and frame cost the last streams earned held the new run's
            # first frame after ctrl+r back by 10-20 ms (bench/tui_responsiveness.py).
            self._interval = 1 / FLUSH_HZ
            self._frame_s = 0.0
            self._schedule()

    def _schedule(self, delay: float | None = None) -> None:
        delay = self._interval if delay is None else delay
        self._due_at = clock() + delay
        self._app.set_timer(delay, self._start_tick, name="flush")

    def _start_tick(self) -> None:
        # A task of its own: Textual runs a timer's callback inside the app's message loop,
        # which then could not take a key while a tick waits for one (`_input_came`).
        self._ticking = asyncio.get_running_loop().create_task(self._run_tick())

    async def _run_tick(self) -> None:
        if self._app._exit:
            return
        try:
            await self._tick()
        except Exception as error:  # as Textual treats an error in a timer's callback
            self._app._handle_exception(error)

    def watch(self, handle: RunHandle, feed: Callable[[list[Event]], None], ended: Callable[[], None]) -> None:
        """At each tick, hand what `handle` delivered to `feed`; after its last event, call `ended`."""
        self._watched[handle] = (feed, ended)
        self._wake()

    def _take_events(self) -> None:
        for handle, (feed, ended) in list(self._watched.items()):
            over = handle.all_pushed  # read before draining: then this drain takes the last events
            events = handle.drain()
            try:
                if events:
                    feed(events)
            except Exception:  # one broken consumer must not stop the others' runs being shown
                log.exception("showing the events of run %s failed", handle.run_id)
            if over:
                del self._watched[handle]
                ended()

    def _frame_drawn(self, started: float) -> None:
        cost = clock() - started
        self._frame_s += (cost - self._frame_s) * FRAME_SMOOTHING

    def _out_of_sight(self, pane: Flushable) -> bool:
        """Whether `pane`'s flush waits for its screen to be shown: a screen covered whole
        (the workbench under a comparison), or one of several streams dimmed under a modal
        (F1's keys over a comparison: its screen says so, `STREAMS_WAIT_UNDER_MODAL`). Each
        tick under F1 laid out six columns and repainted the whole dimmed screen beneath
        the keys, and Esc waited for that frame (bench/tui_responsiveness.py). Its events are
        still taken in, stamped where they arrived; they are drawn when the screen is back.
        One stream goes on under a modal (the copy menu over the workbench)."""
        screen, app = pane.screen, self._app
        if screen is app.screen:
            return False
        return screen not in app._background_screens or getattr(screen, "STREAMS_WAIT_UNDER_MODAL", False)

    def drop(self, pane: Flushable) -> None:
        self._due.pop(pane, None)

    async def _tick(self) -> None:
        now = clock()
        hold = input_hold_left(now)
        grace = input_grace_left(now) if self._frame_s > GRACE_FRAME_S else 0.0
        if (hold or grace) and now - self._ran_at < HELD_AT_MOST_S:
            # A key's frame is being drawn, or the next key may come: this tick's layout
            # would delay it (render_budget). A hold ends when that frame is drawn (looked
            # for every INPUT_POLL_S), a grace at its time (only ever moved later).
            wait = INPUT_POLL_S if hold else grace
            self._schedule(max(min(wait, HELD_AT_MOST_S - (now - self._ran_at)), INPUT_POLL_S))
            return
        if hold or grace:
            end_input_hold()  # held long enough: draw the streams (Markdown included)
        self._ran_at = now
        late = clock() - self._due_at
        if late > LATE_S:
            self._interval = min(self._interval * STRETCH, SLOWEST_S)
        else:
            self._interval = max(self._interval * RELAX, 1 / FLUSH_HZ)
        self._interval = max(self._interval, min(self._frame_s * FRAME_SPACING, SPACED_AT_MOST_S))
        try:
            self._take_events()
            due, self._due = self._due, {}
            flushed = keyed = False
            with self._app.batch_update():
                for pane in due:
                    # A pane being removed (its screen closed) may have lost its children already.
                    if not pane.is_attached or pane._pruning:
                        continue
                    if keyed or self._out_of_sight(pane):
                        self._due[pane] = None  # at the next tick / once its screen is shown again
                        continue
                    await pane._flush()
                    flushed = True
                    keyed = await _input_came(now)
            if flushed:
                self._app.call_after_refresh(self._frame_drawn, now)
        finally:
            if self._due or self._watched:
                self._schedule()
            else:
                self._running = False


async def _input_came(since: float) -> bool:
    """Let the app take a key that arrived while a pane flushed; True if one did (since
    `since`, a clock() reading). Then the panes not flushed yet wait for the next tick:
    the key's frame comes first. Six compare columns' flushes took 10-20 ms of CPU in
    one go (parsing the new text's Markdown blocks, wrapping the wire lines), and a key
    pressed meanwhile waited for all of them and then for the layout they asked for
    (bench/tui_frame_cost.py)."""
    # A key from the driver's thread is queued for the app (call_soon_threadsafe), and
    # the app's message task takes it from the turn of the loop after it woke: two turns.
    for _ in range(2):
        await asyncio.sleep(0)
    return input_since(since)


def flush_clock(app: App[object]) -> FlushClock:
    """The app's flush clock (made on first use), kept on the app itself: a weak-keyed
    table whose clock held its app kept every app a process ever built alive."""
    clock: FlushClock | None = getattr(app, "_llmwb_flush_clock", None)
    if clock is None:
        clock = FlushClock(app)
        app._llmwb_flush_clock = clock  # type: ignore[attr-defined]
    return clock


async def follow(app: App[object], handle: RunHandle, feed: Callable[[list[Event]], None]) -> None:
    """Feed `handle`'s events to `feed` on the app's flush clock; returns after the
    run's last event was fed. Cancelling this cancels the run (its last events, the
    cancelled outcome included, are still fed)."""
    ended = asyncio.Event()
    flush_clock(app).watch(handle, feed, ended.set)
    try:
        await ended.wait()
    except asyncio.CancelledError:
        handle.cancel()
        raise
