"""The copy chooser: one key opens it, one letter picks what to copy."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

CHOICES = (
    ("text", "t", "Output text"),
    ("json", "j", "Final JSON (the done event)"),
    ("curl", "c", "Request as curl (key redacted)"),
)


class CopyMenu(ModalScreen[str | None]):
    """Dismisses with "text", "json", "curl", or None (a subclass offers other CHOICES)."""

    CHOICES = CHOICES
    BOX_TITLE = "Copy"

    HELP_GROUP = "Copy"
    DEFAULT_CSS = """
    CopyMenu {
        align: center middle;
    }
    CopyMenu > Vertical {
        width: auto;
        height: auto;
        border: round $accent;
        border-title-align: center;
        background: $surface;
    }
    CopyMenu OptionList, CopyMenu OptionList:focus {
        width: auto;
        height: auto;
        border: none;
    }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        *(Binding(key, f"pick('{what}')", label) for what, key, label in CHOICES),
    ]

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.BOX_TITLE
            yield OptionList(*(Option(f"[b]{key}[/b]  {label}", id=what) for what, key, label in self.CHOICES))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_pick(self, what: str) -> None:
        self.dismiss(what)
