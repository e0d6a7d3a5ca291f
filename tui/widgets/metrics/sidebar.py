"""Live figures while a run streams, then the final metrics of DESIGN.md.

No figure here is timed by the widget. Live, it shows what the core computes from
the stamps taken where the bytes arrived (`RunHandle.live()`: TTFB, TTFT and chunks
are the values the final metrics will hold), the exchange's phase as the core
reports it (connecting, waiting, HTTP 429 — retrying in 7 s), and a sparkline of
estimated tokens per quarter second of arrival time, so a stall shows as a flat
run of zeros while it happens. The 4 Hz timer only redraws.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from core.events import (
    RETRYING, Event, Failed, Finished, Phase, ReasoningDelta, RefusalDelta, RunStarted, TextDelta, ToolCallDelta,
)  # fmt: skip
from core.handle import RunHandle
from core.server_timings import server_rows
from core.store.models import RunFrame
from tui.widgets.metrics.figures import final_rows, live_rows, render_rows

REFRESH_HZ = 4
BUCKET_MS = 1000 / REFRESH_HZ
SPARK_BUCKETS = 30 * REFRESH_HZ  # the last 30 seconds


class _FiguresScroll(VerticalScroll, can_focus=False):
    """Scrolls with the mouse wheel on a short terminal, but is no Tab stop: it has no keys
    of its own, and a focus nobody can see made Tab seem to do nothing."""


class MetricsSidebar(Widget):
    DEFAULT_CSS = (Path(__file__).with_name("metrics.tcss")).read_text()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._live = False
        self._stream = True
        self._handle: RunHandle | None = None
        self._phase: Phase | None = None
        self._chars_by_bucket: defaultdict[int, int] = defaultdict(int)  # arrival bucket → characters
        self._final: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with _FiguresScroll(id="metrics-scroll"):
            yield Static(id="metrics-figures")
            yield Static(id="metrics-server")
            yield Static(f"tokens / {BUCKET_MS:.0f} ms", id="metrics-spark-caption")
            yield Sparkline([], id="metrics-spark")

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / REFRESH_HZ, self._tick, pause=True)
        self._show_idle()

    # --- public API ---------------------------------------------------------------

    @property
    def final_metrics(self) -> dict[str, Any] | None:
        return self._final

    def begin_run(self, handle: RunHandle | None = None, *, stream: bool | None = None) -> None:
        """Show `handle`'s run live (without one, only its final figures will show)."""
        self.clear()
        self._live = True
        self._handle = handle
        self._stream = handle.stream if handle is not None else bool(stream if stream is not None else True)
        self._timer.resume()
        self._show_live()

    def feed(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._on_delta(event.offset_ms, len(event.content))
        elif isinstance(event, ReasoningDelta):
            self._on_delta(event.offset_ms, len(event.reasoning))
        elif isinstance(event, ToolCallDelta):
            self._on_delta(event.offset_ms, len(event.arguments_delta))
        elif isinstance(event, RefusalDelta):
            self._on_delta(event.offset_ms, len(event.refusal))
        elif isinstance(event, Phase):
            self._phase = event
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
            self.begin_run(stream=event.stream)

    def show_saved_spark(self, frames: list[RunFrame]) -> None:
        """A reopened run's sparkline, from its saved frames' arrival times (after show_metrics)."""
        from tui.widgets.metrics.spark import ticks_from_frames

        self.query_one("#metrics-spark", Sparkline).data = ticks_from_frames(frames, BUCKET_MS)

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
            self._draw_spark(metrics.get("total_ms"))  # the last partial bucket belongs on the sparkline
        else:  # a saved run reopened: the sparkline of whatever ran before is not its own
            self._chars_by_bucket.clear()
            self.query_one("#metrics-spark", Sparkline).data = []
        self._live = False
        self._handle = None
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

    def _on_delta(self, offset_ms: float | None, chars: int) -> None:
        if offset_ms is not None:
            self._chars_by_bucket[int(offset_ms // BUCKET_MS)] += chars

    def _tick(self) -> None:
        if self._live:
            figures = self._show_live()
            self._draw_spark(figures.get("elapsed_ms") if figures else None)

    def _draw_spark(self, until_ms: float | None) -> None:
        buckets = self._chars_by_bucket
        last = max(buckets, default=0)
        if until_ms is not None:
            last = max(last, int(until_ms // BUCKET_MS))
        first = max(0, last - SPARK_BUCKETS + 1)
        # A zero baseline: one bucket alone would draw as a full block, and stalls are zeros.
        data = [0.0] + [buckets.get(i, 0) / 4 for i in range(first, last + 1)] if buckets else []
        self.query_one("#metrics-spark", Sparkline).data = data

    def _show_live(self) -> dict[str, Any] | None:
        figures = self._handle.live() if self._handle is not None else None
        rows = live_rows(
            stream=self._stream, elapsed_ms=figures["elapsed_ms"] if figures else None,
            ttft_ms=figures["ttft_ms"] if figures else None, chunks=figures["chunks"] if figures else 0,
            tokens=figures["tokens"] if figures else 0, tps=figures["tps"] if figures else None,
            ttfb_ms=figures["ttfb_ms"] if figures else None, phase=self._phase_line(figures),
            decode_ms=_decode_ms(figures),
        )  # fmt: skip
        self.query_one("#metrics-figures", Static).update(render_rows(rows))
        return figures

    def _phase_line(self, figures: dict[str, Any] | None) -> str | None:
        phase = self._phase
        if phase is None or (phase.phase != RETRYING and figures is not None and figures["chunks"]):
            return None  # once content flows, the figures say more than the phase
        if phase.phase == RETRYING and phase.retry_in_s is not None and figures is not None:
            # The countdown runs on the core's clock, from when the core decided to wait.
            left = max(phase.retry_in_s - (figures["elapsed_ms"] - phase.offset_ms) / 1000, 0.0)
            status = f"HTTP {phase.http_status} — " if phase.http_status else ""
            return f"{status}retrying in {left:.0f} s ({phase.attempt}/{phase.max_retries})"
        return phase.describe()

    def _show_idle(self) -> None:
        self.query_one("#metrics-figures", Static).update(render_rows([("", "#Metrics"), ("", "no run yet")]))


def _decode_ms(figures: dict[str, Any] | None) -> float | None:
    """Time since the first token: with the chunk count, whether a live rate means anything."""
    if not figures or figures.get("ttft_ms") is None or figures.get("elapsed_ms") is None:
        return None
    return max(figures["elapsed_ms"] - figures["ttft_ms"], 0.0)
