"""Rendered Markdown for a streaming answer, at a cost per append that does not grow.

Textual's `Markdown` makes every block a widget and reflows all of them when the
last one grows (TEXTUAL_NOTES: 20k tokens → 6 fps). So only a short tail stays a
live `Markdown`; once it holds more than `SETTLE_AT` top-level blocks, all but the
last `KEEP_LIVE` move into one `SettledMarkdown` — a single Static rendered by
Rich, never touched again. Textual caches its height per width and re-wraps it
on resize, and off-screen groups are never painted, so appends stay O(tail).
"""

from __future__ import annotations

import asyncio

from markdown_it import MarkdownIt
from rich.markdown import Markdown as RichMarkdown
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static

SETTLE_AT = 24  # live blocks before the older ones settle
KEEP_LIVE = 3  # blocks that stay live after settling (the last one may still grow)
LOAD_GROUP = 20  # blocks per settled group when loading a saved answer

_parser = MarkdownIt("gfm-like")


def block_starts(source: str) -> list[int]:
    """Line numbers where the top-level Markdown blocks of `source` start."""
    return [token.map[0] for token in _parser.parse(source) if token.level == 0 and token.map and token.nesting >= 0]


def split_lines(source: str, line: int) -> tuple[str, str]:
    lines = source.splitlines(keepends=True)
    return "".join(lines[:line]), "".join(lines[line:])


class SettledMarkdown(Static):
    """A finished run of Markdown blocks, rendered by Rich once per width."""

    def __init__(self, source: str) -> None:
        super().__init__(RichMarkdown(source, code_theme="monokai", hyperlinks=False))
        self.source = source


class StreamingMarkdown(Vertical):
    """Settled groups followed by the live tail. All mutations hold one lock, so an
    append, a reset and a load never interleave."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lock = asyncio.Lock()
        self._tail_source = ""
        self._settled: list[str] = []

    def compose(self) -> ComposeResult:
        yield Vertical(classes="settled-groups")
        yield Markdown(classes="live-tail")

    @property
    def source(self) -> str:
        return "".join(self._settled) + self._tail_source

    @property
    def settled_count(self) -> int:
        return len(self._settled)

    @property
    def _groups(self) -> Vertical:
        return self.query_one(".settled-groups", Vertical)

    @property
    def _tail(self) -> Markdown:
        return self.query_one(".live-tail", Markdown)

    async def append(self, text: str) -> None:
        async with self._lock:
            self._tail_source += text
            await self._tail.append(text)
            starts = block_starts(self._tail_source)
            if len(starts) > SETTLE_AT:
                await self._settle(starts[-KEEP_LIVE])

    async def _settle(self, line: int) -> None:
        settled, rest = split_lines(self._tail_source, line)
        self._settled.append(settled)
        self._tail_source = rest
        # A fresh Markdown for the rest: `Markdown.update()` would make the next
        # `append()` re-parse from the last line only and break a growing block.
        fresh = Markdown(classes="live-tail")
        old = self._tail
        with self.app.batch_update():
            await self._groups.mount(SettledMarkdown(settled))
            await self.mount(fresh, after=old)
            await old.remove()
            if rest:
                await fresh.append(rest)

    async def finish(self) -> None:
        """Render the tail once more from its whole source: a code fence streamed
        block by block gets its final highlighting only from a full render."""
        async with self._lock:
            if self._tail_source:
                await self._tail.update(self._tail_source)

    async def reset(self) -> None:
        async with self._lock:
            await self._reset()

    async def _reset(self) -> None:
        self._settled = []
        self._tail_source = ""
        with self.app.batch_update():
            await self._groups.remove_children()
            await self._tail.update("")

    async def load(self, source: str) -> None:
        """Show a whole saved answer: settled groups of `LOAD_GROUP` blocks, the last
        group live (so the same code paths serve a reopened run and a streamed one)."""
        async with self._lock:
            await self._reset()
            starts = await asyncio.to_thread(block_starts, source)
            cuts = starts[LOAD_GROUP::LOAD_GROUP]
            lines = source.splitlines(keepends=True)
            bounds = [0, *cuts]
            groups = ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:])]
            self._settled = groups
            self._tail_source = "".join(lines[bounds[-1] :])
            with self.app.batch_update():
                if groups:
                    await self._groups.mount_all(SettledMarkdown(group) for group in groups)
                await self._tail.update(self._tail_source)
