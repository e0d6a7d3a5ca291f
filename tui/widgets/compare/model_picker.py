"""Pick the models to compare: a keyboard multi-select of the saved configs (2–6)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, SelectionList, Static

from core.store.models import ModelConfig

MIN_MODELS, MAX_MODELS = 2, 6


class ModelPickerScreen(ModalScreen[list[ModelConfig] | None]):
    """Dismisses with the chosen configs (in list order), or None when cancelled."""

    CSS_PATH = Path(__file__).with_name("compare.tcss")
    BINDINGS = [
        Binding("c", "confirm", "Compare selected"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, configs: list[ModelConfig], preselect: list[str] | None = None) -> None:
        super().__init__()
        self.configs = configs
        self.preselect = set(preselect or ())

    def compose(self) -> ComposeResult:
        with Vertical(id="model-picker"):
            yield Label(f"Compare models — pick {MIN_MODELS} to {MAX_MODELS} (space/enter toggles, c starts)")
            yield SelectionList[str](
                *[
                    (Text.assemble(c.name, (f"  {c.provider} · {c.model}", "dim")), c.name, c.name in self.preselect)
                    for c in self.configs
                ],
                id="model-picker-list",
            )
            yield Static("", id="model-picker-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if not self.configs:
            self._say("No model configs yet: add one on the main screen first.")
        self.query_one(SelectionList).focus()

    def on_selection_list_selected_changed(self) -> None:
        self._say("")

    def action_confirm(self) -> None:
        chosen = set(self.query_one(SelectionList).selected)
        picked = [c for c in self.configs if c.name in chosen]
        if not MIN_MODELS <= len(picked) <= MAX_MODELS:
            self._say(f"Select {MIN_MODELS} to {MAX_MODELS} models to compare ({len(picked)} selected).")
            return
        self.dismiss(picked)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _say(self, message: str) -> None:
        self.query_one("#model-picker-message", Static).update(message)
