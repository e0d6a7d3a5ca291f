"""How much of the UI thread rendering Markdown may take, shared by every streaming
Markdown widget of the app (compare columns render in the same layouts).

A token bucket: rendering takes at most RENDER_SHARE of the thread over time, and at
most about RENDER_BURST_S (plus the render under way) at once, so a key waits no
longer than that behind it. Past its share a widget waits — a settled group shows as
its source, the tail as it last was — and catches up when the budget has refilled.
(A budget per layout did not hold: layouts have no marker a widget can see, and six
fast compare columns spent 0.3-0.9 s rendering in one.)

Input first: from a key (or a click, a wheel turn) until the frame that shows its effect
is drawn, streams wait (`hold_for_input`): no Markdown is rendered and the flush clock
skips its ticks, so the layout and paint the key needs carry only the key's own work
(profiled with six fast compare columns: a layout with their flushes and renders cost
~100 ms of CPU, several times that on a loaded machine). Where the streams' frames are
costly, their ticks wait INPUT_GRACE_S more after it (`input_grace_left`; the flush clock
decides): keys come in runs (F1 then Esc, a view switched then scrolled), and a key that
lands while a stream's frame is being drawn waits for all of it (a compare frame is
30-40 ms of CPU, 100-200 ms of a loaded machine's wall time). The flush clock lets a tick
through at least once a second whatever the input (flush_clock.HELD_AT_MOST_S), so a
stream still moves while someone types. What streamed meanwhile is drawn right after; its
stamps were taken where its bytes arrived, so no figure changes.
"""

from __future__ import annotations

from time import perf_counter as clock

RENDER_SHARE = 0.4
# A key landing in a stream's layout waits for the renders in it: bursts of 25 ms (plus the
# render under way) made six compare columns' layouts 60-85 ms of CPU at p90-p95; at 10 ms,
# 47-63 ms (bench/tui_frame_cost.py). The share over time is the same.
RENDER_BURST_S = 0.010
INPUT_HOLD_MAX_S = 0.25  # a key's frame that takes longer than this no longer holds the streams
INPUT_GRACE_S = 0.3  # after a key's frame, costly streams' ticks wait this long for the next key


class _Bucket:
    tokens = 0.0  # seconds of rendering allowed now (negative: owed)
    at = 0.0  # when `tokens` was last refilled
    held_until = 0.0  # clock() before which streams wait for input to be drawn
    grace_until = 0.0  # clock() before which costly streams wait for the next key
    input_at = 0.0  # clock() of the last input


_bucket = _Bucket()


def budget_left(now: float) -> bool:
    """Refill for the time since the last look; True if a render may start."""
    _bucket.tokens = min(RENDER_BURST_S, _bucket.tokens + (now - _bucket.at) * RENDER_SHARE)
    _bucket.at = now
    return _bucket.tokens > 0 and now >= _bucket.held_until


def refill_wait() -> float:
    """Seconds until a render may start again."""
    return max(max(-_bucket.tokens, 0.0) / RENDER_SHARE, input_hold_left(clock())) + 0.001


def hold_for_input() -> None:
    """Input arrived: streams wait until `release_input_hold` (at most INPUT_HOLD_MAX_S)."""
    _bucket.input_at = now = clock()
    _bucket.held_until = now + INPUT_HOLD_MAX_S


def release_input_hold() -> None:
    """The input's effect is drawn: streams go on (costly ones after INPUT_GRACE_S)."""
    _bucket.held_until = 0.0
    _bucket.grace_until = clock() + INPUT_GRACE_S


def end_input_hold() -> None:
    """Streams go on now, grace or not (the flush clock's tick that input held too long)."""
    _bucket.held_until = _bucket.grace_until = 0.0


def input_hold_left(now: float) -> float:
    """Seconds streams still wait for input to be drawn (0: none)."""
    return max(_bucket.held_until - now, 0.0)


def input_since(moment: float) -> bool:
    """Whether input arrived at or after `moment` (a clock() reading)."""
    return _bucket.input_at >= moment


def input_grace_left(now: float) -> float:
    """Seconds left of the grace after the last input's frame (0: none)."""
    return max(_bucket.grace_until - now, 0.0)


def charge(started: float) -> float:
    """Count a render that began at `started` (a clock() reading); returns its end."""
    end = clock()
    _bucket.tokens -= end - started
    return end
