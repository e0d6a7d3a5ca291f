"""Tool-call cards and the error/cancelled box shown in place under the output."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.highlight import highlight
from textual.widgets import Static


class ToolCallCard(Vertical):
    """One tool call: arguments grow live as raw text, then show as pretty JSON
    (or, when they are not valid JSON, marked invalid with the raw text kept)."""

    def __init__(self, index: int) -> None:
        super().__init__(classes="tool-card")
        self.index = index
        self.call_id: str | None = None
        self.tool_name: str | None = None
        self.arguments_raw = ""
        self.valid: bool | None = None  # None while streaming

    def compose(self) -> ComposeResult:
        yield Static(self._title(), classes="tool-title")
        yield Static("", classes="tool-args", markup=False)

    def _title(self) -> Content:
        state = {None: "streaming…", True: "complete", False: "INVALID JSON"}[self.valid]
        return Content.assemble(
            ("tool call ", "dim"),
            (self.tool_name or "?", "bold"),
            (f"  #{self.index}", "dim"),
            (f"  {self.call_id}" if self.call_id else "", "dim"),
            ("  · ", "dim"),
            (state, "bold red" if self.valid is False else "dim"),
        )

    def grow(self, call_id: str | None, name: str | None, arguments_delta: str) -> None:
        """Take a streamed delta (not drawn until `refresh_card`)."""
        self.call_id = self.call_id or call_id
        self.tool_name = self.tool_name or name
        self.arguments_raw += arguments_delta

    def refresh_card(self) -> None:
        if not self.is_mounted:
            return
        self.query_one(".tool-title", Static).update(self._title())
        self.query_one(".tool-args", Static).update(self._arguments())

    def complete(self, call: dict[str, Any]) -> None:
        """The assembled call from the final (or partial) response decides validity."""
        self.call_id = call.get("id") or self.call_id
        self.tool_name = call.get("name") or self.tool_name
        self.arguments_raw = call.get("arguments_raw", self.arguments_raw)
        self.valid = bool(call.get("arguments_valid", False))
        self.set_class(not self.valid, "-invalid")
        self.refresh_card()

    def _arguments(self) -> Content:
        if self.valid:
            try:
                pretty = json.dumps(json.loads(self.arguments_raw or "{}"), indent=2, ensure_ascii=False)
            except ValueError:  # the provider said valid, the text says otherwise: show it raw
                return Content(self.arguments_raw)
            return highlight(pretty, language="json")
        return Content(self.arguments_raw)


def error_box_content(
    *, status: str, error: str | None, error_type: str | None, http_status: int | None, retry_after: str | None
) -> Content:
    """The one-line-per-fact text of the box shown under a failed or cancelled run's output."""
    if status == "cancelled":
        return Content.assemble(("■ cancelled", "bold"), (" — partial output kept above", "dim"))
    facts = [error_type or "error"]
    if http_status is not None:
        facts.append(f"HTTP {http_status}")
    if retry_after:
        facts.append(f"retry after {retry_after} s")
    return Content.assemble(("✗ " + " · ".join(facts), "bold"), "\n", error or "unknown error")


def refusal_box_content(refusal: str) -> Content:
    """The box for a model's refusal (OpenAI `refusal`): its words, marked as a refusal."""
    return Content.assemble(("⊘ refused by the model", "bold"), "\n", refusal)


class RunOutcomeBox(Static):
    """Error, cancellation or refusal, styled by the `-error` / `-cancelled` / `-refused` class."""

    def __init__(self, status: str, content: Content) -> None:
        super().__init__(content, classes=f"outcome -{status}")
