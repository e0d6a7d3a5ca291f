"""Rendered Markdown for a streaming answer, at a cost per append that does not grow.

Measured here: Textual's `Markdown` widget makes every block (list item, table
cell…) a widget — at 2,000 chunks/s it spent ~10 ms mounting per block and fell
seconds behind — and any widget whose height changes makes Textual re-arrange
every widget on the screen, so even one widget per settled group costs more
per frame as the answer grows (TEXTUAL_NOTES).

So the answer is ONE widget holding lines: Markdown rendered by Rich into
`Strip`s. Settled blocks — every block but the last, once a later one has
started (a finished block cannot change after that) — are rendered once per width
in groups, which keep only their height: their lines are rendered again if
scrolled back to, beyond a small cache. Only the tail — the last block, still
growing — is re-rendered, at most once per frame and not at all while the view is
hidden. The widget's height is a sum, the compositor asks only for the lines on
screen, so an append costs O(last block) at any length; a width change re-renders
every group once. One renderer for settled and live text: a block looks the same
before and after it settles, and a code fence is highlighted while it streams.

The tail's cost still grows with the last block (a long code fence or list is one
block): its re-rendering is paced by what it costs — at most about a fifth of the
time, a few times a second for a block that takes tens of milliseconds — and skipped
while the widget is scrolled out of sight (a compare column off screen); it catches
up when painted again. Rendered lines are kept as segments; a `Strip` is made only
for a line that is painted.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right

from time import perf_counter as clock

from markdown_it import MarkdownIt
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

SETTLE_AT = 1  # live blocks before the older ones settle...
KEEP_LIVE = 1  # ...leaving this many live: the last one, still growing
LOAD_GROUP = 20  # blocks per group when loading a saved answer
GROUPS_CACHED = 32  # settled groups whose rendered lines are kept (a few screens' worth)
# A line's first characters (indent, list number, marker) decide whether a block starts
# on it: once the last line is longer, text without a newline cannot start one.
BLOCK_MARKER_CHARS = 16
TAIL_PACING = 4  # after a tail render taking t, the next waits at least TAIL_PACING × t
# Several widgets (compare columns) re-render their tails in the same layout: past this
# much time in one layout the others wait for the next frame, so keys are not held up.
LAYOUT_TAIL_BUDGET_S = 0.02
LAYOUT_GAP_S = 0.005  # tail renders closer together than this belong to one layout
PAINTED_KEPT = 200  # painted settled rows kept across layouts (a few screenfuls)


class _LayoutShare:
    """Tail rendering time spent in the current layout, across all widgets (one UI thread)."""

    spent = 0.0
    last_end = 0.0


_layout = _LayoutShare()

_parser = MarkdownIt("gfm-like")
Line = list[Segment]  # a rendered line; made into a Strip only when painted


def block_starts(source: str) -> list[int]:
    """Line numbers where the top-level Markdown blocks of `source` start."""
    return [token.map[0] for token in _parser.parse(source) if token.level == 0 and token.map and token.nesting >= 0]


def split_blocks(lines: list[str], starts: list[int]) -> list[str]:
    """The source of each block, from the source's lines and its blocks' first lines."""
    bounds = [0, *starts[1:], len(lines)]
    return ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:])]


def _is_blank(line: list[Segment]) -> bool:
    # A code block's padding rows are spaces too, but on a background: not blank.
    return all(not segment.text.strip() and not (segment.style and segment.style.bgcolor) for segment in line)


class StreamingMarkdown(Widget):
    """`append(text)` while streaming, `load(source)` for a saved answer, `clear()`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._groups: list[list[str]] = []  # settled blocks' sources, in groups
        self._tail_source = ""
        self._width = 0  # heights and lines below are for this width
        # Settled groups keep only their height; their lines are rendered again when
        # scrolled back to (a few groups stay cached). Holding every line of a long
        # answer as Strips made the garbage collector's pauses grow with the answer.
        self._group_ends: list[int] = []  # row after each measured group, cumulative
        self._group_lines: LRUCache[int, list[Line]] = LRUCache(GROUPS_CACHED)
        self._tail_lines: list[Line] = []
        self._tail_stale = False
        self._tail_due = 0.0  # clock() before which the tail is not rendered again
        self._tail_timer: Timer | None = None  # a layout when the tail is due
        # Painted since the tail was last rendered: on screen. (Asking the compositor for
        # this widget's region during a layout rebuilds its map: a third of the CPU.)
        self._tail_seen = False
        self._tail_out_of_sight = False  # stale and not rendered: render_line brings it back
        self._painted: dict[int, Strip] = {}  # styled, cropped lines as drawn since the last change
        self._painted_style: Style | None = None
        self._paint_width = 0
        self._load_generation = 0

    @property
    def source(self) -> str:
        return "".join(block for group in self._groups for block in group) + self._tail_source

    @property
    def settled_count(self) -> int:
        return len(self._groups)

    @property
    def _settled_height(self) -> int:
        return self._group_ends[-1] if self._group_ends else 0

    @property
    def line_count(self) -> int:
        return self._settled_height + len(self._tail_lines)

    # --- content -----------------------------------------------------------------

    def append(self, text: str) -> None:
        tail = self._tail_source
        last_line_length = len(tail) - tail.rfind("\n") - 1
        self._tail_source = tail = tail + text
        if "\n" not in text and last_line_length >= BLOCK_MARKER_CHARS:
            # No block can start: parsing a long tail (~10 ms for 20k characters) per
            # flush would be wasted. Settling waits at most for the next newline.
            self._tail_stale = True
            self.refresh(layout=True)
            return
        starts = block_starts(tail)
        if len(starts) > SETTLE_AT:
            lines = self._tail_source.splitlines(keepends=True)
            cut = starts[-KEEP_LIVE]
            self._groups.append(split_blocks(lines[:cut], starts[:-KEEP_LIVE]))
            self._tail_source = "".join(lines[cut:])
        self._tail_stale = True
        self.refresh(layout=True)  # rendering waits for the layout: none while hidden, one per frame

    def clear(self) -> None:
        self._load_generation += 1
        self._groups, self._tail_source = [], ""
        self._group_ends, self._tail_lines = [], []
        self._group_lines.clear()
        self._painted = {}
        self._tail_stale, self._tail_due = True, 0.0
        self.refresh(layout=True)

    async def load(self, source: str) -> None:
        """Show a whole saved answer as groups of `LOAD_GROUP` blocks, handed to the
        layout a few at a time so the app stays responsive while a long answer renders."""
        self.clear()
        generation = self._load_generation
        starts = await asyncio.to_thread(block_starts, source)  # ~0.4 s for 100k tokens
        blocks = split_blocks(source.splitlines(keepends=True), starts) if starts else []
        for first in range(0, len(blocks) - 1, LOAD_GROUP):
            if generation != self._load_generation:
                return  # cleared again (another run) meanwhile
            self._groups.append(blocks[first : min(first + LOAD_GROUP, len(blocks) - 1)])
            if self._width:  # measured here, between turns of the loop, not all in one layout
                self._measure_new_groups()
            self.refresh(layout=True)
            await asyncio.sleep(0)
        if generation == self._load_generation:
            self._tail_source = blocks[-1] if blocks else source
            self._tail_stale = True
            self.refresh(layout=True)

    # --- rendering ---------------------------------------------------------------

    def _render(self, source: str) -> list[Line]:
        """Rich's lines for `source`, without blank lines at either end."""
        if not source.strip():
            return []
        options = self.app.console_options.update_width(self._width).update(highlight=False)
        markdown = RichMarkdown(source, code_theme="monokai", hyperlinks=False)
        lines = self.app.console.render_lines(markdown, options, pad=False)
        start, end = 0, len(lines)
        while start < end and _is_blank(lines[start]):
            start += 1
        while end > start and _is_blank(lines[end - 1]):
            end -= 1
        return lines[start:end]

    def _lines_of_group(self, index: int) -> list[Line]:
        lines = self._group_lines.get(index)
        if lines is None:
            # Block by block: Rich's own spacing between blocks varies (lists and
            # tables bring extra blank lines); here every block ends with exactly one.
            lines = []
            for block in self._groups[index]:
                lines.extend(self._render(block))
                lines.append([])
            self._group_lines[index] = lines
        return lines

    def _bring_up_to_date(self, width: int) -> None:
        """Render what changed since the last layout: every group after a width change
        (to measure it), else only newly settled groups (once) and the tail (when it grew)."""
        if width != self._width:
            self._width = width
            self._group_ends = []
            self._group_lines.clear()
            self._tail_stale = True
            self._tail_due = 0.0
            self._painted = {}
        unchanged_above = self._settled_height
        settled = len(self._group_ends)
        self._measure_new_groups()
        tail_lines = self._tail_lines
        if self._tail_stale:
            self._render_tail()
        if settled != len(self._group_ends) or tail_lines is not self._tail_lines:
            # Rows of groups settled before cannot have changed: keep the last screenfuls
            # of them as painted (a stream repaints the whole widget every frame).
            keep_from = unchanged_above - PAINTED_KEPT
            self._painted = {y: line for y, line in self._painted.items() if keep_from <= y < unchanged_above}

    def _render_tail(self) -> None:
        if self._tail_lines and not self._tail_seen:
            self._tail_out_of_sight = True
            return
        now = clock()
        if now - _layout.last_end > LAYOUT_GAP_S:  # the first tail of a new layout
            _layout.spent = 0.0
        elif _layout.spent > LAYOUT_TAIL_BUDGET_S:  # others took this frame's share: the next one
            self._tail_due = max(self._tail_due, now + LAYOUT_GAP_S)
        if now < self._tail_due:
            if self._tail_timer is None:
                self._tail_timer = self.set_timer(self._tail_due - now, self._tail_is_due)
            return
        self._tail_lines = self._render(self._tail_source)
        self._tail_stale = self._tail_out_of_sight = self._tail_seen = False
        end = clock()
        self._tail_due = end + (end - now) * TAIL_PACING
        _layout.spent += end - now
        _layout.last_end = end

    def _tail_is_due(self) -> None:
        self._tail_timer = None
        if self._tail_stale:
            self.refresh(layout=True)

    def _measure_new_groups(self) -> None:
        for index in range(len(self._group_ends), len(self._groups)):
            self._group_ends.append(self._settled_height + len(self._lines_of_group(index)))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width > 0:
            self._bring_up_to_date(width)
        return self.line_count

    def render_lines(self, crop: Region) -> list[Strip]:
        self._tail_seen = True
        if self._tail_out_of_sight:  # back in sight: render the tail at the next layout
            self._tail_out_of_sight = False
            self.refresh(layout=True)
        # Once per paint, not per line: `rich_style` walks the ancestors' styles.
        style = self.rich_style
        if style != self._painted_style:
            self._painted, self._painted_style = {}, style
        self._paint_width = self.size.width
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width, style = self._paint_width, self._painted_style
        painted = self._painted.get(y)
        if painted is None:
            settled_height = self._settled_height
            if y < settled_height:
                index = bisect_right(self._group_ends, y)
                start = self._group_ends[index - 1] if index else 0
                line = self._lines_of_group(index)[y - start]
            elif y - settled_height < len(self._tail_lines):
                line = self._tail_lines[y - settled_height]
            else:
                return Strip.blank(width, style)
            painted = self._painted[y] = Strip(line).apply_style(style).crop_extend(0, width, style)
        return painted
