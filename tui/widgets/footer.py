"""The footer every full screen uses: Textual's, made to fit an 80-column terminal."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

# A terminal narrower than this is "narrow" for every screen: a compact footer
# without the palette key here (F1 names ctrl+p), no model list on the main screen.
NARROW_WIDTH = 100


class WorkbenchFooter(Footer):
    """Compact, without the palette key, on a narrow terminal; Textual's usual footer otherwise."""

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow != self.compact:
            self.compact = narrow
            self.show_command_palette = not narrow
            self.call_after_refresh(self.recompose)  # the palette key comes or goes
