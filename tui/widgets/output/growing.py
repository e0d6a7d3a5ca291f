"""Widgets that grow while an answer streams, without a second layout per frame.

Textual sets a widget's `virtual_size` after each layout as a reactive that asks for a
layout, so every widget whose size changed in a layout — the streaming answer, its body,
the view scrolling it — asks for another one right after: a full reflow and repaint of
the screen that changes nothing. With six compare columns growing, every flush cost two
frames (profiled: the second ~40% of the first's CPU), and keys waited behind both
(bench/tui_responsiveness.py). The size is already right when the layout sets it; a
scrollbar that has to appear or go still asks for its own layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.widget import Widget

# A mixin, not a Widget subclass: Textual inherits a widget's default CSS through its
# first DOMNode base only, so it must precede the widget class without being one.
_Mixin = Widget if TYPE_CHECKING else object


class LaidOutOnce(_Mixin):
    """Mixed in before a widget class: its new size after a layout asks for no other layout."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class GrowingBody(LaidOutOnce, Vertical):
    """The column the answer's parts stack in."""


class GrowingScroll(LaidOutOnce, VerticalScroll):
    """The view that scrolls the answer (anchored to its end while it follows)."""
