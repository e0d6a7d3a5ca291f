"""The metrics sidebar (live figures, final figures, throughput sparkline)."""

from tui.widgets.metrics.sidebar import MetricsSidebar

__all__ = ["MetricsSidebar"]
