"""Widgets that grow while an answer streams, without a second layout per frame.

Textual sets a widget's `virtual_size` after each layout as a reactive that asks for a
layout, so every widget whose size changed in a layout — the streaming answer, its body,
the view scrolling it — asks for another one right after: a full reflow and repaint of
the screen that changes nothing. With six compare columns growing, every flush cost two
frames (profiled: the second ~40% of the first's CPU), and keys waited behind both
(bench/tui_responsiveness.py). The size is already right when the layout sets it; a
scrollbar that has to appear or go still asks for its own layout.

They also paint cheaply what a new size makes Textual paint again at every frame: their
own blank content (`BlankContent`) and the answer view's scrollbar (`SteadyScrollBar`).
"""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING, Any

from rich.style import Style as RichStyle
from textual.containers import Vertical, VerticalScroll
from textual._styles_cache import StylesCache
from textual.geometry import Region, Size
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

# A mixin, not a Widget subclass: Textual inherits a widget's default CSS through its
# first DOMNode base only, so it must precede the widget class without being one.
_Mixin = Widget if TYPE_CHECKING else object


class _GrowingStylesCache(StylesCache):
    """Textual's per-line cache of a widget's styled lines, less the work of marking every
    line of an emptied cache dirty. A new size empties the cache, then marks each line of
    the widget's height dirty: for the growing answer and its body, a set of the answer's
    length built again at every frame (~5% of a six-column frame's CPU, py-spy). A line not
    in the cache is rendered anyway, so with nothing cached the marks change nothing."""

    def set_dirty(self, *regions: Region) -> None:
        if self._cache:
            super().set_dirty(*regions)
        elif not regions:
            self.clear()


class LaidOutOnce(_Mixin):
    """Mixed in before a widget class: its new size after a layout asks for no other layout
    (and costs no mark per line of its height)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._styles_cache = _GrowingStylesCache()

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


def paints_plainly(widget: Widget) -> bool:
    """No border, outline, tint, hatch or opacity: what Textual's per-line styling of the
    widget's lines would add is its background (and padding) only."""
    styles = widget.styles
    return (
        all(edge in ("", "none") for edge, _ in (*styles.border, *styles.outline))
        and not styles.tint.a
        and styles.opacity == 1.0
        and styles.text_opacity == 1.0
        and not (styles.has_rule("hatch") and styles.hatch != "none")
    )


class BlankContent(_Mixin):
    """Mixed in before a container class whose own paint is only its
    background (its children paint over it): painted as blank lines of that background,
    without Textual's per-line styling. Textual renders a container's content whole —
    every line of its height, for GrowingBody the answer's length — and styles each
    visible line again each time its size changes, here every frame: ~0.5 ms per compare
    column and frame, growing with the answer (bench/tui_frame_cost.py)."""

    def render_lines(self, crop: Region) -> list[Strip]:
        if not paints_plainly(self):
            return super().render_lines(crop)  # a style this shortcut does not paint
        # As Textual paints a blank line inside the border: the widget's background over
        # what is beneath it (padding included), then the app's line filters.
        background = self.background_colors[1]
        strip = Strip.blank(crop.width, RichStyle(bgcolor=background.rich_color))
        for line_filter in self.get_line_filters():
            strip = strip.apply_filter(line_filter, background)
        return [strip] * crop.height


class GrowingBody(BlankContent, LaidOutOnce, Vertical):
    """The column the answer's parts stack in."""


class SteadyScrollBar(ScrollBar):
    """A vertical scrollbar that paints again only when its thumb moves by a visible step.

    A growing view's scrollbar is refreshed at every frame (its window's virtual size
    changed), and Textual renders a scrollbar through Rich: ~0.8 ms each time, six per
    compare frame, for a thumb that, in a long answer, has not moved a cell."""

    def __init__(self, *, thickness: int) -> None:
        super().__init__(vertical=True, name="vertical", thickness=thickness)
        self._painted: tuple[object, list[Strip]] | None = None

    def _thumb(self) -> tuple[int, int] | None:
        """The thumb's ends in eighths of a cell, as ScrollBarRender.render_bar works them out."""
        size = self.size.height
        virtual = ceil(self.window_virtual_size)
        window = ceil(self.window_size) if self.window_size < self.window_virtual_size else 0
        if not (window and size and virtual and size != virtual and virtual > window):
            return None
        thumb_size = max(1, window / (virtual / size))
        start = int((size - thumb_size) * (self.position / (virtual - window)) * 8)
        return start, start + ceil(thumb_size * 8)

    def render_lines(self, crop: Region) -> list[Strip]:
        styles = self.parent.styles if self.parent is not None else self.styles
        key = (
            crop, self.size, self._thumb(), self.grabbed is not None, self.mouse_over, self.app.theme,
            styles.background, styles.scrollbar_background, styles.scrollbar_color,
            styles.scrollbar_background_hover, styles.scrollbar_color_hover,
            styles.scrollbar_background_active, styles.scrollbar_color_active,
        )  # fmt: skip
        if self._painted is None or self._painted[0] != key:
            self._painted = (key, super().render_lines(crop))
        return self._painted[1]


class GrowingScroll(BlankContent, LaidOutOnce, VerticalScroll):
    """The view that scrolls the answer (anchored to its end while it follows)."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        if self._vertical_scrollbar is None:  # made as Widget.vertical_scrollbar makes it
            self._vertical_scrollbar = bar = SteadyScrollBar(thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar
