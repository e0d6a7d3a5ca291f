"""The footer every full screen uses: Textual's, made to fit an 80-column terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

# A terminal narrower than this is "narrow" for every screen: a compact footer
# without the palette key here (F1 names ctrl+p), no model list on the main screen.
NARROW_WIDTH = 100
PALETTE_WIDTH = 12  # "^p palette", docked at the right of a wide footer


def footer_width(app: App[object], bindings: Sequence[ActiveBinding]) -> int:
    """Columns Textual's (not compact) footer takes for these bindings: " k Description "
    for a key of its own, "k k … Label" for a group; one entry per action, as it shows them."""
    width, actions, groups = 0, set(), set()
    for active in bindings:
        binding = active.binding
        if not binding.show or binding.action in actions:
            continue
        actions.add(binding.action)
        key = app.get_key_display(binding)
        if binding.group is None:
            width += len(key) + len(binding.description) + 3
        else:
            width += len(key) + 1
            if binding.group not in groups:
                groups.add(binding.group)
                width += len(binding.group.description) + 3
    return width


def fit_footer(
    app: App[object], bindings: dict[str, ActiveBinding], width: int, drop: Sequence[Binding.Group | str]
) -> dict[str, ActiveBinding]:
    """Leave out what `drop` names (groups, or actions), in its order, until the footer fits
    in `width` columns beside the palette key. Every key still works; F1 lists them all."""
    room = width - PALETTE_WIDTH
    for dropped in drop:
        if footer_width(app, list(bindings.values())) <= room:
            break
        bindings = {
            key: active
            for key, active in bindings.items()
            if active.binding.group is not dropped and active.binding.action != dropped
        }
    return bindings


def shown_keys(screen: Screen) -> tuple[object, ...]:
    """What Textual's footer draws from the screen's bindings (the keys it shows, enabled or not)."""
    return tuple(
        (key, binding.action, binding.description, binding.key_display, binding.group, enabled, tooltip)
        for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
        if binding.show
    )


class WorkbenchFooter(Footer):
    """Compact, without the palette key, on a narrow terminal; Textual's usual footer otherwise."""

    _composed_keys: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        self._composed_keys = shown_keys(self.screen) if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        # Textual rebuilds every key of the footer whenever the screen's bindings may have
        # changed: each time a screen comes back (Esc from F1 in a comparison), focus moves...
        # When the keys shown are the same, that was a few tens of ms of a key's time for nothing.
        if self._composed_keys is not None and screen is self.screen and shown_keys(screen) == self._composed_keys:
            return
        super().bindings_changed(screen)

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow != self.compact:
            self.compact = narrow
            self.show_command_palette = not narrow
            self.call_after_refresh(self.recompose)  # the palette key comes or goes
