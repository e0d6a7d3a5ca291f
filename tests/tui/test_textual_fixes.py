"""A frame with a layout arranges the screen once (tui/textual_fixes.py), even after a
scroll: a second arrangement of every widget was ~2 ms of ctrl+r's frame."""

from __future__ import annotations

from textual._compositor import Compositor
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

import tui.app  # noqa: F401 - applies the fix, as running the workbench does


class Lines(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield from (Static(f"line {index}", id=f"line-{index}") for index in range(60))


async def test_a_layout_after_a_scroll_arranges_every_widget_once(monkeypatch) -> None:
    app = Lines()
    async with app.run_test(size=(40, 10)) as pilot:
        app.query_one(VerticalScroll).scroll_end(animate=False)  # a scroll: only the visible part re-arranged
        await pilot.pause()
        arrangements = {"in a layout": 0, "on a lookup": 0}
        in_layout = [False]
        arrange, reflow = Compositor._arrange_root, Compositor.reflow

        def counted_arrange(self, root, size, visible_only=True):
            arrangements["in a layout" if in_layout[0] else "on a lookup"] += 1
            return arrange(self, root, size, visible_only=visible_only)

        def counted_reflow(self, parent, size):
            in_layout[0] = True
            try:
                return reflow(self, parent, size)
            finally:
                in_layout[0] = False

        monkeypatch.setattr(Compositor, "_arrange_root", counted_arrange)
        monkeypatch.setattr(Compositor, "reflow", counted_reflow)
        app.query_one("#line-59", Static).update("line 59\nnow two lines")  # a layout: its height changes
        await pilot.pause()
        assert app.query_one("#line-59").size.height == 2
        assert app.query_one("#line-0").region.height == 1  # scrolled out of view, still found
        assert arrangements["in a layout"] >= 1 and arrangements["on a lookup"] == 0
