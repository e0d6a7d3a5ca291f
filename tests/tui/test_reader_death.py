"""The app streams each run in a reader process (core.readerproc). If that process is
killed mid-stream, the run ends on screen as an error that says so, and what streamed
stays on screen and in the store."""

from __future__ import annotations

import os
import signal
from typing import Callable

from core.simulator import SimulatorServer, scenario_from_dict
from core.store.models import ModelConfig
from output_host import wait_until
from tui.app import LlmwbApp
from tui.screens.main import MainScreen
from tui.widgets.output.cards import RunOutcomeBox

SIZE = (140, 44)
RUN_TIMEOUT = 30.0  # an upper bound for a failing test, never a synchronisation
# Three words, then the stream holds still until the reader is killed: the kill always lands mid-run.
STALLED = {
    "name": "stalled", "api": "openai", "text": "one two three four five", "chunking": {"mode": "word"},
    "timing": {"first_token_ms": 0, "gap_ms": 0}, "fault": {"stall_after_chunks": 3, "stall_s": 600},
}  # fmt: skip


async def test_a_reader_killed_mid_stream_shows_the_error_and_keeps_the_output(
    app_factory: Callable[..., LlmwbApp], simulator: SimulatorServer
) -> None:
    simulator.add_scenario(scenario_from_dict(STALLED))
    app = app_factory()
    config = ModelConfig(
        name="stalled", provider="openai-compatible", model="stalled", base_url=simulator.root_url + "/v1",
        params={"max_retries": 0},
    )  # fmt: skip
    app.store.save_config(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), timeout=RUN_TIMEOUT)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.models.reload(select="stalled")
        await wait_until(pilot, lambda: (c := screen.models.selected_config) is not None and c.name == "stalled")
        await pilot.press("ctrl+r")
        handle = screen._handle
        assert handle is not None
        await wait_until(pilot, lambda: screen.output.text == "one two three", timeout=RUN_TIMEOUT)
        assert handle.reader_pid is not None and not handle.finished
        os.kill(handle.reader_pid, signal.SIGKILL)
        await wait_until(pilot, lambda: screen.output.status == "error", timeout=RUN_TIMEOUT)
        outcome = str(screen.output.query_one(RunOutcomeBox).render())
        on_screen = screen.output.text
    assert "reader process" in outcome and "ended mid-run" in outcome
    assert on_screen == "one two three"
    run = app.store.get_run(handle.run_id)
    assert run is not None and (run.status, run.error_type) == ("error", "interrupted")
    assert run.response["content"] == "one two three"
