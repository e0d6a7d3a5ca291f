"""The history modal: every run, newest first — searched, filtered, paged, deleted, exported.

The search box takes words (found in the prompt or the output) and filters
(`model:` `status:` `mode:` `since:` `until:` `date:`); the table loads 50 runs at
a time and the next 50 when the cursor reaches the end. What to do with a run
(reopen it, load its prompt, reopen its comparison) is the main screen's job: the
modal dismisses with a HistoryChoice. Delete and export happen here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from core.store import Store
from core.store.history import QueryError, RunQuery, count_runs, delete_run, find_runs, parse_query
from core.store.models import Run
from tui.widgets.footer import WorkbenchFooter
from tui.widgets.history import rows

PAGE_SIZE = 50
SEARCH_DELAY_S = 0.25  # re-query once typing pauses, not on every key
SEARCH_HINT = "search prompt and output · model:NAME status:error mode:non-stream since:2026-11-01 date:today"


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
    HistoryScreen #history-search {
        border: round $border-blurred;
        &:focus {
            border: round $border;
        }
    }
    HistoryScreen #history-problem {
        height: auto;
        padding: 0 1;
        color: $text-error;
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
        Binding("d,delete", "delete", "Delete", key_display="d", tooltip="Delete the run (asks first)"),
        Binding("x", "export", "Export", tooltip="Write the run to a file: JSON, Markdown or curl"),
        Binding("slash", "search", "Search", key_display="/", tooltip="Search and filter the runs"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._runs: dict[str, Run] = {}
        self._query = RunQuery()
        self._total = 0
        self._search_timer = None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "History"
            search = Input(placeholder=SEARCH_HINT, id="history-search")
            search.border_title = "Search (/)"
            yield search
            yield Static("", id="history-problem", markup=False)
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            yield Static("No runs yet: ctrl+r runs the prompt.", id="history-empty")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.query_one("#history-problem").display = False
        table = self.query_one(DataTable)
        for column in rows.COLUMNS:
            table.add_column(column, key=column)
        self._reload()
        table.focus()

    # --- loading ----------------------------------------------------------------

    @property
    def shown_runs(self) -> list[Run]:
        return list(self._runs.values())

    def _reload(self) -> None:
        """The first page for the current query."""
        table = self.query_one(DataTable)
        table.clear()
        self._runs.clear()
        try:
            self._total = count_runs(self._store, self._query)
        except Exception as error:  # the database: say so, keep the app
            self._total = 0
            self.notify(f"Could not read the history: {type(error).__name__}: {error}", severity="error")
        self._load_page()
        self._show_state()

    def _load_page(self) -> None:
        try:
            page = find_runs(self._store, self._query, offset=len(self._runs), limit=PAGE_SIZE)
        except Exception as error:
            self.notify(f"Could not read the history: {type(error).__name__}: {error}", severity="error")
            return
        table = self.query_one(DataTable)
        for run in page:
            if run.id not in self._runs:
                self._runs[run.id] = run
                table.add_row(*rows.row(run), key=run.id)

    def _show_state(self) -> None:
        shown, total = len(self._runs), self._total
        box = self.query_one(Vertical)
        what = "matching runs" if not self._query.empty else "runs"
        more = " · the next ones load at the end of the list" if shown < total else ""
        box.border_title = f"History — {shown} of {total} {what}{more}"
        empty = self.query_one("#history-empty", Static)
        empty.update("No runs yet: ctrl+r runs the prompt." if self._query.empty else "No run matches the search.")
        empty.display = not self._runs
        self.query_one(DataTable).display = bool(self._runs)
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one(DataTable)
        if event.cursor_row >= table.row_count - 1 and len(self._runs) < self._total:
            self._load_page()
            self._show_state()

    # --- search -----------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#history-search", Input).focus()

    @on(Input.Changed, "#history-search")
    def _search_changed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY_S, self._apply_search)

    def _apply_search(self) -> None:
        text = self.query_one("#history-search", Input).value
        problem = self.query_one("#history-problem", Static)
        try:
            query = parse_query(text)
        except QueryError as error:
            problem.update(str(error))
            problem.display = True
            return
        problem.display = False
        self._query = query
        self._reload()

    # --- actions ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("choose", "delete", "export"):
            return True if self._runs else None
        return True

    def action_choose(self, action: Literal["open", "prompt", "compare"]) -> None:
        if isinstance(self.focused, Input):  # Enter in the search box: on to the results
            if self._search_timer is not None:
                self._search_timer.stop()
            self._apply_search()
            self.query_one(DataTable).focus()
            return
        run = self._highlighted()
        if run is not None and action == "compare" and not run.group_id:
            self.notify("This run is not part of a comparison: Enter reopens it alone", severity="warning")
            return
        if run is not None:
            self.dismiss(HistoryChoice(action, run.id))

    def action_delete(self) -> None:
        run = self._highlighted()
        if run is None:
            return
        from tui.screens.confirm import ConfirmScreen

        question = f"Delete run {run.id} ({run.model_config_name}, {rows.when(run.created_at)})?"
        hint = "Its request, response, metrics and wire frames go; this cannot be undone."
        self.app.push_screen(
            ConfirmScreen(question, hint, confirm_label="Delete", danger=True),
            lambda yes: self._delete(run) if yes else None,
        )

    def _delete(self, run: Run) -> None:
        try:
            delete_run(self._store, run.id)
        except Exception as error:
            self.notify(f"Could not delete run {run.id}: {type(error).__name__}: {error}", severity="error")
            return
        table = self.query_one(DataTable)
        table.remove_row(run.id)
        del self._runs[run.id]
        self._total -= 1
        self._show_state()
        self.notify(f"Deleted run {run.id}")

    def action_export(self) -> None:
        run = self._highlighted()
        if run is None:
            return
        from tui.widgets.history.export_menu import ExportMenu

        self.app.push_screen(ExportMenu(), lambda kind: self._export(run, kind) if kind else None)

    def _export(self, run: Run, kind: str) -> None:
        from core.export import export_run

        folder = self.app.data_dir / "exports"  # type: ignore[attr-defined]
        try:
            path = export_run(run, self._store.get_frames(run.id), self._store.get_config(run.model_config_name),
                              kind, folder)  # fmt: skip
        except Exception as error:  # a full disk, a read-only dir, a kind curl cannot express
            self.notify(f"Could not export run {run.id}: {error}", title="Export", severity="error")
            return
        self.notify(f"Run {run.id} written to {path}", title="Export")

    def _highlighted(self) -> Run | None:
        table = self.query_one(DataTable)
        if not self._runs or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._runs.get(key) if key else None
