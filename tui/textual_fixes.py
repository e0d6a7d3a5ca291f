"""A fix to Textual 8.2.8's compositor that every frame with a layout paid for.

`Compositor.reflow` arranges every widget (`visible_only=False`) and keeps the result as
its full map, but leaves the full map flagged stale when a scroll (`reflow_visible`) or
a newly mounted widget had flagged it before. The first lookup of a widget outside the
visible map after the layout (Textual's own resize handling asks for hidden widgets'
sizes) then arranged the whole screen a second time: about 2 ms of ctrl+r's ~25 ms of
frame CPU on the main screen, and a layout frame's in a comparison whose columns scroll
as they stream.
"""

from __future__ import annotations

from typing import Any

from textual._compositor import Compositor

_arrange_everything = Compositor.reflow


def _reflow_keeping_the_full_map(self: Compositor, parent: Any, size: Any) -> Any:
    result = _arrange_everything(self, parent, size)
    self._full_map_invalidated = False  # the map reflow just built covers every widget
    return result


def apply() -> None:
    Compositor.reflow = _reflow_keeping_the_full_map  # type: ignore[method-assign]
