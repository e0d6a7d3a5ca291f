"""F1: every key of the screen underneath, grouped by the part of the screen that owns it.

Generated from the bindings themselves, so it cannot drift from what the keys do.
Only llmwb's own widgets are listed (plus the app): Textual's text-editing keys
are the usual ones and would bury the rest.

The screen is built once and kept (`show_help`), and built again only when the keys
to list differ: composing, styling and focusing a new screen at each F1 was most of
the key's own CPU, and with six streams in a comparison the key waited for it
(bench/tui_responsiveness.py).
"""

from __future__ import annotations

import re
from functools import cache

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.events import ScreenResume
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

# (group title, [(keys, description)])
HelpGroups = list[tuple[str, list[tuple[str, str]]]]

KEPT_AS = "llmwb-keys"  # the installed screen's name (installed: Textual keeps it once closed)


# Both are worked out once per widget class (HELP_GROUP and BINDINGS are class attributes):
# F1 asks them of every widget on the screen at each press, ~150 in a six-column comparison.


@cache
def group_title(node_class: type[DOMNode]) -> str:
    """A widget class's HELP_GROUP, else its name as words ("ModelList" → "Model list")."""
    explicit = getattr(node_class, "HELP_GROUP", None)
    if explicit:
        return explicit
    return re.sub(r"(?<!^)(?=[A-Z])", " ", node_class.__name__).capitalize()


@cache
def own_bindings(node_class: type[DOMNode]) -> tuple[Binding, ...]:
    """The bindings llmwb's classes declare (not the ones inherited from Textual's widgets:
    their editing and scrolling keys are the usual ones and would bury the rest)."""
    declared = [
        binding
        for klass in reversed(node_class.__mro__)
        if klass.__module__.startswith("tui.")
        for binding in klass.__dict__.get("BINDINGS", [])
    ]
    return tuple(binding for keys in BindingsMap(declared).key_to_bindings.values() for binding in keys)


def collect_bindings(screen: Screen) -> HelpGroups:
    """The bindings of the app, `screen` and every llmwb widget on it, grouped by owner."""
    app = screen.app
    groups: dict[str, dict[str, tuple[list[str], str]]] = {}
    for node in [app, screen, *screen.walk_children(with_self=False)]:
        entries = groups.setdefault(group_title(type(node)), {})
        for binding in own_bindings(type(node)):
            if binding.system or not binding.description:
                continue
            keys, _ = entries.setdefault(binding.action, ([], _description(binding)))
            key = app.get_key_display(binding)
            if key not in keys:
                keys.append(key)
    palette_key = app.get_key_display(Binding(app.COMMAND_PALETTE_BINDING, "command_palette"))
    groups[group_title(type(app))]["command_palette"] = ([palette_key], "Command palette — any action, by name")
    return [
        (title, [(", ".join(keys), description) for keys, description in entries.values()])
        for title, entries in groups.items()
        if entries
    ]


def _description(binding: Binding) -> str:
    return f"{binding.description} — {binding.tooltip}" if binding.tooltip else binding.description


class HelpScreen(ModalScreen[None]):
    HELP_GROUP = "Help"
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    /* The box itself scrolls (arrows, page keys): on a short terminal the list is longer than it. */
    HelpScreen > VerticalScroll {
        width: 90;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        padding: 0 1;
        border: round $accent;
        border-title-align: center;
        background: $surface;
    }
    HelpScreen .help-group {
        margin-bottom: 1;
    }
    """
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, groups: HelpGroups) -> None:
        super().__init__()
        self.groups = groups
        self._styled_for: tuple[int, frozenset[str]] | None = None

    def on_screen_resume(self, event: ScreenResume) -> None:
        # Textual restyles a resumed screen's every widget, in case the CSS changed while it
        # was not shown: for the kept list, a sixth of F1's CPU for styles that, unless the
        # app's CSS (a theme: Textual counts those changes) or its pseudo-classes (focus,
        # dark…) changed since, are the ones it has. Runs before Screen's own handler.
        app = self.app
        styled_for = (app._css_update_count, frozenset(app.get_pseudo_classes()))
        if styled_for == self._styled_for:
            event.refresh_styles = False
        self._styled_for = styled_for
        # Shown again (the kept screen): from the top, as a new one would be.
        self.query_one(VerticalScroll).scroll_home(animate=False, immediate=True)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "Keys — F1 or Esc closes · ctrl+p finds any action by name"
            box.border_subtitle = "a pane's own keys work while it has focus · tab moves focus"
            for title, entries in self.groups:
                width = max(len(keys) for keys, _ in entries)
                lines = [Content.from_markup("[b $accent]$title[/]", title=title)]
                lines += [
                    Content.assemble((keys.ljust(width), "bold"), "  ", description) for keys, description in entries
                ]
                yield Static(Content("\n").join(lines), classes="help-group")
            yield Static(_legend(), classes="help-group", id="help-legend")


def show_help(app: App[object], target: Screen) -> None:
    """Push the keys of `target`: the kept key list if it lists the same keys, else a new
    one, kept in its place."""
    groups = collect_bindings(target)
    kept = app.get_screen(KEPT_AS, HelpScreen) if app.is_screen_installed(KEPT_AS) else None
    if kept is not None and kept in app.screen_stack:  # under another screen: a second one, not kept
        app.push_screen(HelpScreen(groups))
        return
    if kept is not None and kept.groups != groups:
        app.uninstall_screen(KEPT_AS)
        kept.remove()
        kept = None
    if kept is None:
        kept = HelpScreen(groups)
        app.install_screen(kept, KEPT_AS)
    app.push_screen(kept)


def _legend() -> Content:
    """What the marks in figures and lists mean (the keys above say what the keys do)."""
    from tui import format as fmt

    marks = [
        ("~", fmt.ESTIMATED_MEANING.split(": ", 1)[1]),
        (fmt.MISSING, "not known: no token arrived, a rate over too short a burst, no usage sent"),
        ("★", "the best figure of a comparison's column"),
    ]
    lines = [Content.from_markup("[b $accent]Marks in figures[/]")]
    lines += [Content.assemble((mark.ljust(3), "bold"), meaning) for mark, meaning in marks]
    return Content("\n").join(lines)
