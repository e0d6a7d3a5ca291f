"""The comparison table: one row per run, best figure of each column marked ★,
sortable by any column (`cycle_sort`, or selecting a header)."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.widgets import DataTable

from core.compare import HIGHER_IS_BETTER, SummaryRow, best_marks
from tui import format as fmt

ERROR_WIDTH = 60  # the column shows the whole message; the table stays scannable


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# (key, label, cell text). The key is the SummaryRow field, also the DataTable column key.
COLUMNS: list[tuple[str, str, Callable[[SummaryRow], str]]] = [
    ("label", "model", lambda r: r.label),
    ("mode", "mode", lambda r: r.mode),
    ("status", "status", lambda r: r.status),
    ("ttft_ms", "TTFT", lambda r: fmt.duration(r.ttft_ms)),
    ("total_ms", "total", lambda r: fmt.duration(r.total_ms)),
    ("decode_tps", "speed", fmt.summary_rate),
    ("prompt_tokens", "in", lambda r: fmt.tokens(r.prompt_tokens, r.usage_estimated)),
    ("completion_tokens", "out", lambda r: fmt.tokens(r.completion_tokens, r.usage_estimated)),
    ("cost_usd", "cost", lambda r: fmt.cost(r.cost_usd, r.usage_estimated)),
    ("finish_reason", "finish", lambda r: r.finish_reason or fmt.MISSING),
    ("error", "error", lambda r: _shorten(r.error or "", ERROR_WIDTH)),
]
SORT_KEYS = [key for key, _, _ in COLUMNS]
# Shown only when a run's server reported its own timings (Ollama, llama.cpp): beside llmwb's figures.
SERVER_COLUMN: tuple[str, str, Callable[[SummaryRow], str]] = ("server_says", "server says", lambda r: r.server_says or "–")
LABELS = {key: label for key, label, _ in COLUMNS}
TEXT_KEYS = ("label", "mode", "status", "finish_reason", "error")


def sort_arrow(key: str) -> str:
    """▼: largest on top (decode speed, best first); ▲: smallest on top (times, cost, A→Z)."""
    return "▼" if key in HIGHER_IS_BETTER else "▲"


def sort_description(key: str | None) -> str:
    """How a toast says the order: "Sorted by TTFT ▲ (lowest first)"."""
    if key is None:
        return "Sorted in column order"
    if key in TEXT_KEYS:
        order = "A to Z"
    else:
        order = "highest first" if key in HIGHER_IS_BETTER else "lowest first"
    return f"Sorted by {LABELS[key]} {sort_arrow(key)} ({order})"
_STATUS_STYLE = {"ok": "green", "error": "red", "cancelled": "yellow", "running": "cyan"}


def _sort_value(row: SummaryRow, key: str) -> tuple[int, Any]:
    value = getattr(row, key)
    if value is None:
        return (1, 0)  # missing figures sort last, whichever the direction
    if key in HIGHER_IS_BETTER:
        return (0, -value)  # best first: the fastest decode on top
    return (0, value)


class SummaryTable(DataTable[Text]):
    """Rows are shown in the sort order; `sort_key` None keeps the runs' order."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_data: list[SummaryRow] = []
        self.row_keys: list[str] = []
        self.sort_key: str | None = None

    def on_mount(self) -> None:
        self._render_rows()

    def show(self, rows: list[SummaryRow], keys: list[str] | None = None) -> None:
        """Replace the rows; `keys` names each row (defaults to its position)."""
        self.rows_data = list(rows)
        self.row_keys = keys if keys is not None else [str(i) for i in range(len(rows))]
        self._render_rows()

    def cycle_sort(self) -> str | None:
        """Next sort column (after the last one: the runs' own order). Returns it."""
        position = SORT_KEYS.index(self.sort_key) + 1 if self.sort_key else 0
        self.sort_key = SORT_KEYS[position] if position < len(SORT_KEYS) else None
        self._render_rows()
        return self.sort_key

    def sort_by(self, key: str | None) -> None:
        self.sort_key = key
        self._render_rows()

    @property
    def ordered_labels(self) -> list[str]:
        """Model labels top to bottom, as shown."""
        return [self.rows_data[i].label for i in self._order()]

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def _order(self) -> list[int]:
        indexes = list(range(len(self.rows_data)))
        if self.sort_key is not None:
            key = self.sort_key
            indexes.sort(key=lambda i: _sort_value(self.rows_data[i], key))
        return indexes

    def _render_rows(self) -> None:
        if not self.is_mounted:
            return
        cursor_row = self.cursor_row
        self.clear(columns=True)
        columns = COLUMNS
        if any(row.server_says for row in self.rows_data):
            columns = [*COLUMNS[:-1], SERVER_COLUMN, COLUMNS[-1]]
        titles = []
        for key, label, _ in columns:
            title = Text(label)
            if key == self.sort_key:
                title.append(f" {sort_arrow(key)}", style="bold")
            titles.append(title)
        marks = best_marks(fmt.shown_rates(self.rows_data))
        rows = []
        for index in self._order():
            row = self.rows_data[index]
            cells = []
            for key, _, text_of in columns:
                cell = Text(text_of(row))
                if marks.get(key) == index:
                    cell = Text.assemble(("★ ", "bold green"), (cell.plain, "bold green"))
                elif key == "status":
                    cell.stylize(_STATUS_STYLE.get(row.status, ""))
                elif key == "error" and row.error:
                    cell.stylize("red")
                cells.append(cell)
            rows.append((cells, self.row_keys[index]))
        # Widths given, not measured: DataTable widens auto columns to new rows only at its
        # next idle, so a frame drawn in between showed every column cut to its title.
        for position, ((key, _, _), title) in enumerate(zip(columns, titles)):
            width = max([title.cell_len, *(cells[position].cell_len for cells, _ in rows)])
            self.add_column(title, key=key, width=width)
        for cells, row_key in rows:
            self.add_row(*cells, key=row_key)
        if self.row_count:
            self.move_cursor(row=min(cursor_row, self.row_count - 1))
