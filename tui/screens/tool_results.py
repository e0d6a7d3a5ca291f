"""ToolResultsScreen: type a result for each tool call of a run, to send them as its next turn.

Each box starts with the tool's canned result (when the saved tool has one), so a
round trip with the demo tools is one key. Sending with an empty box says which
call still needs a result and moves there instead of sending.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static, TextArea

if TYPE_CHECKING:
    from core.store import Store


def calls_to_answer(final: dict[str, Any] | None) -> tuple[str, list[dict[str, Any]]] | None:
    """The run id and tool calls of a done event (OutputPane.final_json) that ended in tool calls."""
    final = final or {}
    response = final.get("final_response") or {}
    if final.get("run_id") and response.get("finish_reason") == "tool_calls" and response.get("tool_calls"):
        return final["run_id"], response["tool_calls"]
    return None


def next_turn(store: Store, run_id: str) -> tuple[int, str]:
    """The turn number of the run that continues `run_id`, and the conversation's first run."""
    turn, first, seen = 2, run_id, {run_id}
    parent = store.get_run(run_id)
    while parent is not None and parent.parent_run_id and parent.parent_run_id not in seen:
        turn, first = turn + 1, parent.parent_run_id
        seen.add(first)
        parent = store.get_run(first)
    return turn, first


def pretty_arguments(call: dict[str, Any]) -> str:
    """The call's arguments as indented JSON, or as sent when they are not valid JSON."""
    arguments = call.get("arguments")
    if call.get("arguments_valid", True) and not isinstance(arguments, str):
        return json.dumps(arguments, ensure_ascii=False, indent=2)
    return str(call.get("arguments_raw") or arguments or "")


class ToolResultsScreen(ModalScreen[dict[str, str] | None]):
    """Dismisses with {call id: result text} for every call, or None when cancelled."""

    HELP_GROUP = "Tool results"
    CSS_PATH = Path(__file__).with_name("tool_results.tcss")
    BINDINGS: ClassVar = [
        # Priority: the result boxes are TextAreas and must not swallow the send key.
        Binding("ctrl+s", "send", "Send results", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, run_id: str, calls: list[dict[str, Any]], canned: dict[str, str]) -> None:
        """`calls` are the run's final tool calls; `canned` maps a tool name to its canned result."""
        super().__init__()
        self.run_id = run_id
        self.calls = calls
        self.canned = canned

    def compose(self) -> ComposeResult:
        with Vertical(id="tool-results") as dialog:
            count = len(self.calls)
            dialog.border_title = Content(f"Answer {count} tool call{'s' if count != 1 else ''} of run {self.run_id}")
            with VerticalScroll(id="tool-results-calls"):
                # Boxes are found by position: a call id is the provider's and need not be a valid DOM id.
                for call in self.calls:
                    name = call.get("name") or ""
                    with Vertical(classes="tool-call"):
                        yield Static(
                            Content.assemble((name or "?", "bold"), ("  " + str(call.get("id")), "dim")),
                            classes="tool-call-title",
                        )
                        yield Static(Content(pretty_arguments(call)), classes="tool-call-arguments")
                        box = TextArea(self.canned.get(name, ""), soft_wrap=True, classes="tool-result")
                        box.border_title = "result"
                        yield box
            yield Static("", id="tool-results-problem")
            with Horizontal(classes="tool-results-buttons"):
                yield Button("Send", id="send", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(".tool-result", TextArea).focus()

    @property
    def result_boxes(self) -> list[TextArea]:
        return list(self.query(".tool-result").results(TextArea))

    def action_send(self) -> None:
        boxes = self.result_boxes
        if len(boxes) != len(self.calls):  # a key that came before the boxes were composed
            return
        results: dict[str, str] = {}
        for call, box in zip(self.calls, boxes):
            if not box.text.strip():
                problem = self.query_one("#tool-results-problem", Static)
                name, call_id = call.get("name"), call.get("id")
                problem.update(Content(f"Every call needs a result: {name} ({call_id}) has none"))
                problem.display = True
                box.focus()
                box.scroll_visible()
                return
            results[str(call["id"])] = box.text
        self.dismiss(results)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
