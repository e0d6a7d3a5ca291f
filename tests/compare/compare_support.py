"""Helpers the compare tests import: simulator model configs and a minimal host app
(with `store`, as LlmwbApp has) that opens one compare screen. Kept out of conftest.py,
whose module name every test directory shares."""

from __future__ import annotations

import time
from typing import Callable

from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable

from core.store import Store
from core.store.models import ModelConfig

# Scenario names; quick ones, so Pilot tests finish in well under a second each.
SIM_MODELS = ("demo-diff", "echo", "fault-429", "demo-tools", "fault-stall")


def sim_config(name: str, **fields) -> ModelConfig:  # type: ignore[no-untyped-def]
    # No base URL: the embedded simulator answers. No SDK retries: a 429 fails at once
    # (the scenario's retry-after is 7 s).
    return ModelConfig(name=name, provider="simulator", model=name, params={"max_retries": 0}, **fields)


class CompareHost(App[None]):
    """Stands in for LlmwbApp: a store, and the compare screen pushed on start."""

    def __init__(self, store: Store, make_screen: Callable[["CompareHost"], Screen]) -> None:
        super().__init__()
        self.store = store
        self._make_screen = make_screen

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(self))


# A regression that stops the screen from updating fails here with a message in seconds,
# instead of hanging until pytest-timeout's stack dump. Generous: the machine may be loaded.
WAIT_LIMIT_S = 30.0


async def wait_for(pilot, condition: Callable[[], bool], what: str, limit_s: float = WAIT_LIMIT_S) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until `condition()` holds; fail naming `what` after `limit_s`."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {limit_s:.0f} s still waiting for {what}")
        await pilot.pause()


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Until every worker (runs, output loads) is done and their messages handled."""
    await pilot.pause()
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not all(worker.is_finished for worker in pilot.app.workers):
        if time.monotonic() > deadline:
            running = [w.name for w in pilot.app.workers if not w.is_finished]
            raise AssertionError(f"workers still running after {WAIT_LIMIT_S:.0f} s: {running}")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause()
    await wait_for(pilot, lambda: _tables_measured(pilot.app), "the summary table's column widths")
    await pilot.pause()  # and drawn at those widths


def _tables_measured(app) -> bool:  # type: ignore[no-untyped-def]
    """A DataTable measures its columns when it next goes idle (Textual's `_on_idle`): a frame
    taken before then, as a loaded machine allows, shows columns only as wide as their titles."""
    return not any(table._require_update_dimensions or table._updated_cells for table in app.screen.query(DataTable))
