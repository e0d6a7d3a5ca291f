"""The history modal: the last 50 runs, newest first, one key from the main screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from core.store import Store
from core.store.models import Run
from tui.widgets.footer import WorkbenchFooter
from tui.widgets.history import rows

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class HistoryChoice:
    action: Literal["open", "prompt", "compare"]
    run_id: str


class HistoryScreen(ModalScreen[HistoryChoice | None]):
    """Dismisses with what to do with which run; the main screen does it."""

    HELP_GROUP = "History"
    DEFAULT_CSS = """
    HistoryScreen {
        align: center middle;
    }
    HistoryScreen > Vertical {
        width: 95%;
        height: 85%;
        border: round $accent;
        border-title-align: center;
        background: $surface;
    }
    HistoryScreen DataTable {
        height: 1fr;
    }
    HistoryScreen #history-empty {
        padding: 1 2;
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("enter", "choose('open')", "Open", priority=True),
        Binding("p", "choose('prompt')", "Load prompt"),
        Binding("c", "choose('compare')", "Reopen comparison"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._runs: dict[str, Run] = {}

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"History — last {HISTORY_LIMIT} runs"
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            yield Static("No runs yet: ctrl+r runs the prompt.", id="history-empty")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in rows.COLUMNS:
            table.add_column(column, key=column)
        for run in self._store.list_runs(limit=HISTORY_LIMIT):
            self._runs[run.id] = run
            table.add_row(*rows.row(run), key=run.id)
        self.query_one("#history-empty").display = not self._runs
        table.display = bool(self._runs)
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose":
            return True if self._runs else None
        return True

    def on_data_table_row_highlighted(self) -> None:
        self.refresh_bindings()  # "Reopen comparison" is live only on runs that belong to one

    def action_choose(self, action: Literal["open", "prompt", "compare"]) -> None:
        run = self._highlighted()
        if run is not None and action == "compare" and not run.group_id:
            self.notify("This run is not part of a comparison: Enter reopens it alone", severity="warning")
            return
        if run is not None:
            self.dismiss(HistoryChoice(action, run.id))

    def _highlighted(self) -> Run | None:
        table = self.query_one(DataTable)
        if not self._runs or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._runs.get(key) if key else None
