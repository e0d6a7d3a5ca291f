"""The workbench against a damaged start and a terminating signal."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path
from typing import Callable

import pytest
from textual.pilot import Pilot

from core.simulator import SimulatorServer, scenario_from_dict
from core.store.migrations import LATEST
from core.store.models import ModelConfig
from tui.app import LlmwbApp, StartingScreen, create_app
from tui.screens.main import MainScreen
from tui.termination import end_runs_and_exit


SIZE = (120, 40)
DEADLINE_S = 30.0  # an upper bound for a failing test, never a synchronisation


async def wait_until(pilot: Pilot, condition: Callable[[], object], what: str) -> None:
    end = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("draft", ['{"fields": ["x"], "tools": 5, "stream": "yes"}', "[1, 2]", "{not json", '"text"'])
async def test_a_last_prompt_file_of_the_wrong_shape_is_ignored_with_a_notice(home: Path, draft: str) -> None:
    (home / "last_prompt.json").write_text(draft)
    app = create_app(home)
    shown: list[str] = []
    notify = app.notify
    # Recorded as sent: on a loaded machine a notice may expire before the test looks.
    app.notify = lambda message, **kwargs: (shown.append(str(message)), notify(message, **kwargs))[1]  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await wait_until(pilot, lambda: shown, "the notice")
        [notice] = shown
        assert "last_prompt.json" in notice and ("wrong shape" in notice or "could not be read" in notice)


@pytest.mark.parametrize("damage, message", [
    ("newer", f"made by a newer llmwb (schema {LATEST + 1} > {LATEST})"),
    ("foreign", "another program's SQLite file (tables: notes)"),
])  # fmt: skip
async def test_a_database_llmwb_must_not_open_is_a_clear_start_screen(home: Path, damage: str, message: str) -> None:
    conn = sqlite3.connect(home / "llmwb.db")
    if damage == "newer":
        conn.execute("CREATE TABLE model_config (id INTEGER)")
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    else:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = (home / "llmwb.db").read_bytes()
    app = LlmwbApp()
    async with app.run_test(size=SIZE) as pilot:
        starting = app.screen
        assert isinstance(starting, StartingScreen)
        await wait_until(pilot, lambda: "could not start" in str(starting.query_one("#starting").render()), "refusal")
        shown = str(starting.query_one("#starting").render())
        assert message in " ".join(shown.split()) and "Traceback" not in shown
    assert (home / "llmwb.db").read_bytes() == before


async def test_sigterm_saves_the_streaming_run_as_cancelled_then_exits_143(home: Path, simulator: SimulatorServer):
    simulator.add_scenario(scenario_from_dict({
        "name": "stall-long", "text": "One two three four five six seven eight.", "chunking": {"mode": "word"},
        "timing": {"first_token_ms": 5, "gap_ms": 1}, "fault": {"stall_after_chunks": 4, "stall_s": 60},
    }))  # fmt: skip
    app = create_app(home)
    app.store.save_config(ModelConfig(
        name="stall-long", provider="simulator", model="stall-long", base_url=simulator.root_url + "/v1",
        params={"max_retries": 0},
    ))  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.models.reload(select="stall-long")
        await wait_until(pilot, lambda: (c := screen.models.selected_config) and c.name == "stall-long", "selection")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "four" in screen.output.text, "the stream to flow")

        await end_runs_and_exit(app, signal.SIGTERM)  # what the SIGTERM handler runs

    assert app.return_code == 143
    [run] = app.store.list_runs()
    assert (run.status, run.error) == ("cancelled", "terminated (SIGTERM)")
    assert run.response["content"].startswith("One two three four")


async def test_a_save_the_database_refuses_is_a_notification_and_kept_for_the_next_start(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMWB_LOCK_WAIT", "0.2")
    app = create_app(home)
    shown: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kwargs: (shown.append(str(message)), notify(message, **kwargs))[1]  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.models.reload(select="echo")
        await wait_until(pilot, lambda: (c := screen.models.selected_config) and c.name == "echo", "selection")
        locker = sqlite3.connect(home / "llmwb.db", isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # another program holds the write lock from now on
        try:
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: any("could not save run" in m for m in shown), "the save-failed notice")
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert any("the database is locked by another process" in m for m in shown)
    [kept] = list((home / "unsaved").glob("*.json"))
    restarted = create_app(home)  # the next start imports it
    run = restarted.store.get_run(kept.stem)
    assert run is not None and run.status == "ok"
    assert not kept.exists()
