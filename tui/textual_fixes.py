"""Two fixes to Textual 8.2.8: its compositor, and a cache that kept dead widgets' renders.

`StylesCache.get_inner_outer` is an instance method under `functools.lru_cache(1024)`: its
key holds the widget's StylesCache, so the last 1,024 widgets' caches, and every line they
had rendered, outlived their widgets (~10,700 objects for each app a test process started,
until 1,024 caches were held; in the app, widgets a stream mounts and removes, screens
closed). The two colours alone decide the result: one cache keyed on them is shared by
every widget and keeps none alive.

`Compositor.reflow` arranges every widget (`visible_only=False`) and keeps the result as
its full map, but leaves the full map flagged stale when a scroll (`reflow_visible`) or
a newly mounted widget had flagged it before. The first lookup of a widget outside the
visible map after the layout (Textual's own resize handling asks for hidden widgets'
sizes) then arranged the whole screen a second time: about 2 ms of ctrl+r's ~25 ms of
frame CPU on the main screen, and a layout frame's in a comparison whose columns scroll
as they stream.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from textual._compositor import Compositor
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style

_arrange_everything = Compositor.reflow


def _reflow_keeping_the_full_map(self: Compositor, parent: Any, size: Any) -> Any:
    result = _arrange_everything(self, parent, size)
    self._full_map_invalidated = False  # the map reflow just built covers every widget
    return result


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    # As StylesCache.get_inner_outer computes them (it never reads its instance).
    return Style(background=base_background + background), Style(background=base_background)


def _get_inner_outer(self: StylesCache, base_background: Color, background: Color) -> tuple[Style, Style]:
    return _inner_outer(base_background, background)


def apply() -> None:
    Compositor.reflow = _reflow_keeping_the_full_map  # type: ignore[method-assign]
    StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[method-assign,assignment]
