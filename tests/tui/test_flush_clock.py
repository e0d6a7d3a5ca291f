"""The flush clock, on a clock the test sets and an app that records its timers: panes fed
between ticks draw together at the next tick, a late loop spaces the ticks out and an
on-time one brings them back, costly frames space them too, a key's frame goes first,
runs' events are handed over at each tick until the last one. It paces drawing only: the
events it hands over carry the stamps taken where their bytes arrived."""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pytest

from core.events import Event, TextDelta
from fake_clock import Clock
from tui.widgets.output import flush_clock as clock_module
from tui.widgets.output import render_budget as budget
from tui.widgets.output.flush_clock import FLUSH_HZ, flush_clock, follow

BASE = 1 / FLUSH_HZ


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One clock for the flush clock and the render budget (fresh: the app's is one per process)."""
    fake = Clock(100.0)
    monkeypatch.setattr(clock_module, "clock", fake)
    monkeypatch.setattr(budget, "clock", fake)
    monkeypatch.setattr(budget, "_bucket", budget._Bucket())
    return fake


class Screen:
    """A screen; only the comparison's sets STREAMS_WAIT_UNDER_MODAL (Textual's have no such attribute)."""


class FakeApp:
    """What the flush clock asks of Textual's App: timers, one batched update, a callback
    after the next frame, the screen shown and those under it."""

    def __init__(self) -> None:
        self.timers: list[tuple[float, Callable[[], None], str | None]] = []
        self.after_frame: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self.errors: list[Exception] = []
        self.screen = Screen()
        self._background_screens: list[Screen] = []
        self._exit = False
        self.updating = False

    def set_timer(self, delay: float, callback: Callable[[], None], name: str | None = None) -> None:
        self.timers.append((delay, callback, name))

    @contextmanager
    def batch_update(self) -> Iterator[None]:
        self.updating = True
        try:
            yield
        finally:
            self.updating = False

    def call_after_refresh(self, callback: Callable[..., None], *args: Any) -> None:
        self.after_frame.append((callback, args))

    def _handle_exception(self, error: Exception) -> None:
        self.errors.append(error)

    def next_delay(self) -> float:
        """The delay of the one tick scheduled (the clock keeps exactly one)."""
        assert len(self.timers) == 1, self.timers
        assert self.timers[0][2] == "flush"
        return self.timers[0][0]

    async def tick(self, now: Clock, late: float = 0.0) -> None:
        """Fire the scheduled tick `late` seconds after it was due (or now, if a frame drawn
        since took longer), and let it run to its end."""
        flush = flush_clock(self)  # type: ignore[arg-type]
        self.next_delay()
        _, callback, _ = self.timers.pop()
        now.now = max(now.now, flush._due_at + late)
        callback()
        assert flush._ticking is not None
        await flush._ticking

    def draw_frame(self, now: Clock, cost: float) -> None:
        """The frame the tick asked for is drawn `cost` seconds after the tick began."""
        callbacks, self.after_frame = self.after_frame, []
        for callback, args in callbacks:
            now.now = args[0] + cost
            callback(*args)


class Pane:
    """A stream's pane as the flush clock sees it; `drawn` counts its flushes."""

    def __init__(self, app: FakeApp, log: list[str], name: str, screen: Screen | None = None) -> None:
        self.app, self.log, self.name = app, log, name
        self.screen = screen or app.screen
        self.is_attached = True
        self._pruning = False
        self.again = False  # more text came while it flushed: wanted at the next tick
        self.on_flush: Callable[[], None] | None = None

    async def _flush(self) -> None:
        assert self.app.updating, "a flush outside the tick's batched update"
        self.log.append(self.name)
        if self.on_flush is not None:
            self.on_flush()
        if self.again:
            flush_clock(self.app).want(self)  # type: ignore[arg-type]


def streaming_pane(app: FakeApp, drawn: list[str]) -> Pane:
    """A stream's pane wanted on the app's flush clock, and again at every tick (text keeps coming)."""
    pane = Pane(app, drawn, "pane")
    pane.again = True
    flush_clock(app).want(pane)  # type: ignore[arg-type]
    return pane


class Run:
    """A run's handle as the flush clock reads it: events pushed by the I/O thread."""

    run_id = "run-1"

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.all_pushed = False
        self.cancelled = False
        self.while_drained: Callable[[], None] | None = None

    def drain(self) -> list[Event]:
        events, self.events = self.events, []
        if self.while_drained is not None:  # the I/O thread pushes as the UI drains
            self.while_drained()
            self.while_drained = None
        return events

    def cancel(self, reason: str | None = None) -> None:
        self.cancelled = True


def test_each_app_has_one_flush_clock() -> None:
    first, second = FakeApp(), FakeApp()
    assert flush_clock(first) is flush_clock(first)  # type: ignore[arg-type]
    assert flush_clock(second) is not flush_clock(first)  # type: ignore[arg-type]
    assert flush_clock(first).interval == BASE  # type: ignore[arg-type]


async def test_panes_fed_between_ticks_draw_once_together_at_the_next_tick_then_the_clock_rests(now: Clock) -> None:
    app, drawn = FakeApp(), []
    first, second = Pane(app, drawn, "first"), Pane(app, drawn, "second")
    flush = flush_clock(app)  # type: ignore[arg-type]
    flush.want(first)  # type: ignore[arg-type]
    flush.want(second)  # type: ignore[arg-type]
    flush.want(first)  # type: ignore[arg-type]
    assert app.next_delay() == BASE  # one tick, 1/15 s away
    await app.tick(now)
    assert drawn == ["first", "second"]
    assert [args for _, args in app.after_frame] == [(now.now,)]  # the frame's cost is measured from the tick
    assert app.timers == []  # nothing left to draw: no more ticks
    flush.want(second)  # type: ignore[arg-type]
    assert app.next_delay() == BASE
    await app.tick(now)
    assert drawn == ["first", "second", "second"]


async def test_a_pane_dropped_removed_or_being_removed_is_not_drawn(now: Clock) -> None:
    app, drawn = FakeApp(), []
    dropped, detached, pruned, kept = (Pane(app, drawn, name) for name in ("dropped", "detached", "pruned", "kept"))
    detached.is_attached = False
    pruned._pruning = True
    flush = flush_clock(app)  # type: ignore[arg-type]
    for pane in (dropped, detached, pruned, kept):
        flush.want(pane)  # type: ignore[arg-type]
    flush.drop(dropped)  # type: ignore[arg-type]
    flush.drop(dropped)  # type: ignore[arg-type]  # twice: no error
    await app.tick(now)
    assert drawn == ["kept"] and app.timers == [] and app.after_frame != []


async def test_nothing_drawn_no_frame_cost_counted(now: Clock) -> None:
    app, drawn = FakeApp(), []
    gone = Pane(app, drawn, "gone")
    gone.is_attached = False
    flush_clock(app).want(gone)  # type: ignore[arg-type]
    await app.tick(now)
    assert drawn == [] and app.after_frame == []


async def test_a_late_loop_spaces_the_ticks_out_up_to_half_a_second_and_on_time_ticks_bring_them_back(
    now: Clock,
) -> None:
    app, drawn = FakeApp(), []
    pane = Pane(app, drawn, "pane")
    pane.again = True  # streaming: wanted at every tick
    flush = flush_clock(app)  # type: ignore[arg-type]
    flush.want(pane)  # type: ignore[arg-type]
    delays = []
    for _ in range(6):
        await app.tick(now, late=0.1)
        delays.append(app.next_delay())
    assert delays == pytest.approx([BASE * 1.5, BASE * 1.5**2, BASE * 1.5**3, BASE * 1.5**4, 0.5, 0.5])
    assert flush.interval == 0.5
    delays = []
    for _ in range(12):
        await app.tick(now, late=0.02)  # on time (within 30 ms)
        delays.append(app.next_delay())
    assert delays[:3] == pytest.approx([0.4, 0.32, 0.256])
    assert delays[-1] == pytest.approx(BASE) and min(delays) == pytest.approx(BASE)  # never faster than 15 Hz
    assert len(drawn) == 18


async def test_costly_frames_space_the_ticks_out_up_to_a_second(now: Clock) -> None:
    app, drawn = FakeApp(), []
    streaming_pane(app, drawn)
    await app.tick(now)
    app.draw_frame(now, 0.2)  # a frame drawn 0.2 s after its tick: running cost 0.06 s (weight 0.3)
    await app.tick(now)
    assert app.next_delay() == pytest.approx(0.06 * 2.5)  # ticks no closer than 2.5 frames' cost
    app.draw_frame(now, 0.2)  # another: 0.06 + (0.2 - 0.06) * 0.3
    await app.tick(now)
    assert app.next_delay() == pytest.approx(0.102 * 2.5)
    app.draw_frame(now, 2.0)  # a very slow frame: running cost 0.642 s
    await app.tick(now)
    assert app.next_delay() == pytest.approx(1.0)  # but a tick at least every second
    assert len(drawn) == 4


async def test_from_idle_a_new_stream_starts_at_the_base_pace_whatever_the_last_one_cost(now: Clock) -> None:
    app, drawn = FakeApp(), []
    pane = Pane(app, drawn, "pane")
    flush = flush_clock(app)  # type: ignore[arg-type]
    flush.want(pane)  # type: ignore[arg-type]
    await app.tick(now, late=0.1)
    app.draw_frame(now, 0.4)
    assert app.timers == []  # idle
    flush.want(pane)  # type: ignore[arg-type]
    assert app.next_delay() == BASE
    await app.tick(now)
    assert flush.interval == BASE  # the last stream's frame cost does not space the new one's ticks


async def test_a_key_holds_the_ticks_until_its_frame_is_drawn_but_not_longer_than_a_second(now: Clock) -> None:
    app, drawn = FakeApp(), []
    streaming_pane(app, drawn)
    await app.tick(now)  # drawn at the start
    budget.hold_for_input()  # a key: its frame is being drawn
    await app.tick(now)
    assert drawn == ["pane"] and app.next_delay() == pytest.approx(0.01)  # looked at again in 10 ms
    await app.tick(now)
    assert drawn == ["pane"]
    budget.release_input_hold()  # the key's frame is drawn; the streams' frames are cheap: no grace
    await app.tick(now)
    assert drawn == ["pane", "pane"]
    started = now.now
    for _ in range(200):  # keys held down: each one holds the streams again
        budget.hold_for_input()
        await app.tick(now)
        if len(drawn) == 3:
            break
    assert 1.0 <= now.now - started < 1.0 + 0.011  # held at most a second from the last draw (10 ms polls)
    assert budget.input_hold_left(now.now) == 0.0  # and the hold ended: Markdown renders too


async def test_a_stream_starting_while_a_keys_frame_is_drawn_shows_its_first_text_at_its_first_tick(
    now: Clock,
) -> None:
    """Nothing drawn for over a second (ever, here): the hold of at most a second is over."""
    app, drawn = FakeApp(), []
    budget.hold_for_input()
    flush_clock(app).want(Pane(app, drawn, "pane"))  # type: ignore[arg-type]
    await app.tick(now)
    assert drawn == ["pane"] and app.errors == []


async def test_costly_streams_wait_out_the_grace_for_the_next_key(now: Clock) -> None:
    app, drawn = FakeApp(), []
    streaming_pane(app, drawn)
    await app.tick(now)
    app.draw_frame(now, 0.1)  # frames cost 30 ms (weight 0.3 of 0.1 s): costly
    budget.hold_for_input()
    budget.release_input_hold()  # the key's frame is drawn: 0.3 s of grace from now
    released = now.now
    await app.tick(now)
    assert drawn == ["pane"]
    assert app.next_delay() == pytest.approx(released + 0.3 - now.now)  # at the grace's end
    await app.tick(now)
    assert drawn == ["pane", "pane"]


async def test_a_grace_near_the_second_waits_only_what_is_left_of_it(now: Clock) -> None:
    app, drawn = FakeApp(), []
    streaming_pane(app, drawn)
    await app.tick(now)
    drawn_at = now.now
    app.draw_frame(now, 0.1)  # costly frames
    now.now = drawn_at + 0.8
    budget.hold_for_input()
    budget.release_input_hold()  # 0.3 s of grace, but only 0.2 s are left of the second
    await app.tick(now)  # a loop running late: the tick comes now
    assert drawn == ["pane"] and app.next_delay() == pytest.approx(0.2)


async def test_a_hold_with_less_than_a_poll_left_of_the_second_looks_again_a_poll_later(now: Clock) -> None:
    app, drawn = FakeApp(), []
    streaming_pane(app, drawn)
    await app.tick(now)
    now.now += 0.995
    budget.hold_for_input()
    await app.tick(now)  # a loop 0.93 s late
    assert drawn == ["pane"] and app.next_delay() == pytest.approx(0.01)  # not 5 ms: never a busy poll


async def test_a_key_pressed_while_panes_flush_is_drawn_before_the_rest(now: Clock) -> None:
    app, drawn = FakeApp(), []
    first, second, third = (Pane(app, drawn, name) for name in ("first", "second", "third"))
    first.on_flush = budget.hold_for_input  # the user presses a key while it flushes
    flush = flush_clock(app)  # type: ignore[arg-type]
    for pane in (first, second, third):
        flush.want(pane)  # type: ignore[arg-type]
    await app.tick(now)
    assert drawn == ["first"] and app.after_frame != []
    budget.release_input_hold()
    await app.tick(now)
    assert drawn == ["first", "second", "third"]


async def test_a_covered_screens_panes_draw_when_it_is_shown_again(now: Clock) -> None:
    app, drawn = FakeApp(), []
    workbench, dimmed = Screen(), Screen()
    dimmed.STREAMS_WAIT_UNDER_MODAL = True
    app._background_screens = [workbench, dimmed]
    under_modal = Pane(app, drawn, "under a menu", screen=workbench)  # one stream goes on under a modal
    waits = Pane(app, drawn, "under F1", screen=dimmed)
    covered = Pane(app, drawn, "covered", screen=Screen())  # not drawn at all now
    flush = flush_clock(app)  # type: ignore[arg-type]
    for pane in (covered, waits, under_modal):
        flush.want(pane)  # type: ignore[arg-type]
    await app.tick(now)
    assert drawn == ["under a menu"] and app.next_delay() == BASE  # the others at a later tick
    await app.tick(now)
    assert drawn == ["under a menu"]
    app.screen = dimmed
    app._background_screens = [workbench]
    await app.tick(now)
    assert drawn == ["under a menu", "under F1"]
    app.screen = covered.screen
    await app.tick(now)
    assert drawn == ["under a menu", "under F1", "covered"] and app.timers == []


async def test_each_tick_hands_each_run_what_arrived_and_ends_it_after_its_last_event(now: Clock) -> None:
    app = FakeApp()
    run, quiet = Run(), Run()
    fed: list[list[Event]] = []
    ended: list[str] = []
    flush = flush_clock(app)  # type: ignore[arg-type]
    flush.watch(run, fed.append, lambda: ended.append("run"))  # type: ignore[arg-type]
    quiet_fed: list[list[Event]] = []
    flush.watch(quiet, quiet_fed.append, lambda: ended.append("quiet"))  # type: ignore[arg-type]
    assert app.next_delay() == BASE
    first, second, last = (TextDelta(text, offset_ms=offset) for text, offset in (("a", 1.0), ("b", 2.0), ("c", 3.0)))
    run.events = [first, second]
    await app.tick(now)
    assert fed == [[first, second]] and ended == []
    assert quiet_fed == []  # the quiet run has nothing: its feed is not called

    def runner_ends() -> None:  # the I/O thread pushes the last event just after the drain
        run.events.append(last)
        run.all_pushed = True

    run.while_drained = runner_ends
    await app.tick(now)
    assert fed == [[first, second]] and ended == []  # not over: its last event is still to be taken
    quiet.all_pushed = True
    await app.tick(now)
    assert fed == [[first, second], [last]] and sorted(ended) == ["quiet", "run"] and quiet_fed == []
    assert app.timers == []  # no run left, no pane: the clock rests


async def test_a_broken_consumer_does_not_stop_the_other_runs_being_shown(
    now: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    app = FakeApp()
    broken, healthy = Run(), Run()
    broken.run_id = "run-broken"
    fed: list[list[Event]] = []
    ended: list[str] = []

    def fails(events: list[Event]) -> None:
        raise ValueError("a bug in a pane")

    flush = flush_clock(app)  # type: ignore[arg-type]
    flush.watch(broken, fails, lambda: ended.append("broken"))  # type: ignore[arg-type]
    flush.watch(healthy, fed.append, lambda: ended.append("healthy"))  # type: ignore[arg-type]
    delta = TextDelta("a", offset_ms=1.0)
    broken.events, healthy.events = [delta], [delta]
    broken.all_pushed = healthy.all_pushed = True
    with caplog.at_level(logging.ERROR, logger="llmwb"):
        await app.tick(now)
    assert fed == [[delta]] and ended == ["broken", "healthy"]
    assert [record.getMessage() for record in caplog.records] == ["showing the events of run run-broken failed"]
    assert app.errors == []


async def test_an_error_in_a_tick_goes_to_the_app_and_a_closing_app_gets_no_more_ticks(now: Clock) -> None:
    app, drawn = FakeApp(), []
    pane = Pane(app, drawn, "pane")

    def broken() -> None:
        raise RuntimeError("a pane's flush failed")

    pane.on_flush = broken
    flush = flush_clock(app)  # type: ignore[arg-type]
    flush.want(pane)  # type: ignore[arg-type]
    await app.tick(now)
    assert [str(error) for error in app.errors] == ["a pane's flush failed"]
    pane.on_flush = None
    flush.want(pane)  # type: ignore[arg-type]
    app._exit = True
    await app.tick(now)
    assert drawn == ["pane"]  # only the broken flush's start


async def test_follow_returns_after_the_runs_last_event_and_a_cancel_cancels_the_run(now: Clock) -> None:
    app = FakeApp()
    run = Run()
    fed: list[list[Event]] = []
    following = asyncio.create_task(follow(app, run, fed.append))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    delta = TextDelta("a", offset_ms=1.0)
    run.events, run.all_pushed = [delta], True
    await app.tick(now)
    await asyncio.wait_for(following, timeout=30)
    assert fed == [[delta]] and not run.cancelled

    cancelled = Run()
    following = asyncio.create_task(follow(app, cancelled, fed.append))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    following.cancel()
    with pytest.raises(asyncio.CancelledError):
        await following
    assert cancelled.cancelled  # the run is cancelled: its last events are still fed at the ticks
