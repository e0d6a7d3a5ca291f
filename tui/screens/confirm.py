"""A yes/no question before something that cannot be taken back (a delete, an overwrite)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True to go ahead. Cancel has the focus, so a stray Enter changes nothing."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > #confirm {
        width: 100%;
        max-width: 80;
        height: auto;
        padding: 0 1;
        border: round $primary;
        background: $surface;
    }
    ConfirmScreen .confirm-hint {
        color: $text-muted;
    }
    ConfirmScreen .confirm-buttons {
        height: auto;
        align-horizontal: right;
        margin-top: 1;
        & > Button {
            margin-left: 2;
        }
    }
    """
    BINDINGS = [
        Binding("y", "confirm", "Yes"),
        Binding("escape,n", "cancel", "Cancel", key_display="esc"),
    ]

    def __init__(self, question: str, hint: str = "", *, confirm_label: str = "Yes", danger: bool = False) -> None:
        super().__init__()
        self.question, self.hint = question, hint
        self.confirm_label, self.danger = confirm_label, danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question, id="confirm-question", markup=False)
            if self.hint:
                yield Static(self.hint, classes="confirm-hint", markup=False)
            with Horizontal(classes="confirm-buttons"):
                variant = "error" if self.danger else "primary"
                yield Button(f"{self.confirm_label} (y)", id="confirm-yes", variant=variant, compact=True)
                yield Button("Cancel (esc)", id="confirm-no", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(False)
