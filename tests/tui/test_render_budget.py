"""The render budget every streaming Markdown widget shares: rendering gets a burst, then
its share of the time, so a key never waits long behind it; input holds the streams until
its frame is drawn, and costly streams a little longer. On a clock the test sets."""

from __future__ import annotations

import pytest

from fake_clock import Clock
from tui.widgets.output import render_budget as budget


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A fresh budget (the app's is one for the whole process) on a clock the test moves."""
    fake = Clock(10.0)
    monkeypatch.setattr(budget, "_bucket", budget._Bucket())
    monkeypatch.setattr(budget, "clock", fake)
    return fake


def render(clock: Clock, seconds: float) -> None:
    started = clock.now
    clock.now += seconds
    assert budget.charge(started) == clock.now


def test_after_a_render_longer_than_the_burst_rendering_waits_until_its_share_has_refilled(clock: Clock) -> None:
    assert budget.budget_left(10.0)
    render(clock, 0.030)  # 10 ms of burst spent, 20 ms owed
    assert not budget.budget_left(clock.now)  # 30 ms later 12 ms came back (40 %): 8 ms still owed
    assert budget.refill_wait() == pytest.approx(0.008 / budget.RENDER_SHARE + 0.001)
    assert not budget.budget_left(10.045)
    assert budget.budget_left(10.060)


def test_however_long_the_stream_was_idle_one_render_only_gets_the_burst(clock: Clock) -> None:
    """Idle time does not pile up: after a minute, a 20 ms render still has to be paid back."""
    assert budget.budget_left(70.0)
    clock.now = 70.0
    render(clock, 0.020)  # 10 ms owed, 8 ms back in the 20 ms it took
    assert not budget.budget_left(clock.now)
    assert budget.refill_wait() == pytest.approx(0.002 / budget.RENDER_SHARE + 0.001)


def test_a_key_holds_the_streams_until_its_frame_is_drawn_or_a_quarter_second_passed(clock: Clock) -> None:
    budget.budget_left(10.0)
    clock.now = 11.0
    budget.hold_for_input()
    assert budget.input_since(11.0) and not budget.input_since(11.001)
    assert not budget.budget_left(11.1)
    assert budget.input_hold_left(11.1) == pytest.approx(0.15)
    clock.now = 11.1
    assert budget.refill_wait() == pytest.approx(0.151)  # the hold, not the (full) bucket
    assert budget.budget_left(11.26) and budget.input_hold_left(11.26) == 0.0  # held at most 0.25 s


def test_once_the_keys_frame_is_drawn_streams_go_on_and_costly_ones_wait_out_the_grace(clock: Clock) -> None:
    """Early on a clock that starts near zero (perf_counter may): released is released."""
    assert budget.budget_left(0.2)
    clock.now = 0.3
    budget.hold_for_input()
    clock.now = 0.35
    budget.release_input_hold()
    assert budget.budget_left(0.35) and budget.input_hold_left(0.35) == 0.0
    assert budget.input_grace_left(0.45) == pytest.approx(0.2)
    assert budget.input_grace_left(0.7) == 0.0
    budget.hold_for_input()  # the next key of a run of keys
    budget.end_input_hold()  # held too long: the flush clock lets the tick through
    assert budget.budget_left(0.35) and budget.input_grace_left(0.35) == 0.0
    assert budget.input_since(0.35)  # it still was input
