"""What both compare screens do with a column's `o`: close, and show that run on the workbench."""

from __future__ import annotations

from textual.screen import Screen


def open_on_main(compare_screen: Screen, run_id: str) -> None:
    """Close `compare_screen` (its runs are over or get saved as cancelled) and reopen
    `run_id` on the main screen beneath it."""
    from tui.screens.main import MainScreen

    saved = compare_screen.app.store.get_run(run_id)  # type: ignore[attr-defined]
    if saved is None:
        compare_screen.notify("That run is no longer saved", severity="error")
        return
    below = compare_screen.app.screen_stack[-2] if len(compare_screen.app.screen_stack) > 1 else None
    compare_screen.action_back()  # type: ignore[attr-defined]
    if isinstance(below, MainScreen):
        below.open_run(saved)
