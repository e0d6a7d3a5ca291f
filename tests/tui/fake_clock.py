"""A clock the test moves (`clock.now = …`), for modules that read `clock()` to pace drawing."""

from __future__ import annotations


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
