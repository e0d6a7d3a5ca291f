"""Live figures while a run streams, then the final metrics of DESIGN.md.

The live figures are the sidebar's own estimate (time taken when an event is fed,
tokens ≈ chars / 4); the authoritative ones arrive with the final metrics, timed
where the bytes arrived. The sparkline shows estimated tokens per refresh tick, so
a stall shows as a flat run of zeros while it happens, not only after it ends.
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from core.events import Event, Failed, Finished, ReasoningDelta, RefusalDelta, RunStarted, TextDelta, ToolCallDelta
from core.metrics import clock
from core.server_timings import server_rows
from tui.widgets.metrics.figures import final_rows, live_rows, render_rows

REFRESH_HZ = 4
SPARK_TICKS = 30 * REFRESH_HZ  # the last 30 seconds


class MetricsSidebar(Widget):
    DEFAULT_CSS = (Path(__file__).with_name("metrics.tcss")).read_text()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._live = False
        self._stream = True
        self._started_at = clock()
        self._first_at: float | None = None
        self._chunks = 0
        self._chars = 0
        self._chars_at_tick = 0
        # A zero baseline: one tick alone would draw as a full block, and stalls are zeros.
        self._ticks: deque[float] = deque([0.0], maxlen=SPARK_TICKS)
        self._final: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="metrics-scroll"):
            yield Static(id="metrics-figures")
            yield Static(id="metrics-server")
            yield Static(f"tokens / {1000 // REFRESH_HZ} ms", id="metrics-spark-caption")
            yield Sparkline([], id="metrics-spark")

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / REFRESH_HZ, self._tick, pause=True)
        self._show_idle()

    # --- public API ---------------------------------------------------------------

    @property
    def final_metrics(self) -> dict[str, Any] | None:
        return self._final

    def begin_run(self, stream: bool) -> None:
        self.clear()
        self._live = True
        self._stream = stream
        self._started_at = clock()
        self._timer.resume()
        self._show_live()

    def feed(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._on_delta(len(event.content))
        elif isinstance(event, ReasoningDelta):
            self._on_delta(len(event.reasoning))
        elif isinstance(event, ToolCallDelta):
            self._on_delta(len(event.arguments_delta))
        elif isinstance(event, RefusalDelta):
            self._on_delta(len(event.refusal))
        elif isinstance(event, Finished):
            response = event.final_response
            self.show_metrics(
                event.metrics, finish_reason=response.get("finish_reason"), server_timings=response.get("server_timings")
            )
        elif isinstance(event, Failed):
            self.show_metrics(
                event.metrics, status=event.status, finish_reason=event.partial_response.get("finish_reason")
            )
        elif isinstance(event, RunStarted) and not self._live:
            self.begin_run(event.stream)

    def show_metrics(
        self,
        metrics: dict[str, Any],
        *,
        status: str | None = None,
        finish_reason: str | None = None,
        server_timings: dict[str, Any] | None = None,
    ) -> None:
        """Final figures (a finished run, or a saved one reopened from history), and
        under them what the server said of itself (Ollama, llama.cpp), when it did."""
        if self._live:
            self._tick()  # the last partial tick belongs on the sparkline
        else:  # a saved run reopened: the sparkline of whatever ran before is not its own
            self._ticks.clear()
            self.query_one("#metrics-spark", Sparkline).data = []
        self._live = False
        self._timer.pause()
        self._final = metrics
        rows = final_rows(metrics, status=status, finish_reason=finish_reason)
        self.query_one("#metrics-figures", Static).update(render_rows(rows))
        self._show_server(server_timings)

    def clear(self) -> None:
        self._timer.pause()
        self._reset_counters()
        self.query_one("#metrics-spark", Sparkline).data = []
        self._show_server(None)
        self._show_idle()

    def _show_server(self, server_timings: dict[str, Any] | None) -> None:
        """The server's own figures, in their own block: shown beside llmwb's, never mixed in."""
        block = self.query_one("#metrics-server", Static)
        rows = server_rows(server_timings)
        block.display = bool(rows)
        if rows:
            source = (server_timings or {}).get("source") or "server"
            block.update(render_rows([("", f"#Server says · {source}"), *rows]))

    # --- live -----------------------------------------------------------------------

    def _on_delta(self, chars: int) -> None:
        if self._first_at is None:
            self._first_at = clock()
        self._chunks += 1
        self._chars += chars

    def _tick(self) -> None:
        tick_chars = self._chars - self._chars_at_tick
        self._chars_at_tick = self._chars
        self._ticks.append(tick_chars / 4)
        self.query_one("#metrics-spark", Sparkline).data = list(self._ticks)
        if self._live:
            self._show_live()

    def _show_live(self) -> None:
        now = clock()
        tokens = math.ceil(self._chars / 4)
        ttft_ms = tps = None
        if self._first_at is not None:
            ttft_ms = (self._first_at - self._started_at) * 1000
            decode_s = now - self._first_at
            if tokens > 1 and decode_s > 0:
                tps = (tokens - 1) / decode_s
        rows = live_rows(
            stream=self._stream, elapsed_ms=(now - self._started_at) * 1000, ttft_ms=ttft_ms,
            chunks=self._chunks, tokens=tokens, tps=tps,
        )  # fmt: skip
        self.query_one("#metrics-figures", Static).update(render_rows(rows))

    def _show_idle(self) -> None:
        self.query_one("#metrics-figures", Static).update(render_rows([("", "#Metrics"), ("", "no run yet")]))
