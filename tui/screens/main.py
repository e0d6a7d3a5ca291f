"""The main screen: models on the left, prompt and output in the centre, metrics on the right.

It owns the run worker. One run at a time: the run key is ignored (with a note)
while a run is going, so a double press never throws away a stream half read.
The run itself streams on the core's I/O thread; the worker only follows it, its
events taken in on the app's flush clock (tui/widgets/output/flush_clock.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widgets import Header
from textual.worker import Worker, WorkerState

from core.events import Event, Failed, Finished
from core.handle import RunHandle
from core.request import ChatRequest
from core.readerproc import start_app_run
from core.runner import RunOptions
from core.store.models import ModelConfig, Run
from core.tools import ToolError, continuation_request
from tui.screens.copy_menu import CopyMenu
from tui.screens.tool_results import ToolResultsScreen, calls_to_answer, next_turn
from tui.widgets.footer import NARROW_WIDTH, WorkbenchFooter, fit_footer
from tui.widgets.history import HistoryChoice, HistoryScreen
from tui.widgets.metrics import MetricsSidebar
from tui.widgets.models import ModelList
from tui.widgets.output import OutputPane
from tui.widgets.output.flush_clock import follow
from tui.widgets.prompt import PromptEditor, PromptError

log = logging.getLogger("llmwb")

SHORT_HEIGHT = 32  # below this the prompt boxes shrink (below NARROW_WIDTH the model list starts hidden)
DEFAULT_MODEL = "demo-fast"  # selected on a fresh start: the demo that answers at once
OUTPUT_KEYS = Binding.Group("Output")
COMPARE_KEYS = Binding.Group("Compare")
PANE_KEYS = Binding.Group("Panes")
FOOTER_DROP_ORDER = (OUTPUT_KEYS, COMPARE_KEYS, PANE_KEYS, "copy_menu", "history")


class MainScreen(Screen[None]):
    CSS_PATH = "main.tcss"
    HELP_GROUP = "Workbench"
    # The header shows the sub-title (it watches it): the screen need not be repainted whole
    # when it changes, as Textual's reactive does by default. That full repaint was most of
    # ctrl+r's frame (the sub-title names the run's status) and of each move in the model list.
    sub_title: Reactive[str | None] = Reactive(None, compute=False, repaint=False)
    # Global keys are ctrl+letters and F-keys no TextArea or Input edits with (F6/F7
    # are TextArea's). Related keys share a footer group to keep the footer within
    # 80 columns; the help screen (F1) names each key.
    BINDINGS = [
        Binding("ctrl+r,f5", "run", "Run", tooltip="Run the prompt on the selected model"),
        Binding("ctrl+g", "cancel", "Cancel", tooltip="Cancel the run (it is saved as cancelled)"),
        Binding(
            "ctrl+l",
            "answer_tool_calls",
            "Answer",
            tooltip="Answer the shown run's tool calls: a result for each, sent as its next turn",
        ),
        Binding("ctrl+o", "history", "History", tooltip="Every run: search, filter, reopen, delete, export"),
        Binding("f9", "copy_menu", "Copy", tooltip="Copy the output, the final JSON or the request as curl"),
        Binding("ctrl+n", "cycle_view", "View", tooltip="Output view: rendered → plain → wire", group=OUTPUT_KEYS),
        Binding("ctrl+f", "toggle_reasoning", "Reasoning", tooltip="Fold or unfold the reasoning", group=OUTPUT_KEYS),
        Binding("f8", "compare_models", "Compare models", tooltip="Same request, several models", group=COMPARE_KEYS),
        Binding("ctrl+t", "compare_stream", "Stream vs non-stream", tooltip="Same request, both ways", group=COMPARE_KEYS),
        Binding("f2", "toggle_models", "Models", tooltip="Show or hide the model list", group=PANE_KEYS),
        Binding("f3", "toggle_metrics", "Metrics", tooltip="Show or hide the metrics sidebar", group=PANE_KEYS),
        Binding("f4", "toggle_params", "Params", tooltip="Show or hide params, tools and stream", group=PANE_KEYS),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._run_worker: Worker[None] | None = None
        self._handle: RunHandle | None = None  # the run shown in the panes
        self._last_run: tuple[str, str] | None = None  # (model name, status) of the latest run

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield ModelList(id="models")
            with Vertical(id="centre"):
                yield PromptEditor(self.app.data_dir, id="editor")
                yield OutputPane(id="output")
            yield MetricsSidebar(id="metrics")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        # Continue where the last session left off: the model of the latest run, else the demo.
        latest = self.app.store.list_runs(limit=1)
        name = latest[0].model_config_name if latest else DEFAULT_MODEL
        if self.app.store.get_config(name) is not None:
            self.models.reload(select=name)
        self.editor.focus_prompt()

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW_WIDTH
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            self.refresh_bindings()  # the footer's key list depends on it (active_bindings)
        self.set_class(self.size.height < SHORT_HEIGHT, "-short")

    # --- the panes ----------------------------------------------------------------------
    @property
    def models(self) -> ModelList:
        return self.query_one("#models", ModelList)

    @property
    def editor(self) -> PromptEditor:
        return self.query_one("#editor", PromptEditor)

    @property
    def output(self) -> OutputPane:
        return self.query_one("#output", OutputPane)

    @property
    def metrics(self) -> MetricsSidebar:
        return self.query_one("#metrics", MetricsSidebar)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """What the footer shows (every key works regardless). Cancel and Answer share one
        place: there is nothing to cancel while tool calls wait for an answer, and nothing to
        answer while a run goes. On a narrow terminal, not the output keys either, so the rest
        fit in 80 columns (F1 lists them all)."""
        bindings = super().active_bindings
        answerable = not self.running and self._shown_tool_calls() is not None
        hidden = "cancel" if answerable else "answer_tool_calls"
        narrow = self.has_class("-narrow")
        shown = {
            key: active
            for key, active in bindings.items()
            if active.binding.action != hidden and not (narrow and active.binding.group is OUTPUT_KEYS)
        }
        if narrow:  # the compact footer, laid out for 80 columns
            return shown
        # A focused pane's own keys come first (the model list's five took 46 columns at
        # 120): the workbench's less used keys make room for them.
        return fit_footer(self.app, shown, self.size.width, FOOTER_DROP_ORDER)

    @property
    def running(self) -> bool:
        return self._run_worker is not None and not self._run_worker.is_finished

    @on(ModelList.Selected)
    def _model_selected(self, event: ModelList.Selected) -> None:
        self._show_sub_title()

    def _run_status(self, model: str, status: str) -> None:
        self._last_run = (model, status)
        self._show_sub_title()

    def _show_sub_title(self) -> None:
        """The header names the model ctrl+r runs, then how the latest run went, naming its
        model too when the selection moved to another one meanwhile."""
        selected = self.models.selected_config
        name = selected.name if selected else ""
        if self._last_run is None:
            self.sub_title = name
            return
        model, status = self._last_run
        self.sub_title = f"{name} · {status}" if model == name else f"{name} · last run: {model} {status}"

    @on(ModelList.Changed)
    def _models_changed(self) -> None:
        from tui.logsetup import register_key_env

        # A config added or edited may name a new key variable: keep its value out of the log.
        register_key_env(config.api_key_env for config in self.app.store.list_configs())

    # --- running ------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return True if self.running else None  # shown dimmed while there is nothing to cancel
        if action == "answer_tool_calls":
            # Live without tool calls too, so the key says why it has nothing to do.
            return True if not self.running else None
        return True

    def action_run(self) -> None:
        if self.running:
            self.notify("A run is going: ctrl+g cancels it first", severity="warning")
            return
        prepared = self._prepare()
        if prepared is None:
            return
        config, request = prepared
        # The panes switch to the new run in this handler, so that the next frame shows
        # it; the footer's ctrl+g, lit by the bindings' change below, waits for the frame
        # after (tui.widgets.footer), and so does the draft's write to disk.
        try:
            handle = self._begin(config, request)
        except Exception as error:  # e.g. no reader process could be started: say so, keep the app
            log.exception("starting a run on %s failed", config.name)
            self.notify(f"Cannot start the run: {error}", title="Run", severity="error")
            return
        self._run_worker = self.run_worker(
            self._follow(handle, config), name="run", group="run", exclusive=True, exit_on_error=False
        )
        self.refresh_bindings()
        self.call_after_refresh(self.editor.save_draft)

    def action_cancel(self) -> None:
        if not self.running:
            return
        handle = self._handle
        if handle is not None and not handle.finished:
            # The run, not the worker following it: a worker cancelled before its first
            # step never runs (Textual), so ctrl+g right behind ctrl+r would leave the
            # screen "running" for ever. The run ends with its cancelled outcome, shown.
            handle.cancel()
        elif self._run_worker is not None:
            self._run_worker.cancel()  # a next turn still being prepared: no run yet

    def _prepare(self) -> tuple[ModelConfig, ChatRequest] | None:
        """The selected model and the editor's request, or None after telling the user why not."""
        config = self.models.selected_config
        if config is None:
            self.notify("No model selected: pick one in the model list (F2 shows it)", severity="error")
            return None
        try:
            return config, self.editor.build_request()
        except PromptError as error:
            self.notify(str(error), title="Cannot run", severity="error")
            return None

    def _begin(
        self, config: ModelConfig, request: ChatRequest, parent_run_id: str | None = None, title: str | None = None
    ) -> RunHandle:
        """Start one run and switch the panes to it; `parent_run_id` makes it that run's next
        turn, `title` names it in the output header (default: the model)."""
        options = RunOptions(store=self.app.store, parent_run_id=parent_run_id, wire_frames=True, phases=True)
        handle = self._handle = start_app_run(config, request, options)
        self.output.begin_run(handle.run_id, title or config.name, request.stream)
        self.metrics.begin_run(handle)
        self.output.show_conversation(request.to_dict())  # a next turn: the turns before it
        self._run_status(config.name, "running")
        return handle

    async def _follow(self, handle: RunHandle, config: ModelConfig) -> None:
        """Stream the run's events into the panes until its last one."""
        try:
            await follow(self.app, handle, partial(self._show_events, handle, config))
        except asyncio.CancelledError:  # the screen or the app went away: follow cancelled the run
            self._run_status(config.name, "cancelled")
            raise

    def _show_events(self, handle: RunHandle, config: ModelConfig, events: list[Event]) -> None:
        if handle is not self._handle:  # a cancelled run's last events, after the next run began
            return
        self.output.feed_batch(events)
        metrics = self.metrics
        for event in events:
            metrics.feed(event)
        last = events[-1]
        if isinstance(last, (Finished, Failed)):
            self._run_status(config.name, "ok" if isinstance(last, Finished) else str(last.error_type))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._run_worker:
            self.refresh_bindings()
            if event.state == WorkerState.ERROR:  # only reachable through a bug in _run itself
                self.notify(f"run failed: {event.worker.error}", severity="error")

    # --- tool results -------------------------------------------------------------------
    def _shown_tool_calls(self) -> tuple[str, list[dict[str, Any]]] | None:
        """The id and tool calls of the run in the output pane, when it ended in tool calls."""
        try:
            return calls_to_answer(self.output.final_json)
        except NoMatches:  # the footer asks before the panes are composed
            return None

    def action_answer_tool_calls(self) -> None:
        shown = self._shown_tool_calls()
        if self.running:
            return
        if shown is None:
            self.notify(
                "Nothing to answer: the shown run did not end in tool calls (demo-tools does; ctrl+o reopens a run)",
                severity="warning",
            )
            return
        run_id, calls = shown
        canned = {tool.name: tool.canned_result for tool in self.app.store.list_tools() if tool.canned_result}
        self.app.push_screen(ToolResultsScreen(run_id, calls, canned), partial(self._tool_results_given, run_id))

    def _tool_results_given(self, run_id: str, results: dict[str, str] | None) -> None:
        if results is None:
            return
        if self.running:
            self.notify("A run is going: ctrl+g cancels it first", severity="warning")
            return
        self._run_worker = self.run_worker(
            self._continue(run_id, results), name="run", group="run", exclusive=True, exit_on_error=False
        )
        self.refresh_bindings()

    async def _continue(self, run_id: str, results: dict[str, str]) -> None:
        """Run the next turn of `run_id`: its conversation, its calls and these results."""
        try:
            config, request = await asyncio.to_thread(continuation_request, self.app.store, run_id, results)
            turn, first = await asyncio.to_thread(next_turn, self.app.store, run_id)
        except ToolError as error:  # e.g. the run's model config was deleted meanwhile
            self.notify(str(error), title="Cannot send the tool results", severity="error")
            return
        except Exception as error:  # the database, most likely: say so, keep the app
            log.exception("preparing the tool results of run %s failed", run_id)
            self.notify(f"Cannot send the tool results: {error}", severity="error")
            return
        count = f"{len(results)} tool result{'s' if len(results) != 1 else ''}"
        self.notify(f"Turn {turn} of run {first}: {count} sent to {config.name}")
        # Short: the pane header also names the new run and its status, in ~50 columns at 80.
        handle = self._begin(config, request, parent_run_id=run_id, title=f"{config.name} · turn {turn}")
        await self._follow(handle, config)

    # --- copy ---------------------------------------------------------------------------
    def action_copy_menu(self) -> None:
        self.app.push_screen(CopyMenu(), self.action_copy)

    def action_copy(self, what: str | None) -> None:
        """Copy "text", "json" or "curl" (OSC 52: works over SSH when the terminal allows it)."""
        if what == "text":
            self._copy(self.output.text, "the output text")
        elif what == "json":
            final = self.output.final_json
            self._copy(json.dumps(final, ensure_ascii=False, indent=2) if final else "", "the final JSON")
        elif what == "curl":
            prepared = self._prepare()
            if prepared is not None:
                from core.curl import as_curl
                from core.providers.base import ProviderError

                try:
                    self._copy(as_curl(*prepared), "the request as curl, key as $ENV")
                except (ValueError, ProviderError) as error:  # a param the adapter refuses, an unknown kind
                    self.notify(str(error), title="Cannot copy as curl", severity="error")

    def _copy(self, text: str, what: str) -> None:
        if not text:
            self.notify(f"Nothing to copy: {what} is empty", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {what} ({len(text)} characters)")

    # --- history ------------------------------------------------------------------------
    def action_history(self) -> None:
        self.app.push_screen(HistoryScreen(self.app.store), self._history_chosen)

    def _history_chosen(self, choice: HistoryChoice | None) -> None:
        if choice is None:
            return
        store = self.app.store
        saved = store.get_run(choice.run_id)
        if saved is None:
            self.notify("That run is no longer in the history", severity="error")
            return
        if choice.action == "open":
            self.open_run(saved)
        elif choice.action == "prompt":
            request = ChatRequest.from_dict(saved.request)
            self.editor.replace_request(request, f"run {saved.id}", lambda: self._prompt_loaded(saved))
        elif choice.action == "compare" and saved.group_id:
            from tui.screens.compare_open import reopen_comparison

            reopen_comparison(self, saved.group_id)

    def open_run(self, saved: Run) -> None:
        """Show a saved run in the panes: output with its wire view, final metrics, and the
        sparkline rebuilt from its frames (history's Enter, a compare column's `o`)."""
        if self.running:
            self.notify("A run is going: cancel it (ctrl+g) before reopening another", severity="warning")
            return
        frames = self.app.store.get_frames(saved.id)
        self.output.show_run(saved, frames)
        self.refresh_bindings()  # the answer key follows the shown run
        response = saved.response or {}
        # A run cut off mid-call (its process killed) is kept without figures: how it was
        # sent is still the run's own, not the sidebar's default.
        self.metrics.show_metrics(
            {"stream": saved.stream, **saved.metrics}, status=saved.status,
            finish_reason=response.get("finish_reason"),
            server_timings=response.get("server_timings"),
        )  # fmt: skip
        self.metrics.show_saved_spark(frames)
        # The header names the model ctrl+r runs; the output pane names the reopened run's.
        self._last_run = None
        self._show_sub_title()

    def _prompt_loaded(self, saved: Run) -> None:
        if self.app.store.get_config(saved.model_config_name) is not None:
            self.models.reload(select=saved.model_config_name)
        self.notify(f"Prompt of run {saved.id} loaded into the editor")

    # --- compare ------------------------------------------------------------------------
    def _refuse_while_running(self, what: str) -> bool:
        if self.running:
            self.notify(f"A run is going: ctrl+g cancels it before {what}", severity="warning")
        return self.running

    def action_compare_stream(self) -> None:
        if self._refuse_while_running("a comparison"):
            return
        prepared = self._prepare()
        if prepared is not None:
            from tui.screens.compare_stream import StreamCompareScreen

            self.app.push_screen(StreamCompareScreen(*prepared))

    def action_compare_models(self) -> None:
        if self._refuse_while_running("a comparison"):
            return
        try:
            request = self.editor.build_request()
        except PromptError as error:
            self.notify(str(error), title="Cannot compare", severity="error")
            return
        from tui.screens.compare_models import ModelsCompareScreen

        selected = self.models.selected_config
        self.app.push_screen(ModelsCompareScreen(request, preselect=selected.name if selected else None))

    # --- panes --------------------------------------------------------------------------
    def action_toggle_models(self) -> None:
        self._toggle_pane(self.models, "-show-models", "-hide-models")

    def action_toggle_metrics(self) -> None:
        self._toggle_pane(self.metrics, None, "-hide-metrics")

    def _toggle_pane(self, pane: ModelList | MetricsSidebar, shown_class: str | None, hidden_class: str) -> None:
        """Flip what the user sees (the model list starts hidden on a narrow terminal:
        `shown_class` overrides that)."""
        hide = pane.display
        self.set_class(hide, hidden_class)
        if shown_class:
            self.set_class(not hide, shown_class)
        if hide and self.focused is not None and pane in self.focused.ancestors_with_self:
            self.editor.focus_prompt()  # focus must not stay in a pane nobody can see

    def action_toggle_params(self) -> None:
        self.editor.action_toggle_params()

    def action_cycle_view(self) -> None:
        self.output.cycle_view()

    def action_toggle_reasoning(self) -> None:
        self.output.toggle_reasoning()

