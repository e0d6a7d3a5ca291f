"""Whether two answers are the same, and where they differ (a coloured unified diff)."""

from __future__ import annotations

import difflib
import re

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


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
MAX_DIFF_TOKENS = 20_000  # SequenceMatcher is quadratic at worst: past this, the line diff


def word_diff(old: str, new: str) -> Text | None:
    """The two texts word by word: common words plain, words only in `old` red and struck
    through, words only in `new` green — one changed word in a long line stands out, where
    a line diff repeats the whole line twice. None when the texts are too long for it."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    if len(a) + len(b) > MAX_DIFF_TOKENS:
        return None
    text = Text()
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            text.append("".join(a[a1:a2]))
            continue
        if a2 > a1:
            text.append("".join(a[a1:a2]), style="red strike")
        if b2 > b1:
            text.append("".join(b[b1:b2]), style="green")
    return text


class DiffView(VerticalScroll, can_focus=True):
    """A verdict line, and the diff under it when the outputs differ."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="diff-verdict", markup=False)
        yield Static("", classes="diff-lines", markup=False)

    def clear(self) -> None:
        self._set(Text("Outputs: waiting for both runs…", style="dim"), Text())
        self.set_class(False, "-differ")

    def show(
        self, identical: bool, lines: list[str], *, note: str = "", texts: tuple[str, str] | None = None
    ) -> None:
        """`texts` (the two answers): shown as a word-level diff when only the text differs."""
        if identical:
            verdict = Text("✓ Outputs identical", style="bold green")
        else:
            verdict = Text("≠ Outputs differ", style="bold yellow")
        body = diff_text(lines)
        words = word_diff(*texts) if texts is not None and not identical and texts[0] != texts[1] else None
        if words is not None and not any(line.startswith(("+[tool call]", "-[tool call]")) for line in lines):
            verdict.append("  word by word: ", style="dim")
            verdict.append("stream only", style="red strike")
            verdict.append(" · ", style="dim")
            verdict.append("non-stream only", style="green")
            body = words
        if note:
            verdict.append(f"  ({note})", style="dim")
        self._set(verdict, body)
        self.set_class(not identical, "-differ")

    def _set(self, verdict: Text, body: Text) -> None:
        self.query_one(".diff-verdict", Static).update(verdict)
        self.query_one(".diff-lines", Static).update(body)

    @property
    def verdict(self) -> str:
        """The verdict line as plain text (what the user reads)."""
        content = self.query_one(".diff-verdict", Static).content
        return content.plain if isinstance(content, Text) else str(content)
