"""Bounded waiting for what another thread or process does (never a bare sleep as
synchronisation): poll a check until it holds, or fail naming what never happened."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")

# A bound for a failing test, not a synchronisation: a cold `llmwb` start on a loaded
# 2-core machine imports FastAPI, SQLModel and the SDKs.
DEADLINE_S = 60.0
POLL_INTERVAL_S = 0.02


def poll(check: Callable[[], T | None], what: str, timeout: float = DEADLINE_S) -> T:
    """Call `check` until it returns something truthy and return that; raise an
    AssertionError naming `what` once `timeout` seconds have passed without it."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_INTERVAL_S)
