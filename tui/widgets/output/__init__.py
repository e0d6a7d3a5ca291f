"""The output pane (rendered / plain / wire views of one run)."""

from tui.widgets.output.pane import OutputPane

__all__ = ["OutputPane"]
