"""Textual fixes (tui/textual_fixes.py): a frame with a layout arranges the screen once, even
after a scroll (a second arrangement of every widget was ~2 ms of ctrl+r's frame); a widget's
render cache is not kept alive by Textual's background-style cache."""

from __future__ import annotations

import gc
import weakref

from textual._compositor import Compositor
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.color import Color
from textual.containers import VerticalScroll
from textual.style import Style
from textual.widgets import Static

from tui import textual_fixes

textual_fixes.apply()  # as importing tui.app does when the workbench runs


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


def test_rendering_a_widget_no_longer_keeps_its_render_cache_alive() -> None:
    """Textual cached each widget's background styles keyed on the widget's StylesCache,
    so the last 1,024 widgets' rendered lines outlived them (tui/textual_fixes.py): ~10,700
    objects for each app a test process started. The styles are still the same."""
    cache = StylesCache()
    held = weakref.ref(cache)
    inner, outer = cache.get_inner_outer(Color(10, 20, 30), Color(200, 0, 0, 0.5))
    assert (inner, outer) == (Style(background=Color(10, 20, 30) + Color(200, 0, 0, 0.5)), Style(background=Color(10, 20, 30)))
    del cache
    gc.collect()
    assert held() is None
