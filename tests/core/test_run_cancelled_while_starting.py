"""Cancelling a run. One cancelled while its start is still being written (ctrl+q on a
run just begun, six compare columns starting under load) is saved as cancelled, in the
database: the final save waits for the start's write instead of racing it (the race
ended in a UNIQUE failure and the run in unsaved/, its row left `running`). A cancel
may carry its reason (the app was quit), saved by whoever streams the run."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from runkit import openai_config

from core import runner
from core.request import ChatRequest
from core.runner import RunOptions, start_run
from core.seed import ensure_seeded
from core.store import Store
from core.store.lite import LiteStore


class _HeldStart:
    """Wraps a store: the run's start is written only once `release` is set; records
    whether the final save began while that write was still waiting."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.entered, self.release = threading.Event(), threading.Event()
        self.starting = False
        self.saved_during_start = False

    def create_run(self, run: Any) -> None:
        self.starting = True
        self.entered.set()
        self.release.wait(30)
        self.store.create_run(run)
        self.starting = False

    def finish_run(self, run: Any, frames: Any, *, saved: int = 0) -> None:
        self.saved_during_start = self.saved_during_start or self.starting
        self.store.finish_run(run, frames, saved=saved)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _store(kind: str, tmp_path: Path) -> Any:
    store = Store(tmp_path / "llmwb.db")
    ensure_seeded(store)
    if kind == "sqlite3":
        store.close()
        lite = LiteStore.open(tmp_path / "llmwb.db")
        assert lite is not None
        return lite
    return store


@pytest.mark.parametrize("kind", ["sqlmodel", "sqlite3"])
async def test_a_run_cancelled_while_its_start_is_written_is_saved_as_cancelled(
    simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    store = _store(kind, tmp_path)
    held = _HeldStart(store)
    saving = threading.Event()
    original_save = runner._RunState.save

    async def save(state: Any) -> None:
        saving.set()  # the cancelled run has reached its save: now let the start's write land
        held.release.set()
        await original_save(state)

    monkeypatch.setattr(runner._RunState, "save", save)
    handle = start_run(openai_config(simulator.root_url, "demo-fast"), ChatRequest.from_prompt("go"), RunOptions(store=held))
    assert await asyncio.to_thread(held.entered.wait, 30)
    handle.cancel()
    await handle.wait()

    assert saving.is_set() and not held.saved_during_start
    row = store.get_run(handle.run_id)
    assert row is not None and (row.status, row.error_type) == ("cancelled", "cancelled")
    assert store.unsaved == {} and not (tmp_path / "unsaved").exists()


async def test_a_run_cancelled_with_a_reason_is_saved_and_ended_with_it(simulator, tmp_path: Path) -> None:
    """ctrl+q cancels each run with the quit as its reason: whoever streams the run saves it
    so (the app writes nothing of its own at exit); a plain cancel stays the user's."""
    store = _store("sqlmodel", tmp_path)
    config = openai_config(simulator.root_url, "fault-stall")  # four chunks, then 1.5 s of nothing
    quit_run = start_run(config, ChatRequest.from_prompt("go"), RunOptions(store=store))
    plain_run = start_run(config, ChatRequest.from_prompt("go"), RunOptions(store=store))
    quit_run.cancel("llmwb was quit while it streamed (ctrl+q)")
    quit_run.cancel()  # a second cancel without one keeps the first reason
    plain_run.cancel()
    last = {}
    for handle in (quit_run, plain_run):
        async for event in handle.events():
            last[handle.run_id] = event
    assert last[quit_run.run_id].error == "llmwb was quit while it streamed (ctrl+q)"
    assert last[plain_run.run_id].error == "cancelled by the user"
    for handle in (quit_run, plain_run):
        row = store.get_run(handle.run_id)
        assert row.status == "cancelled" and row.error == last[handle.run_id].error
