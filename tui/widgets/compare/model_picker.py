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
from tui.widgets.tick_list import TickList

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
        self._previous: set[str] = set(self.preselect)

    def compose(self) -> ComposeResult:
        with Vertical(id="model-picker"):
            yield Label(f"Compare models — pick {MIN_MODELS} to {MAX_MODELS} (space/enter toggles, c starts)")
            yield TickList(
                *[
                    (Text.assemble(c.name, (f"  {c.provider} · {c.model}", "dim")), c.name, c.name in self.preselect)
                    for c in self.configs
                ],
                id="model-picker-list",
            )
            yield Static("", id="model-picker-count", markup=False)
            yield Static("", id="model-picker-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if not self.configs:
            self._say("No model configs yet: add one on the main screen first.")
        picker = self.query_one(SelectionList)
        picker.focus()
        # Start on the first preselected model (the one the workbench runs), so space ticks its neighbours.
        names = [c.name for c in self.configs]
        first = next((i for i, name in enumerate(names) if name in self.preselect), None)
        if first is not None:
            picker.highlighted = first
        self._show_count()

    def on_selection_list_selected_changed(self) -> None:
        picker = self.query_one(SelectionList)
        selected = set(picker.selected)
        if selected == self._previous:  # our own untick of a refused 7th: keep saying why
            return
        if len(selected) > MAX_MODELS:
            # Refused at once, not when `c` is pressed: untick what was just ticked.
            for name in selected - self._previous:
                picker.deselect(name)
            self._say(f"At most {MAX_MODELS} models side by side: untick one first.")
            return
        self._previous = selected
        self._say("")
        self._show_count()

    def _show_count(self) -> None:
        count = len(self._previous)
        ready = "c starts the comparison" if MIN_MODELS <= count <= MAX_MODELS else f"pick {MIN_MODELS} to {MAX_MODELS}"
        self.query_one("#model-picker-count", Static).update(f"{count} of {MAX_MODELS} selected · {ready}")

    def action_confirm(self) -> None:
        chosen = self._previous
        picked = [c for c in self.configs if c.name in chosen]
        if not MIN_MODELS <= len(picked) <= MAX_MODELS:
            self._say(f"Select {MIN_MODELS} to {MAX_MODELS} models to compare ({len(picked)} selected).")
            return
        self.dismiss(picked)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _say(self, message: str) -> None:
        self.query_one("#model-picker-message", Static).update(message)
