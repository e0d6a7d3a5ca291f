"""One column of a comparison: a compact header (model, mode, status, TTFT) over an
OutputPane that shows the run live, or a saved run reopened.

A column can drive its own run (`start`: a worker on the column, so a re-run
cancels only this column's run), or be fed events by its screen (`begin`/`feed`).
Either way it posts `Ended` with the run's outcome when the run is over.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker

from core.compare import RunOutcome, mode_of
from core.events import (
    Event, Failed, Finished, ReasoningDelta, RefusalDelta, RunStarted, TextDelta, ToolCallDelta, WireFrame,
)  # fmt: skip
from core.providers.base import INTERNAL
from core.request import ChatRequest
from core.readerproc import start_app_run
from core.runner import RunOptions
from core.store.models import ModelConfig, Run, RunFrame
from tui import format as fmt
from tui.widgets.output import OutputPane
from tui.widgets.output.flush_clock import follow
from tui.widgets.output.pacing import yielding

RUN_GROUP = "compare-column-run"
__all__ = ["CompareColumn", "yielding"]  # compare_stream paces its runs with it too

_STATUS_STYLE = {"ok": "green", "error": "red", "cancelled": "yellow", "running": "cyan", "waiting": "dim"}
_STATUS_MARK = {"ok": "✓", "error": "✗", "cancelled": "■", "running": "●", "waiting": "…"}


class CompareColumn(Vertical, can_focus=True):
    """A model's (or a mode's) answer in a comparison."""

    BINDINGS = [
        # f5, not r: the OutputPane inside binds r (reasoning) and would win when focused.
        Binding("f5", "rerun", "Re-run column"),
        Binding("m", "toggle_mode", "Stream/non-stream"),
        # The pane's own keys, from the column itself: no tabbing into the inner pane first.
        Binding("v,ctrl+n", "cycle_view", "View", show=False),
        Binding("r,ctrl+f", "toggle_reasoning", "Reasoning", show=False),
        # The answer scrolls from the column too (its view is not a Tab stop of its own).
        Binding("up", "scroll_output('up')", "Scroll up", show=False),
        Binding("down", "scroll_output('down')", "Scroll down", show=False),
        Binding("pageup", "scroll_output('page_up')", "Page up", show=False),
        Binding("pagedown", "scroll_output('page_down')", "Page down", show=False),
        Binding("home", "scroll_output('home')", "Scroll to the start", show=False),
        Binding("end", "scroll_output('end')", "Scroll to the end (and follow)", show=False),
        Binding("y", "copy_output", "Copy", tooltip="Copy this column's answer text"),
        Binding("o", "open_on_main", "Open", tooltip="Open this column's run on the workbench (closes the comparison)"),
    ]

    class Ended(Message):
        """The column's run finished, failed or was cancelled."""

        def __init__(self, column: "CompareColumn", outcome: RunOutcome) -> None:
            super().__init__()
            self.column = column
            self.outcome = outcome

    class Started(Message):
        def __init__(self, column: "CompareColumn", run_id: str) -> None:
            super().__init__()
            self.column = column
            self.run_id = run_id

    class OpenRequested(Message):
        """The user asked to see this column's run on the main screen."""

        def __init__(self, column: "CompareColumn", run_id: str) -> None:
            super().__init__()
            self.column = column
            self.run_id = run_id

    class RerunRequested(Message):
        """The user asked to run this column again (the screen knows the request)."""

        def __init__(self, column: "CompareColumn") -> None:
            super().__init__()
            self.column = column

    def __init__(
        self, config: ModelConfig | str, stream: bool, *, rerunnable: bool = False, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        # A reopened run whose config was since deleted still has a name to show.
        self.config = config if isinstance(config, ModelConfig) else None
        self.label = config.name if isinstance(config, ModelConfig) else config
        self.stream = stream
        self.rerunnable = rerunnable
        self.status = "waiting"
        self.outcome: RunOutcome | None = None
        self.run_id: str | None = None
        self._ttft_ms: float | None = None
        self._worker: Worker[None] | None = None
        self.output = OutputPane()  # fed once per chunk: no query on that path

    def compose(self) -> ComposeResult:
        yield Static(self._header(), classes="column-header", markup=False)
        yield self.output

    def action_copy_output(self) -> None:
        text = self.output.text
        if not text:
            self.notify(f"{self.label}: no answer text to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {self.label}'s answer ({len(text)} characters)")

    def action_open_on_main(self) -> None:
        if self.running or self.status == "waiting" or self.run_id is None:
            self.notify(f"{self.label}: the run is not over yet; o opens it once it is", severity="warning")
            return
        self.post_message(self.OpenRequested(self, self.run_id))

    def action_cycle_view(self) -> None:
        self.output.cycle_view()

    def action_toggle_reasoning(self) -> None:
        self.output.toggle_reasoning()

    def action_scroll_output(self, where: str) -> None:
        self.output.scroll_shown_view(where)

    @property
    def running(self) -> bool:
        return self.status == "running"

    # --- driving a run ------------------------------------------------------------

    def start(self, request: ChatRequest, *, store: Any, group_id: str, position: int) -> None:
        """Run `request` on this column's model in this column's mode, as a worker on
        the column (a re-run replaces only this column's run); `position` is the
        column's place, kept with the run so a reopened comparison keeps it."""
        config = self.config
        if config is None:
            self.notify(f"{self.label}: no such model config any more; cannot re-run", severity="warning")
            return
        run_request = replace(request, stream=self.stream)
        options = RunOptions(store=store, group_id=group_id, group_position=position, wire_frames=True, phases=True)

        async def drive() -> None:
            try:
                # The run streams in a reader process (core.readerproc); its events come in on the flush clock.
                handle = start_app_run(config, run_request, options)
                await follow(self.app, handle, self.feed_batch)
            except Exception as error:  # the runner does not raise for provider trouble; this is ours
                message = f"internal error: {type(error).__name__}: {error}"
                self.feed(Failed(error=message, error_type=INTERNAL, partial_response={}, metrics={}))

        self.status = "waiting"
        self._refresh_header()
        self._worker = self.run_worker(drive(), exclusive=True, group=RUN_GROUP, exit_on_error=False)

    def cancel(self) -> None:
        """Stop this column's own run (the runner saves it as cancelled)."""
        if self._worker is not None:
            self._worker.cancel()

    # --- events -------------------------------------------------------------------

    def feed_batch(self, events: list[Event]) -> None:
        """The events the flush clock drained from this column's run. Most go straight to
        the pane in one batch; the few the header cares about (the start, the first
        token, the end) go through `feed`, in order."""
        passing: list[Event] = []
        for event in events:
            kind = type(event)
            if kind is WireFrame or (kind is TextDelta and self._ttft_ms is not None):
                passing.append(event)
                continue
            if passing:
                self.output.feed_batch(passing)
                passing = []
            self.feed(event)
        if passing:
            self.output.feed_batch(passing)

    def feed(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.begin(event.run_id)
            self.post_message(self.Started(self, event.run_id))
            return
        self.output.feed(event)
        if isinstance(event, (TextDelta, ReasoningDelta, ToolCallDelta, RefusalDelta)):
            if self._ttft_ms is None and self.stream and event.offset_ms is not None:
                # Stamped on the I/O thread where its bytes arrived, rounded as the final
                # metrics round it: the TTFT shown live is the one saved.
                self._ttft_ms = round(event.offset_ms, 3)
                self._refresh_header()
        elif isinstance(event, (Finished, Failed)):
            self.outcome = RunOutcome.from_event(self.label, self.stream, event)
            self.status = self.outcome.status
            self._ttft_ms = self.outcome.metrics.get("ttft_ms", self._ttft_ms)
            self._refresh_header()
            self.post_message(self.Ended(self, self.outcome))

    def begin(self, run_id: str) -> None:
        self.run_id = run_id
        self.status = "running"
        self.outcome = None
        self._ttft_ms = None
        self.output.begin_run(run_id, self.label, self.stream)
        self._refresh_header()

    def show_run(self, run: Run, frames: list[RunFrame]) -> None:
        """Show a saved run without re-running it."""
        self.outcome = RunOutcome.from_run(run)
        self.run_id, self.status, self.stream = run.id, run.status, run.stream
        self._ttft_ms = self.outcome.metrics.get("ttft_ms")
        self.output.show_run(run, frames)
        self._refresh_header()

    # --- actions --------------------------------------------------------------------

    def action_rerun(self) -> None:
        self.post_message(self.RerunRequested(self))

    def action_toggle_mode(self) -> None:
        if self.running:
            self.notify("Wait for the run to end (or re-run) before switching mode", severity="warning")
            return
        self.stream = not self.stream
        self._refresh_header()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rerun", "toggle_mode"):
            return self.rerunnable
        return True

    # --- header ---------------------------------------------------------------------

    def _header(self) -> Text:
        """Two short lines (columns are narrow): who and how it went, then the figures."""
        header = Text(self.label, style="bold")
        header.append(f" · {mode_of(self.stream)} · ", style="dim")
        header.append(f"{_STATUS_MARK[self.status]} {self.status}", style=_STATUS_STYLE[self.status])
        if self.outcome is not None and (self.outcome.http_status or 0) >= 400:  # a cut stream says 200
            header.append(f" {self.outcome.http_status}", style="red")
        figures = []
        if self._ttft_ms is not None and self.stream:
            figures.append(f"TTFT {fmt.duration(self._ttft_ms)}")
        total = self.outcome.metrics.get("total_ms") if self.outcome else None
        if total is not None:
            figures.append(f"total {fmt.duration(total)}")
        header.append("\n" + (" · ".join(figures) if figures else " "))
        return header

    def _refresh_header(self) -> None:
        if self.is_mounted:
            self.query_one(".column-header", Static).update(self._header())
