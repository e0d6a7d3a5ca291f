"""Whether two answers are the same, and where they differ (a coloured unified diff)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

_LINE_STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def diff_text(lines: list[str]) -> Text:
    text = Text()
    for line in lines:
        style = next((s for prefix, s in _LINE_STYLES if line.startswith(prefix)), "")
        text.append(line + "\n", style=style)
    text.rstrip()
    return text


class DiffView(VerticalScroll, can_focus=True):
    """A verdict line, and the diff under it when the outputs differ."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="diff-verdict", markup=False)
        yield Static("", classes="diff-lines", markup=False)

    def clear(self) -> None:
        self._set(Text("Outputs: waiting for both runs…", style="dim"), Text())
        self.set_class(False, "-differ")

    def show(self, identical: bool, lines: list[str], *, note: str = "") -> None:
        if identical:
            verdict = Text("✓ Outputs identical", style="bold green")
        else:
            verdict = Text("≠ Outputs differ", style="bold yellow")
        if note:
            verdict.append(f"  ({note})", style="dim")
        self._set(verdict, diff_text(lines))
        self.set_class(not identical, "-differ")

    def _set(self, verdict: Text, body: Text) -> None:
        self.query_one(".diff-verdict", Static).update(verdict)
        self.query_one(".diff-lines", Static).update(body)

    @property
    def verdict(self) -> str:
        """The verdict line as plain text (what the user reads)."""
        content = self.query_one(".diff-verdict", Static).content
        return content.plain if isinstance(content, Text) else str(content)
