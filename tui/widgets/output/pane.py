"""The output pane: one run shown three ways — rendered Markdown, plain text, wire frames.

`feed(event)` only appends to buffers (it runs once per chunk, at up to thousands
a second). A 15 Hz tick, shared by every pane of the app (flush_clock.py), flushes the
buffers into the widgets, so the cost of drawing depends on the flush rate, not
the chunk rate; the timer awaits its callback, so a slow flush makes the next one
bigger instead of piling up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Collapsible, Static

from core.events import (
    Event, Failed, Finished, Phase, ReasoningDelta, RefusalDelta, RunStarted, TextDelta, ToolCallDelta, WireFrame,
)  # fmt: skip
from core.events import to_wire_dict
from core.store.models import Run, RunFrame
from tui.widgets.output.cards import RunOutcomeBox, ToolCallCard, error_box_content, refusal_box_content
from tui.widgets.output.conversation import earlier_turns
from tui.widgets.output.flush_clock import flush_clock
from tui.widgets.output.growing import GrowingBody, GrowingScroll
from tui.widgets.output.markdown_stream import StreamingMarkdown
from tui.widgets.output.wire_header import phase_lines, saved_lines, wire_line
from tui.widgets.output.wrapped_text import WrappedText

VIEWS = ("rendered", "plain", "wire")
SCROLLS = ("up", "down", "page_up", "page_down", "home", "end")


__all__ = ["OutputPane", "wire_line"]


class OutputPane(Widget):
    DEFAULT_CSS = (Path(__file__).with_name("output.tcss")).read_text()
    BLANK = True  # no border or content of its own: its views cover it (see GrowingBody)

    BINDINGS = [
        Binding("v", "cycle_view", "View"),
        Binding("r", "toggle_reasoning", "Reasoning"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._view = "rendered"
        self._reset_state()

    def _reset_state(self) -> None:
        self._generation = getattr(self, "_generation", 0) + 1
        self._run_id: str | None = None
        self._model_name = ""
        self._stream = True
        self._status = "idle"
        self._text_parts: list[str] = []  # one string per flush (a chunk each was ~60 bytes a chunk)
        self._reasoning_chars = 0
        self._pending_text: list[str] = []
        self._pending_reasoning: list[str] = []
        self._refusal_parts: list[str] = []
        self._refusal_pending = False
        self._refusal_box: RunOutcomeBox | None = None
        self._pending_wire: list[str] = []
        self._wire_written = False
        self._cards: dict[int, ToolCallCard] = {}
        self._new_cards: list[ToolCallCard] = []
        self._dirty_cards: set[ToolCallCard] = set()
        self._final: Finished | Failed | None = None
        self._final_applied = False
        self._answer_started = False

    # --- composition -----------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="output-header")
        # The three views are the pane's own children, one displayed at a time (no
        # ContentSwitcher: every container layer under a compare column is laid out,
        # rendered and cut into the screen's lines again in each frame of six streams).
        with GrowingScroll(id="rendered"), GrowingBody(id="rendered-body"):
            yield Static(id="conversation")
            with Collapsible(title="Reasoning", collapsed=False, id="reasoning"):
                yield WrappedText(auto_scroll=False, id="reasoning-text")
            yield StreamingMarkdown(id="answer")
            yield Vertical(id="tool-cards")
            yield Vertical(id="outcome")
        # Wrapped, unlike a Log: the part of a frame worth reading (the delta) sits at
        # the end of a long JSON line, out of sight in a narrow pane.
        for view in ("plain", "wire"):
            text = WrappedText(id=view)
            text.hold()  # not shown: what streams is only kept until it is
            yield text

    def on_mount(self) -> None:
        self.query_one("#rendered", VerticalScroll).anchor()
        self.query_one("#reasoning").display = False
        self.query_one("#conversation").display = False
        self._flush_clock = flush_clock(self.app)
        self._update_header()

    # --- public API (the screen calls these) -------------------------------------

    @property
    def view(self) -> str:
        return self._view

    @property
    def text(self) -> str:
        return "".join(self._text_parts) + "".join(self._pending_text)

    @property
    def refusal(self) -> str:
        return "".join(self._refusal_parts)

    @property
    def final_json(self) -> dict[str, Any] | None:
        return to_wire_dict(self._final) if self._final is not None else None

    @property
    def status(self) -> str:
        """idle, streaming, ok, error or cancelled."""
        return self._status

    def begin_run(self, run_id: str, model_name: str, stream: bool) -> None:
        self.clear()
        self._run_id, self._model_name, self._stream = run_id, model_name, stream
        self._status = "streaming"
        self._update_header()

    def show_conversation(self, request: dict[str, Any]) -> None:
        """Above this run's answer, the turns before it (a tool-call conversation's next turn)."""
        earlier = earlier_turns(request)
        conversation = self.query_one("#conversation", Static)
        conversation.update(earlier or "")
        conversation.display = earlier is not None

    def feed(self, event: Event) -> None:
        """Buffer one core event; drawn at the next flush. Cheap by design."""
        self._take(event)
        self._flush_clock.want(self)

    def feed_batch(self, events: list[Event]) -> None:
        """`feed` for every event of a batch (what the flush clock drained from a run)."""
        wire = self._pending_wire
        for event in events:
            if type(event) is WireFrame:  # most of a stream's events, with the deltas
                wire.append(wire_line(event.offset_ms, event.data))
            else:
                self._take(event)
        self._flush_clock.want(self)

    def _take(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._pending_text.append(event.content)
        elif isinstance(event, WireFrame):
            self._pending_wire.append(wire_line(event.offset_ms, event.data))
        elif isinstance(event, ReasoningDelta):
            self._pending_reasoning.append(event.reasoning)
        elif isinstance(event, RefusalDelta):
            self._refusal_parts.append(event.refusal)
            self._refusal_pending = True
        elif isinstance(event, ToolCallDelta):
            card = self._cards.get(event.index)
            if card is None:
                card = self._cards[event.index] = ToolCallCard(event.index)
                self._new_cards.append(card)
            card.grow(event.id, event.name, event.arguments_delta)
            self._dirty_cards.add(card)
        elif isinstance(event, (Finished, Failed)):
            self._final = event
        elif isinstance(event, Phase):
            self._pending_wire.extend(phase_lines(event))
        elif isinstance(event, RunStarted):
            self._run_id = event.run_id
            if self._status == "idle":
                self._status = "streaming"
                self._model_name, self._stream = event.model_config, event.stream
            self._update_header()

    def clear(self) -> None:
        self._reset_state()
        self._flush_clock.drop(self)
        self.query_one("#plain", WrappedText).clear()
        self.query_one("#wire", WrappedText).clear()
        self.query_one("#reasoning-text", WrappedText).clear()
        reasoning = self.query_one("#reasoning", Collapsible)
        reasoning.display, reasoning.collapsed, reasoning.title = False, False, "Reasoning"
        for box in self.query_one("#tool-cards"), self.query_one("#outcome"):
            box.remove_children()
            box.display = False
        self.query_one(StreamingMarkdown).clear()
        self.query_one("#conversation").display = False
        self._update_header()

    def show_run(self, run: Run, frames: list[RunFrame]) -> None:
        """Reopen a saved run: answer (or partial), reasoning, tool calls, error, wire frames."""
        self.clear()
        self._run_id, self._model_name, self._stream = run.id, run.model_config_name, run.stream
        response = run.response or {}
        self._text_parts = [response.get("content") or ""]
        self.show_conversation(run.request or {})
        reasoning = response.get("reasoning") or ""
        if response.get("refusal"):
            self._refusal_parts, self._refusal_pending = [str(response["refusal"])], True
        self._pending_wire = saved_lines((run.request or {}).get("http"))
        self._pending_wire += [wire_line(frame.offset_ms, frame.data) for frame in frames]
        if run.status in ("error", "cancelled"):
            self._final = Failed(
                error=run.error or "", error_type=run.error_type or "", partial_response=response,
                metrics=run.metrics or {}, http_status=run.http_status, run_id=run.id,
                status=run.status,
            )  # fmt: skip
        elif run.status == "ok":
            self._final = Finished(final_response=response, metrics=run.metrics or {}, run_id=run.id)
        self._status = "loading"
        self._update_header()
        load = self._load(self._generation, self._text_parts[0], reasoning)
        self.run_worker(load, group="output-load", exclusive=True)

    async def _load(self, generation: int, content: str, reasoning: str) -> None:
        # The run shown when the load was asked for, not when the worker starts: a run begun
        # in between (same tick) would be taken for this one and get the saved answer.
        if generation != self._generation:
            return
        if reasoning:
            self._show_reasoning(reasoning)
            self.query_one("#reasoning", Collapsible).collapsed = bool(content)
        self.query_one("#plain", WrappedText).write(content)
        await self.query_one(StreamingMarkdown).load(content)
        if generation == self._generation:
            self._status = "idle"
            await self._flush()  # wire frames, then the outcome
            if self._final is None:  # no outcome to show (a run still going elsewhere): not "loading"
                self._update_header()

    def cycle_view(self) -> None:
        hidden = self.query_one(f"#{self._view}")
        self._view = VIEWS[(VIEWS.index(self._view) + 1) % len(VIEWS)]
        shown = self.query_one(f"#{self._view}")
        if isinstance(shown, WrappedText):
            # Before its first frame: it shows the newest text at once. Its width is the
            # pane's less its scrollbar's gutter (kept, `output.tcss`).
            shown.expect_width(self.size.width - shown.styles.scrollbar_size_vertical)
            shown.release()
        with self.app.batch_update():
            hidden.display = False
            shown.display = True
        if isinstance(hidden, WrappedText):
            hidden.hold()
        self._update_header()

    def action_cycle_view(self) -> None:
        self.cycle_view()

    def toggle_reasoning(self) -> None:
        """Fold or unfold the reasoning section (when the run has one)."""
        reasoning = self.query_one("#reasoning", Collapsible)
        if reasoning.display:
            reasoning.collapsed = not reasoning.collapsed

    def action_toggle_reasoning(self) -> None:
        self.toggle_reasoning()

    def scroll_shown_view(self, where: str) -> None:
        """Scroll the view on show: up, down, page_up, page_down, home or end (which
        follows the stream again)."""
        if where not in SCROLLS:
            raise ValueError(f"no such scroll: {where}")
        view = self.query_one(f"#{self._view}")
        # At once: Textual scrolls after the next frame by default, so the key's own frame
        # showed nothing and the scroll waited for another (Home on a streaming compare
        # column: that second frame came 0.1-0.25 s later, bench/tui_responsiveness.py).
        if where in ("page_up", "page_down"):  # Textual's page scrolls take no `immediate`
            page = view.scrollable_content_region.height
            view.scroll_to(y=view.scroll_y + (page if where == "page_down" else -page), animate=False, immediate=True)
        else:
            getattr(view, f"scroll_{where}")(animate=False, immediate=True)

    # --- drawing -----------------------------------------------------------------

    def _show_reasoning(self, text: str) -> None:
        reasoning = self.query_one("#reasoning", Collapsible)
        reasoning.display = True
        self._reasoning_chars += len(text)
        reasoning.title = f"Reasoning · {self._reasoning_chars:,} chars"
        self.query_one("#reasoning-text", WrappedText).write(text)

    async def _flush(self) -> None:
        generation = self._generation
        text = "".join(self._pending_text)
        if text:
            self._text_parts.append(text)
        reasoning = "".join(self._pending_reasoning)
        wire, new_cards, dirty_cards = self._pending_wire, self._new_cards, self._dirty_cards
        self._pending_text, self._pending_reasoning, self._pending_wire = [], [], []
        self._new_cards, self._dirty_cards = [], set()
        with self.app.batch_update():
            if wire:
                # WrappedText's last line is the one still growing: each frame starts a new line.
                separator = "\n" if self._wire_written else ""
                self.query_one("#wire", WrappedText).write(separator + "\n".join(wire))
                self._wire_written = True
            if reasoning:
                self._show_reasoning(reasoning)
            if text:
                self.query_one("#plain", WrappedText).write(text)
                if not self._answer_started and self._reasoning_chars:
                    # The answer has begun: fold the thinking away (r brings it back).
                    self.query_one("#reasoning", Collapsible).collapsed = True
                self._answer_started = True
            if new_cards:
                await self._mount_into("#tool-cards", *new_cards)
            for card in dirty_cards:
                card.refresh_card()
            if text:
                self.query_one(StreamingMarkdown).append(text)
            if self._refusal_pending:
                await self._show_refusal()
        if generation != self._generation or self._status == "loading":
            return
        if self._final is not None and not self._final_applied and not self._pending_text:
            await self._apply_final(self._final)

    async def _mount_into(self, box_id: str, *widgets: Widget) -> None:
        """Into the tool-cards or outcome box, shown from its first child on. Empty, they
        are hidden: not laid out at each frame of a stream (two per compare column), and
        a hidden box refreshed made Textual arrange the whole screen twice in that frame."""
        box = self.query_one(box_id)
        box.display = True
        await box.mount_all(widgets)

    async def _show_refusal(self) -> None:
        """The refusal in its own box, growing as it streams (it is the model's answer)."""
        self._refusal_pending = False
        content = refusal_box_content("".join(self._refusal_parts))
        if self._refusal_box is None:
            self._refusal_box = RunOutcomeBox("refused", content)
            await self._mount_into("#outcome", self._refusal_box)
        else:
            self._refusal_box.update(content)

    async def _apply_final(self, final: Finished | Failed) -> None:
        self._final_applied = True
        self.query_one(StreamingMarkdown).end_stream()
        response = final.final_response if isinstance(final, Finished) else final.partial_response
        calls = response.get("tool_calls") or []
        for call in calls:
            index = int(call.get("index", 0))
            card = self._cards.get(index)
            if card is None:  # a non-streamed run delivers its calls whole
                card = self._cards[index] = ToolCallCard(index)
                await self._mount_into("#tool-cards", card)
            card.complete(call)
        if self._refusal_parts:
            self.query_one("#plain", WrappedText).write("\n\n" + refusal_box_content(self.refusal).plain + "\n")
        if isinstance(final, Failed):
            self._status = final.status
            content = error_box_content(
                status=final.status, error=final.error, error_type=final.error_type,
                http_status=final.http_status, retry_after=final.retry_after,
            )  # fmt: skip
            await self._mount_into("#outcome", RunOutcomeBox(final.status, content))
            self.query_one("#plain", WrappedText).write("\n\n" + content.plain + "\n")
        else:
            self._status = "ok"
        self._update_header()

    def on_descendant_focus(self) -> None:
        # A class, not `:focus-within` in the CSS: the header is not the focused widget's
        # ancestor, and Textual did not restyle it when the pane's focus-within changed.
        self.query_one("#output-header").add_class("-focused")

    def on_descendant_blur(self) -> None:
        self.query_one("#output-header").remove_class("-focused")

    def _update_header(self) -> None:
        """Most telling first — the model, how the run went, the view — so a narrow pane cuts
        the run id and the mode at its end, never the status or the view."""
        view = Content.assemble(("view: ", "dim"), (self._view, "bold"), (" (^n)", "dim"))
        if self._run_id is None and self._status == "idle":
            header = Content.assemble(("No run yet: ctrl+r runs the prompt", "dim"), ("  ·  ", "dim"), view)
        else:
            header = Content.assemble(
                (self._model_name, "bold"),
                (" · ", "dim"),
                (self._status, f"bold {_STATUS_STYLE.get(self._status, '')}"),
                (" · ", "dim"),
                view,
                (" · " + ("stream" if self._stream else "non-stream"), "dim"),
                (f" · run {self._run_id}" if self._run_id else "", "dim"),
            )
        self.query_one("#output-header", Static).update(header)


_STATUS_STYLE = {"ok": "green", "error": "red", "cancelled": "yellow", "streaming": "cyan"}
