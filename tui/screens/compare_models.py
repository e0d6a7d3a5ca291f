"""Several models side by side: one prompt, one live column per model, all at once,
and a summary table with the best figure of each column marked.

Each column runs its own worker, so a model that fails (a 429, a dead host)
shows its error in its own column and the others carry on; a focused column can
be re-run alone (`r`), after switching it between stream and non-stream (`m`).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from core.compare import STREAM, RunOutcome, group_kind, load_group, new_group_id, summarise
from core.request import ChatRequest
from core.store.models import ModelConfig, Run, RunFrame
from tui.widgets.compare import CompareColumn, SummaryTable
from tui.widgets.compare.model_picker import ModelPickerScreen
from tui.widgets.footer import WorkbenchFooter

WIDGETS_CSS = Path(__file__).parent.parent / "widgets" / "compare" / "compare.tcss"
PROMPT_PREVIEW = 60
MIN_COLUMN_WIDTH = 36  # narrower, a column's header and figures are cut off
MIN_ROW_HEIGHT = 10  # with more rows than fit, the grid scrolls rather than squash them


class ModelsCompareScreen(Screen[None]):
    CSS_PATH = [WIDGETS_CSS, "compare_models.tcss"]
    # Under a modal (F1's keys) the columns are drawn again once the screen is back: six
    # streams' frames beneath it delayed the modal's keys (flush_clock._out_of_sight).
    STREAMS_WAIT_UNDER_MODAL = True
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "rerun_all", "Re-run all"),
        Binding("s", "cycle_sort", "Sort"),
    ]

    def __init__(
        self,
        request: ChatRequest,
        configs: list[ModelConfig] | None = None,
        *,
        saved: list[tuple[Run, list[RunFrame]]] | None = None,
        group_id: str | None = None,
        preselect: str | None = None,
    ) -> None:
        """`preselect`: the model ticked when the picker opens (the workbench's own)."""
        super().__init__()
        self.preselect = preselect
        self.request = request
        self.configs = configs
        self.group_id = group_id
        self._saved = saved

    @classmethod
    def from_group(cls, store, group_id: str) -> Screen:  # type: ignore[no-untyped-def]
        """The saved comparison, shown without re-running (a stream vs non-stream group
        opens in StreamCompareScreen, so either class can reopen any comparison)."""
        runs = load_group(store, group_id)
        if runs and group_kind(runs) == STREAM:
            from tui.screens.compare_stream import StreamCompareScreen

            return StreamCompareScreen.from_group(store, group_id)
        if not runs:
            raise LookupError(f"no runs saved in comparison {group_id}")
        return cls(
            ChatRequest.from_dict(runs[0].request),
            saved=[(run, store.get_frames(run.id)) for run in runs],
            group_id=group_id,
        )

    def compose(self) -> ComposeResult:
        yield Static("", id="compare-title", markup=False)
        yield VerticalScroll(id="compare-columns")
        yield SummaryTable(id="compare-summary")
        yield WorkbenchFooter()

    async def on_mount(self) -> None:
        self._update_title()
        if self._saved is not None:
            await self._show_saved(self._saved)
            self._saved = None
        elif self.configs is not None:
            await self._start(self.configs)
        else:
            preselect = [self.preselect] if self.preselect else []
            self.app.push_screen(ModelPickerScreen(self.app.store.list_configs(), preselect), self._picked)

    async def _picked(self, configs: list[ModelConfig] | None) -> None:
        if configs is None:
            self.dismiss()
            return
        await self._start(configs)

    async def _start(self, configs: list[ModelConfig]) -> None:
        self.configs = configs
        self.group_id = new_group_id()
        columns = [
            CompareColumn(config, self.request.stream, rerunnable=True, id=f"column-{i}")
            for i, config in enumerate(configs)
        ]
        await self.query_one("#compare-columns").mount_all(columns)
        self._share_width()
        self._update_title()
        self._update_summary()
        for position, column in enumerate(columns):
            column.start(self.request, store=self.app.store, group_id=self.group_id, position=position)
        columns[0].focus()

    async def _show_saved(self, saved: list[tuple[Run, list[RunFrame]]]) -> None:
        store = self.app.store
        columns = []
        for i, (run, _) in enumerate(saved):
            config = store.get_config(run.model_config_name)
            label = config or run.model_config_name  # a deleted config: shown, not re-runnable
            columns.append(CompareColumn(label, run.stream, rerunnable=True, id=f"column-{i}"))
        await self.query_one("#compare-columns").mount_all(columns)
        self._share_width()
        for column, (run, frames) in zip(columns, saved):
            column.show_run(run, frames)
        self._update_title()
        self._update_summary()
        if columns:
            columns[0].focus()

    # --- columns --------------------------------------------------------------------

    def _share_width(self) -> None:
        """Lay the columns out in a grid: side by side when they fit, else in balanced rows
        (six at 160 columns: two rows of three), every column whole and visible."""
        count = len(self.columns)
        if not count:
            return
        grid = self.query_one("#compare-columns")
        fit = max(1, (grid.size.width or self.size.width) // MIN_COLUMN_WIDTH)
        rows = -(-count // min(count, fit))
        per_row = -(-count // rows)
        grid.styles.grid_size_columns = per_row
        grid.styles.grid_size_rows = rows
        height = grid.size.height or self.size.height
        tall_enough = rows * MIN_ROW_HEIGHT <= height
        grid.styles.grid_rows = "1fr" if tall_enough else str(MIN_ROW_HEIGHT)

    def on_resize(self) -> None:
        self.call_after_refresh(self._share_width)

    @property
    def columns(self) -> list[CompareColumn]:
        return list(self.query(CompareColumn))

    def on_compare_column_rerun_requested(self, message: CompareColumn.RerunRequested) -> None:
        message.stop()
        if self.group_id is None:
            self.group_id = new_group_id()
        position = self.columns.index(message.column)
        message.column.start(self.request, store=self.app.store, group_id=self.group_id, position=position)

    def on_compare_column_started(self, message: CompareColumn.Started) -> None:
        message.stop()
        self._update_summary()

    def on_compare_column_ended(self, message: CompareColumn.Ended) -> None:
        message.stop()
        self._update_summary()

    def action_rerun_all(self) -> None:
        if self.group_id is None:
            self.group_id = new_group_id()
        for position, column in enumerate(self.columns):
            column.start(self.request, store=self.app.store, group_id=self.group_id, position=position)

    def action_cycle_sort(self) -> None:
        from tui.widgets.compare.summary import sort_description

        self.notify(sort_description(self.query_one(SummaryTable).cycle_sort()), timeout=2)

    def on_compare_column_open_requested(self, message: CompareColumn.OpenRequested) -> None:
        message.stop()
        from tui.screens.compare_open import open_on_main

        open_on_main(self, message.run_id)

    def action_back(self) -> None:
        for column in self.columns:
            column.cancel()  # the runner saves the runs in flight as cancelled
        self.dismiss()

    # --- header and summary ---------------------------------------------------------

    def _update_title(self) -> None:
        count = len(self.configs) if self.configs is not None else len(self.columns)
        title = Text(f"Compare {count} models" if count else "Compare models", style="bold")
        prompt = " ".join(self.request.last_user_text.split())
        if prompt:
            preview = prompt if len(prompt) <= PROMPT_PREVIEW else prompt[: PROMPT_PREVIEW - 1] + "…"
            title.append(f" · “{preview}”")
        if self.group_id:
            title.append(f" · group {self.group_id}", style="dim")
        self.query_one("#compare-title", Static).update(title)

    def _update_summary(self) -> None:
        columns = self.columns
        outcomes = [
            column.outcome or RunOutcome(column.label, column.stream, run_id=column.run_id, status=column.status)
            for column in columns
        ]
        self.query_one(SummaryTable).show(summarise(outcomes), keys=[column.id or "" for column in columns])
