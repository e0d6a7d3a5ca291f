"""A focused compare column answers the workbench's output keys and scrolls its view."""

from __future__ import annotations

from compare_support import CompareHost, settle, wait_for
from core.request import ChatRequest
from tui.screens.compare_models import ModelsCompareScreen
from tui.widgets.compare import CompareColumn


def models_host(store, names: list[str]) -> CompareHost:  # type: ignore[no-untyped-def]
    configs = [store.get_config(name) for name in names]  # sim_store saved them
    return CompareHost(store, lambda app: ModelsCompareScreen(ChatRequest.from_prompt("hello"), configs))


async def test_ctrl_n_cycles_the_focused_columns_view_and_home_end_scroll_it(sim_store) -> None:
    app = models_host(sim_store, ["demo-diff", "echo"])
    async with app.run_test(size=(100, 14)) as pilot:  # short: the answer is taller than its column
        await settle(pilot)
        first, second = app.screen.query(CompareColumn)
        first.focus()
        await pilot.press("ctrl+n")
        assert (first.output.view, second.output.view) == ("plain", "rendered")
        await pilot.press("ctrl+n")
        assert first.output.view == "wire"
        await pilot.press("ctrl+n")
        assert first.output.view == "rendered"

        await pilot.press("ctrl+n", "ctrl+n")  # the wire view: a line per frame, taller than the column
        scroll = first.output.query_one("#wire")
        await wait_for(pilot, lambda: scroll.max_scroll_y > 0, "the frames to overflow the column")
        await pilot.press("home")
        await wait_for(pilot, lambda: scroll.scroll_y == 0, "Home to scroll to the start")
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: scroll.scroll_y > 0, "PageDown to scroll down")
        await pilot.press("end")
        await wait_for(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y, "End to scroll to the end")
