"""Between the workbench and the compare screens: reopen a saved comparison, and a
column's `o` (close the comparison, show that column's run on the workbench)."""

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


def reopen_comparison(screen: Screen, group_id: str) -> None:
    """Push the saved comparison `group_id` (from history's `c`), without re-running it."""
    from core.compare import STREAM, group_kind, load_group

    store = screen.app.store  # type: ignore[attr-defined]
    runs = load_group(store, group_id)
    if not runs:
        screen.notify("That comparison has no saved runs left", severity="error")
        return
    # One model run both ways is a stream-vs-non-stream comparison; anything else compares models.
    if group_kind(runs) == STREAM:
        from tui.screens.compare_stream import StreamCompareScreen

        screen.app.push_screen(StreamCompareScreen.from_group(store, group_id))
    else:
        from tui.screens.compare_models import ModelsCompareScreen

        screen.app.push_screen(ModelsCompareScreen.from_group(store, group_id))
