"""Test connection: ask a config's endpoint for its model list, and show it (or the error).

The request runs in a worker on this screen, so the app keeps responding and
closing the screen cancels it. Opened from the model form, the list doubles as
model discovery: Enter hands the highlighted id back to the form (handy for a
local Ollama or LM Studio, whose ids nobody remembers).
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, LoadingIndicator, OptionList, Static

from core.discovery import list_models
from core.metrics import clock
from core.providers.base import ProviderError
from core.store.models import ModelConfig
from tui import format as fmt


class ConnectionTestScreen(ModalScreen[str | None]):
    """Dismisses with the picked model id (only when `pick` is set), else None."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("r", "retry", "Retry"),
    ]

    def __init__(self, config: ModelConfig, *, pick: bool = False) -> None:
        super().__init__()
        self.config = config
        self.pick = pick
        self.model_ids: list[str] = []
        self.error: ProviderError | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="connection-test", classes="models-dialog") as dialog:
            dialog.border_title = Content(f"Test connection: {self.config.name}")
            yield Static("", id="connection-status", markup=False)
            yield LoadingIndicator(id="connection-loading")
            yield OptionList(id="discovered-models", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.action_retry()

    def action_retry(self) -> None:
        self.error = None
        self.set_class(False, "-failed")
        self.set_class(True, "-busy")
        self._status(f"Asking the {self.config.provider} endpoint for its models…")
        self.query_one(OptionList).clear_options()
        self.run_worker(self._discover(), group="discover", exclusive=True, exit_on_error=False)

    async def _discover(self) -> None:
        started = clock()
        try:
            ids = await list_models(self.config)
        except ProviderError as error:
            self._failed(error, (clock() - started) * 1000)
        except Exception as error:  # a bug of ours: say it, never take the app down
            message = f"internal error: {type(error).__name__}: {error}"
            self._failed(ProviderError(message, "internal"), (clock() - started) * 1000)
        else:
            self._listed(ids, (clock() - started) * 1000)

    def _failed(self, error: ProviderError, took_ms: float) -> None:
        self.error = error
        self.set_class(False, "-busy")
        self.set_class(True, "-failed")
        self._status(f"✗ {error.message} (after {fmt.duration(took_ms)})")

    def _listed(self, ids: list[str], took_ms: float) -> None:
        self.model_ids = ids
        self.set_class(False, "-busy")
        options = self.query_one(OptionList)
        took = f"answered in {fmt.duration(took_ms)}"
        if not ids:
            self._status(f"✓ Connected ({took}), but the server lists no models: cannot tell whether "
                         f"“{self.config.model}” is served.")  # fmt: skip
            return
        count = f"{len(ids)} model{'s' if len(ids) != 1 else ''}"
        if self.config.model in ids:
            served = f"✓ “{self.config.model}” is served."
        else:
            served = f"✗ “{self.config.model}” is not in the list: a run will likely fail with model not found."
        lines = f"✓ Connected ({took}): {count}.\n{served}"
        if self.pick:
            lines += "\nEnter puts the highlighted id in the form."
        self._status(lines)
        options.add_options(ids)
        if self.config.model in ids:
            options.highlighted = ids.index(self.config.model)
        options.focus()

    def _status(self, text: str) -> None:
        self.query_one("#connection-status", Static).update(text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.model_ids[event.option_index] if self.pick else None)

    def action_close(self) -> None:
        self.dismiss(None)
