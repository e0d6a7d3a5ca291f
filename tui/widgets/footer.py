"""The footer every full screen uses: Textual's, made to fit an 80-column terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

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


def shown_keys(screen: Screen) -> tuple[tuple[object, ...], tuple[bool, ...]]:
    """What Textual's footer draws from the screen's bindings: the keys it shows (in order,
    with their tooltips), and whether each is enabled."""
    palette = screen.app.COMMAND_PALETTE_BINDING  # drawn at the right, shown or not
    shown = [(key, active) for key, active in screen.active_bindings.items() if active.binding.show or key == palette]
    return (
        tuple((key, b.action, b.description, b.key_display, b.group, tip) for key, (_, b, _, tip) in shown),
        tuple(enabled for _, (_, _, enabled, _) in shown),
    )


class WorkbenchFooter(Footer):
    """Compact, without the palette key, on a narrow terminal; Textual's usual footer otherwise."""

    _composed_keys: tuple[tuple[object, ...], tuple[bool, ...]] | None = None
    _check_pending = False

    def compose(self) -> ComposeResult:
        self._composed_keys = shown_keys(self.screen) if self._bindings_ready else None
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # Bound keys follow the footer; the palette key keeps its own (compact).
                bound = "compact" in (widget._reactive_connect or {})
                _start_compact_as(widget, self.compact if bound else FooterKey.compact._default)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        # Textual rebuilds every key of the footer whenever the screen's bindings may have
        # changed: each time a screen comes back (Esc from F1 over a comparison), focus moves,
        # a run starts (ctrl+g becomes available)... Rebuilding them was most of ctrl+r's own
        # time (profiled). The same keys: nothing to do; only some enabled or disabled: those.
        composed = self._composed_keys
        if composed is None or screen is not self.screen or not screen.app.app_focus:
            super().bindings_changed(screen)
            return
        # Checked once, after the frame the change came with: ctrl+r changes the bindings
        # three times (the action, its worker starting and running), and a key dimmed or lit
        # in the same frame as the panes' switch to the new run widened that frame's repaint
        # from the panes to the whole screen (Textual repaints the box around every dirty
        # region, and the footer is the bottom row): ~14 footer keys re-rendered, a third
        # of the frame's CPU (bench/tui_responsiveness.py's ctrl+r, profiled).
        if not self._check_pending:
            self._check_pending = True
            self.call_after_refresh(self._check_keys)

    async def _check_keys(self) -> None:
        self._check_pending = False
        if not self.is_attached or not self.app.app_focus:
            return
        screen = self.screen
        composed = self._composed_keys
        keys, enabled = shown_keys(screen)
        if composed is None or keys != composed[0]:
            await self.recompose()  # as Textual's footer does, after the frame
        elif enabled != composed[1]:
            self._composed_keys = keys, enabled
            self._set_enabled(screen)

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow != self.compact:
            self.compact = narrow
            self.show_command_palette = not narrow
            self.call_after_refresh(self.recompose)  # the palette key comes or goes

    def _set_enabled(self, screen: Screen) -> None:
        """Each key's enabled state, as `Footer.compose` takes it: its action's first binding."""
        first: dict[str, bool] = {}
        for _, binding, enabled, _ in screen.active_bindings.values():
            if binding.show:
                first.setdefault(binding.action, enabled)
        palette = screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        for key in self.query(FooterKey):
            if key.has_class("-command-palette"):
                _set_key_enabled(key, palette is None or palette.enabled)
            elif key.action in first:
                _set_key_enabled(key, first[key.action])


def _set_key_enabled(key: FooterKey, enabled: bool) -> None:
    # As FooterKey(disabled=...) sets it: a flag its click checks, and the class that dims it.
    key._disabled = not enabled
    key.set_class(not enabled, "-disabled")


def _start_compact_as(key: FooterKey, compact: bool) -> None:
    # A FooterKey starts compact (its reactive's default) and its watcher runs at mount, then
    # again when the footer's binding sets it to the footer's own value: a style update of the
    # key at each, each time a footer is composed (~50 at each app start, ~12 % of its CPU in a
    # profile). Started at the value it ends with, with the class its watcher would set, the
    # binding's call of the watcher changes nothing and restyles nothing.
    key.set_reactive(FooterKey.compact, compact)
    key.set_class(compact, "-compact", update=False)
