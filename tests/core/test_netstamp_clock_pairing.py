"""Kernel stamps are wall-clock times, converted to the core's clock through one moment
read on both (core.providers.netstamp._now). A reading the process was preempted in the
middle of would put every stamp off by the preemption: it is taken again, and the moment
is the middle of the first reading that took under 20 µs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.providers import netstamp


def _scripted(monkeypatch: pytest.MonkeyPatch, core: list[float], wall: list[float]) -> None:
    core_readings: Iterator[float] = iter(core)
    wall_readings: Iterator[float] = iter(wall)
    monkeypatch.setattr(netstamp, "clock", lambda: next(core_readings))
    monkeypatch.setattr(netstamp.time, "time", lambda: next(wall_readings))


def test_a_reading_taken_across_a_preemption_is_taken_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first reading spans a second (descheduled); the second takes 1 µs.
    _scripted(monkeypatch, [10.0, 11.0, 12.0, 12.000001, 13.0, 13.000001], [100.0, 102.0, 103.0])
    assert netstamp._now() == (pytest.approx(12.0000005, abs=1e-9), 102.0)


def test_a_reading_of_exactly_20_us_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    _scripted(monkeypatch, [0.0, 20e-6, 1.0, 1.0, 2.0, 2.0], [100.0, 101.0, 102.0])
    assert netstamp._now() == (1.0, 101.0)


def test_a_quick_first_reading_is_used_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _scripted(monkeypatch, [5.0, 5.000002, 9.0, 9.0], [100.0, 101.0])
    assert netstamp._now() == (pytest.approx(5.000001, abs=1e-9), 100.0)
