"""How much of the UI thread rendering Markdown may take, shared by every streaming
Markdown widget of the app (compare columns render in the same layouts).

A token bucket: rendering takes at most RENDER_SHARE of the thread over time, and at
most about RENDER_BURST_S (plus the render under way) at once, so a key waits no
longer than that behind it. Past its share a widget waits — a settled group shows as
its source, the tail as it last was — and catches up when the budget has refilled.
(A budget per layout did not hold: layouts have no marker a widget can see, and six
fast compare columns spent 0.3-0.9 s rendering in one.)
"""

from __future__ import annotations

from time import perf_counter as clock

RENDER_SHARE = 0.4
RENDER_BURST_S = 0.025


class _Bucket:
    tokens = 0.0  # seconds of rendering allowed now (negative: owed)
    at = 0.0  # when `tokens` was last refilled


_bucket = _Bucket()


def budget_left(now: float) -> bool:
    """Refill for the time since the last look; True if a render may start."""
    _bucket.tokens = min(RENDER_BURST_S, _bucket.tokens + (now - _bucket.at) * RENDER_SHARE)
    _bucket.at = now
    return _bucket.tokens > 0


def refill_wait() -> float:
    """Seconds until a render may start again."""
    return max(-_bucket.tokens, 0.0) / RENDER_SHARE + 0.001


def charge(started: float) -> float:
    """Count a render that began at `started` (a clock() reading); returns its end."""
    end = clock()
    _bucket.tokens -= end - started
    return end
