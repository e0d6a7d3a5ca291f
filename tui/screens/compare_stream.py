"""Stream vs non-stream: the same prompt on the same model both ways, side by side.

Left, the streamed run arrives live; right, the non-streamed one fills in when
its response lands. Below: first text of the stream vs the whole non-streamed
answer, totals, tokens, cost, and whether the two outputs are identical (with a
diff when not). Runs go one after the other by default (so neither slows the
other); `c` switches to concurrent for the next run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker

from core.compare import (
    STREAM,
    RunOutcome,
    RunSpec,
    compare_outputs,
    group_kind,
    load_group,
    new_group_id,
    run_group,
    summarise,
)
from core.request import ChatRequest
from core.store.models import ModelConfig, Run, RunFrame
from tui.widgets.compare import CompareColumn, DiffView, SummaryTable
from tui.widgets.compare.column import yielding
from tui import format as fmt
from tui.widgets.footer import WorkbenchFooter

WIDGETS_CSS = Path(__file__).parent.parent / "widgets" / "compare" / "compare.tcss"
SEQUENTIAL_NOTE, CONCURRENT_NOTE = "one after the other (stream first)", "concurrently"


class StreamCompareScreen(Screen[None]):
    CSS_PATH = [WIDGETS_CSS, "compare_stream.tcss"]
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f5", "rerun", "Re-run"),  # not r: the OutputPanes bind r (reasoning)
        Binding("c", "toggle_concurrent", "Sequential/concurrent"),
    ]

    def __init__(
        self,
        config: ModelConfig,
        request: ChatRequest,
        *,
        concurrent: bool = False,
        saved: list[tuple[Run, list[RunFrame]]] | None = None,
        group_id: str | None = None,
        can_rerun: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.request = request
        self.concurrent = concurrent  # the setting for the next run
        self.concurrent_used: bool | None = None  # how the runs on screen were made
        self.group_id = group_id
        self.can_rerun = can_rerun
        self.outcomes: dict[bool, RunOutcome] = {}
        self._saved = saved
        self._worker: Worker[None] | None = None

    @classmethod
    def from_group(cls, store, group_id: str) -> Screen:  # type: ignore[no-untyped-def]
        """The saved comparison, shown without re-running (a several-models group opens
        in ModelsCompareScreen, so either class can reopen any comparison)."""
        runs = load_group(store, group_id)
        if runs and group_kind(runs) != STREAM:
            from tui.screens.compare_models import ModelsCompareScreen

            return ModelsCompareScreen.from_group(store, group_id)
        if not runs:
            raise LookupError(f"no runs saved in comparison {group_id}")
        first = runs[0]
        config = store.get_config(first.model_config_name)
        stand_in = ModelConfig(name=first.model_config_name, provider=first.provider, model=first.model)
        screen = cls(
            config or stand_in,
            ChatRequest.from_dict(first.request),
            saved=[(run, store.get_frames(run.id)) for run in runs],
            group_id=group_id,
            can_rerun=config is not None,
        )
        by_mode = {run.stream: run for run in runs}
        if len(by_mode) == 2:
            # Not stored with the runs, but visible in them: sequential runs do not overlap.
            streamed, plain = by_mode[True], by_mode[False]
            screen.concurrent_used = plain.created_at < (streamed.finished_at or streamed.created_at)
            screen.concurrent = screen.concurrent_used
        return screen

    def compose(self) -> ComposeResult:
        yield Static("", id="compare-title", markup=False)
        with Horizontal(id="compare-columns"):
            yield CompareColumn(self.config, True, id="stream-column")
            yield CompareColumn(self.config, False, id="nonstream-column")
        with Vertical(id="compare-results"):
            yield Static("", id="compare-headline", markup=False)
            yield SummaryTable(id="compare-summary")
            yield DiffView(id="compare-diff")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.query_one(DiffView).clear()
        if self._saved is not None:
            for run, frames in self._saved:
                self._column(run.stream).show_run(run, frames)
                self.outcomes[run.stream] = RunOutcome.from_run(run)
            self._saved = None
            self._update_results()
            self._update_title()
        else:
            self.action_rerun()

    # --- running ------------------------------------------------------------------

    def action_rerun(self) -> None:
        if not self.can_rerun:
            self.notify(f"Model config {self.config.name!r} no longer exists: cannot re-run", severity="warning")
            return
        self.group_id = new_group_id()
        self.concurrent_used = self.concurrent
        self.outcomes.clear()
        self._update_title()
        self._update_results()
        specs = [RunSpec(self.config, replace(self.request, stream=stream)) for stream in (True, False)]
        self._worker = self.run_worker(
            self._drive(specs, self.group_id, self.concurrent),
            exclusive=True,  # a re-run cancels the comparison in flight (saved as cancelled)
            group="stream-compare",
            exit_on_error=False,
        )

    async def _drive(self, specs: list[RunSpec], group_id: str, concurrent: bool) -> None:
        columns = [self._column(spec.request.stream) for spec in specs]
        events = run_group(specs, store=self.app.store, concurrent=concurrent, group_id=group_id, phases=True)
        async for index, event in yielding(events):
            columns[index].feed(event)

    def action_toggle_concurrent(self) -> None:
        self.concurrent = not self.concurrent
        self._update_title()
        self.notify(f"Next run: {CONCURRENT_NOTE if self.concurrent else SEQUENTIAL_NOTE} (f5 re-runs)")

    def on_compare_column_open_requested(self, message: CompareColumn.OpenRequested) -> None:
        message.stop()
        from tui.screens.compare_open import open_on_main

        open_on_main(self, message.run_id)

    def action_back(self) -> None:
        if self._worker is not None:
            self._worker.cancel()  # the runner saves the runs in flight as cancelled
        self.dismiss()

    # --- results ------------------------------------------------------------------

    def on_compare_column_ended(self, message: CompareColumn.Ended) -> None:
        message.stop()
        self.outcomes[message.outcome.stream] = message.outcome
        self._update_results()

    def on_compare_column_started(self, message: CompareColumn.Started) -> None:
        message.stop()
        self._update_results()

    def _column(self, stream: bool) -> CompareColumn:
        return self.query_one("#stream-column" if stream else "#nonstream-column", CompareColumn)

    def _update_title(self) -> None:
        title = Text("Stream vs non-stream", style="bold")
        title.append(f" · {self.config.name} · ")
        if self.concurrent_used is None:
            title.append("saved runs")
        else:
            title.append("ran " + (CONCURRENT_NOTE if self.concurrent_used else SEQUENTIAL_NOTE))
        if self.concurrent != self.concurrent_used:
            title.append(f" · next run: {CONCURRENT_NOTE if self.concurrent else 'one after the other'}", style="dim")
        if self.group_id:
            title.append(f" · group {self.group_id}", style="dim")
        self.query_one("#compare-title", Static).update(title)

    def _update_results(self) -> None:
        outcomes = [
            self.outcomes.get(stream) or RunOutcome(self.config.name, stream, status=self._column(stream).status)
            for stream in (True, False)
        ]
        self.query_one(SummaryTable).show(summarise(outcomes), keys=["stream", "nonstream"])
        self.query_one("#compare-headline", Static).update(_headline(*outcomes))
        streamed, plain = outcomes
        diff = self.query_one(DiffView)
        if streamed.status in ("running", "waiting") or plain.status in ("running", "waiting"):
            diff.clear()
        elif streamed.status != "ok" or plain.status != "ok":
            failed = ", ".join(f"{o.mode} {o.status}" for o in outcomes if o.status != "ok")
            identical, lines = compare_outputs(streamed.response, plain.response)
            diff.show(identical, lines, note=f"partial output: {failed}", texts=_texts(streamed, plain))
        else:
            diff.show(*compare_outputs(streamed.response, plain.response), texts=_texts(streamed, plain))


def _texts(streamed: RunOutcome, plain: RunOutcome) -> tuple[str, str]:
    return (streamed.response.get("content") or "", plain.response.get("content") or "")


def _headline(streamed: RunOutcome, plain: RunOutcome) -> Text:
    """The figure this view exists for: how much sooner streaming shows something."""
    first = streamed.metrics.get("ttft_ms") if streamed.status == "ok" else None
    whole = plain.metrics.get("total_ms") if plain.status == "ok" else None
    if first is None or whole is None:
        pending = [o for o in (streamed, plain) if o.status in ("running", "waiting")]
        failed = [o for o in (streamed, plain) if o.status not in ("ok", "running", "waiting")]
        if pending or not failed:
            return Text("First text: stream vs non-stream — waiting for both runs…", style="dim")
        # Nothing left to wait for: say which side failed, so the line never hangs on "waiting".
        what = " and ".join(f"{o.mode} {o.status}" + (f" ({o.error_type})" if o.error_type else "") for o in failed)
        return Text(f"No comparison: {what} — see the column{'s' if len(failed) > 1 else ''} above", style="red")
    line = Text("First text: ")
    line.append(f"stream {fmt.duration(first)}", style="bold")
    line.append(" vs ")
    line.append(f"non-stream {fmt.duration(whole)}", style="bold")
    if first > 0:
        line.append(f" ({whole / first:.1f}× sooner streamed)", style="green" if whole > first else "yellow")
    line.append(
        f" · total {fmt.duration(streamed.metrics.get('total_ms'))} vs {fmt.duration(whole)}",
        style="dim",
    )
    return line
