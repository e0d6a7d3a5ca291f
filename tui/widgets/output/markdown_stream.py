"""Rendered Markdown for a streaming answer, at a cost per append that does not grow.

Measured here: Textual's `Markdown` widget makes every block (list item, table
cell…) a widget — at 2,000 chunks/s it spent ~10 ms mounting per block and fell
seconds behind — and any widget whose height changes makes Textual re-arrange
every widget on the screen, so even one widget per settled group costs more
per frame as the answer grows (TEXTUAL_NOTES).

So the answer is ONE widget holding lines: Markdown rendered by Rich into
`Strip`s. The settled part is a list of groups of top-level blocks, each
rendered once per width; only the tail — the last few blocks, the only ones that
can still change — is re-rendered on an append. Once the tail holds more than
`SETTLE_AT` blocks, all but the last `KEEP_LIVE` are rendered one last time and
moved to the settled lines. The compositor asks only for the lines on screen,
and the widget's height is a list length, so an append costs O(tail) at any
length. A width change re-renders every group once. One renderer for settled
and live text: a block looks the same before and after it settles, and a code
fence is highlighted while it streams.
"""

from __future__ import annotations

import asyncio

from markdown_it import MarkdownIt
from rich.markdown import Markdown as RichMarkdown
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

SETTLE_AT = 4  # live blocks before the older ones settle
KEEP_LIVE = 2  # blocks that stay live after settling (the last one may still grow)
LOAD_GROUP = 20  # blocks per group when loading a saved answer

_parser = MarkdownIt("gfm-like")


def block_starts(source: str) -> list[int]:
    """Line numbers where the top-level Markdown blocks of `source` start."""
    return [token.map[0] for token in _parser.parse(source) if token.level == 0 and token.map and token.nesting >= 0]


def split_lines(source: str, line: int) -> tuple[str, str]:
    lines = source.splitlines(keepends=True)
    return "".join(lines[:line]), "".join(lines[line:])


class StreamingMarkdown(Widget):
    """`append(text)` while streaming, `load(source)` for a saved answer, `clear()`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._groups: list[str] = []  # settled sources
        self._tail_source = ""
        self._width = 0  # lines below are rendered at this width
        self._settled_lines: list[Strip] = []
        self._tail_lines: list[Strip] = []
        self._rendered_groups = 0  # groups[:n] are in _settled_lines
        self._tail_stale = False
        self._painted: dict[int, Strip] = {}  # styled, cropped lines as drawn, by row
        self._painted_style: Style | None = None
        self._load_generation = 0

    @property
    def source(self) -> str:
        return "".join(self._groups) + self._tail_source

    @property
    def settled_count(self) -> int:
        return len(self._groups)

    @property
    def line_count(self) -> int:
        return len(self._settled_lines) + len(self._tail_lines)

    # --- content -----------------------------------------------------------------

    def append(self, text: str) -> None:
        self._tail_source += text
        starts = block_starts(self._tail_source)
        if len(starts) > SETTLE_AT:
            settled, self._tail_source = split_lines(self._tail_source, starts[-KEEP_LIVE])
            self._groups.append(settled)
        self._tail_stale = True
        self.refresh(layout=True)  # rendering waits for the layout: none while hidden, one per frame

    def clear(self) -> None:
        self._load_generation += 1
        self._groups, self._tail_source = [], ""
        self._settled_lines, self._tail_lines = [], []
        self._rendered_groups = 0
        self._painted = {}
        self.refresh(layout=True)

    async def load(self, source: str) -> None:
        """Show a whole saved answer as groups of `LOAD_GROUP` blocks, handed to the
        layout a few at a time so the app stays responsive while a long answer renders."""
        self.clear()
        generation = self._load_generation
        starts = await asyncio.to_thread(block_starts, source)  # ~0.4 s for 100k tokens
        lines = source.splitlines(keepends=True)
        bounds = [0, *starts[LOAD_GROUP::LOAD_GROUP]]
        for start, end in zip(bounds, bounds[1:]):
            if generation != self._load_generation:
                return  # cleared again (another run) meanwhile
            self._groups.append("".join(lines[start:end]))
            self.refresh(layout=True)
            await asyncio.sleep(0)
        if generation == self._load_generation:
            self._tail_source = "".join(lines[bounds[-1] :])
            self._tail_stale = True
            self.refresh(layout=True)

    # --- rendering ---------------------------------------------------------------

    def _render(self, source: str) -> list[Strip]:
        if not source.strip():
            return []
        options = self.app.console_options.update_width(self._width).update(highlight=False)
        markdown = RichMarkdown(source, code_theme="monokai", hyperlinks=False)
        return [Strip(line) for line in self.app.console.render_lines(markdown, options, pad=False)]

    def _bring_up_to_date(self, width: int) -> None:
        """Render what changed since the last layout: every group after a width change,
        else only newly settled groups (once) and the tail (when it grew)."""
        if width != self._width:
            self._width = width
            self._settled_lines, self._rendered_groups = [], 0
            self._tail_stale = True
            self._painted = {}
        first_changed_row = len(self._settled_lines)
        for group in self._groups[self._rendered_groups :]:
            # Rich puts a blank line between blocks but none after the last one.
            self._settled_lines.extend([*self._render(group), Strip([])])
        self._rendered_groups = len(self._groups)
        if self._tail_stale:
            self._tail_lines = self._render(self._tail_source)
            self._tail_stale = False
        for row in [row for row in self._painted if row >= first_changed_row]:
            del self._painted[row]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width > 0:
            self._bring_up_to_date(width)
        return self.line_count

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.rich_style
        if style != self._painted_style:
            self._painted, self._painted_style = {}, style
        painted = self._painted.get(y)
        if painted is None:
            settled = self._settled_lines
            if y < len(settled):
                line = settled[y]
            elif y - len(settled) < len(self._tail_lines):
                line = self._tail_lines[y - len(settled)]
            else:
                return Strip.blank(width, style)
            painted = self._painted[y] = line.apply_style(style).crop_extend(0, width, style)
        return painted
