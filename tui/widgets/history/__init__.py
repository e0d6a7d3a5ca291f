"""The run history modal."""

from tui.widgets.history.screen import HistoryChoice, HistoryScreen

__all__ = ["HistoryChoice", "HistoryScreen"]
