"""The "really delete?" question before a model config goes."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class ConfirmDeleteScreen(ModalScreen[bool]):
    """Dismisses with True to delete. Cancel has the focus, so a stray Enter keeps the config."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [
        Binding("y", "confirm", "Delete"),
        Binding("escape,n", "cancel", "Cancel", key_display="esc"),
    ]

    def __init__(self, config_name: str) -> None:
        super().__init__()
        self.config_name = config_name

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-delete", classes="models-dialog"):
            yield Static(f"Delete the model config “{self.config_name}”?", id="confirm-question", markup=False)
            yield Static("Runs already made with it stay in the history.", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete", id="delete", variant="error", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#delete")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
