"""Widgets of the compare views: run columns, the summary table, the diff, the model picker."""

from tui.widgets.compare.column import CompareColumn
from tui.widgets.compare.diff_view import DiffView
from tui.widgets.compare.summary import SummaryTable

__all__ = ["CompareColumn", "DiffView", "SummaryTable"]
