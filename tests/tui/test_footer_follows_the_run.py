"""The footer says what a key can do now: ctrl+g (cancel) lights up while a run goes and
dims when it ends — the same keys, kept in place, only their state changes."""

from __future__ import annotations

from typing import Callable

from textual.widgets._footer import FooterKey

from core.simulator import SimulatorServer
from output_host import wait_until
from test_app import SIZE, _stalling_config, select_model
from tui.app import LlmwbApp

RUN_TIMEOUT = 20.0  # an upper bound for a failing test, never a synchronisation


def cancel_key(app: LlmwbApp) -> FooterKey:
    [key] = [key for key in app.screen.query(FooterKey) if key.action == "cancel"]
    return key


async def test_cancel_key_is_enabled_only_while_a_run_goes(
    app_factory: Callable[..., LlmwbApp], simulator: SimulatorServer
) -> None:
    stalled = _stalling_config(simulator)
    app = app_factory()
    app.store.save_config(stalled)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, stalled.name)
        await wait_until(pilot, lambda: bool(app.screen.query(FooterKey)))
        assert cancel_key(app).has_class("-disabled")
        keys_before = [key.key_display for key in app.screen.query(FooterKey)]
        await pilot.press("ctrl+r")

        def lit_while_running() -> bool:
            return screen.running and not cancel_key(app).has_class("-disabled")

        await wait_until(pilot, lit_while_running, timeout=RUN_TIMEOUT)
        assert [key.key_display for key in app.screen.query(FooterKey)] == keys_before
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: screen.output.status == "cancelled", timeout=RUN_TIMEOUT)
        await wait_until(pilot, lambda: cancel_key(app).has_class("-disabled"))
