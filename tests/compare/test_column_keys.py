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


async def test_a_scroll_key_is_drawn_in_the_keys_own_frame(sim_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Home, End, the arrows and the page keys scroll before the next frame is drawn, not
    after it (Textual's default): while another column streams, a frame is always due, and
    the scroll waited for a second one."""
    app = models_host(sim_store, ["demo-diff", "echo"])
    async with app.run_test(size=(100, 14)) as pilot:
        await settle(pilot)
        first, second = app.screen.query(CompareColumn)
        first.focus()
        await pilot.press("ctrl+n", "ctrl+n")  # the wire view: taller than the column
        scroll = first.output.query_one("#wire")
        await wait_for(pilot, lambda: scroll.max_scroll_y > 2, "the frames to overflow the column")
        drawn: list[float] = []  # the view's offset as each frame is drawn, from the key's handling on
        handled = [False]
        display, scroll_view = app._display, first.output.scroll_shown_view

        def recording_display(screen, renderable):  # type: ignore[no-untyped-def]
            if handled[0]:
                drawn.append(scroll.scroll_y)
            return display(screen, renderable)

        def handling(where: str) -> None:
            handled[0] = True
            second.output.refresh()  # the other column's stream has a frame due
            scroll_view(where)

        monkeypatch.setattr(app, "_display", recording_display)
        monkeypatch.setattr(first.output, "scroll_shown_view", handling)
        page = scroll.scrollable_content_region.height
        moves = {"home": lambda y: 0, "down": lambda y: y + 1, "pagedown": lambda y: y + page,
                 "pageup": lambda y: y - page, "end": lambda y: scroll.max_scroll_y, "up": lambda y: y - 1}  # fmt: skip
        for key, move in moves.items():
            expected = min(max(move(scroll.scroll_y), 0), scroll.max_scroll_y)
            drawn.clear()
            handled[0] = False
            await pilot.press(key)
            await wait_for(pilot, lambda: bool(drawn), f"a frame after {key}")
            assert drawn[0] == expected, key
