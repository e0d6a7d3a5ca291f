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

A settled group's height starts as an estimate from its source (lines and width), and
is made exact — the group rendered — when it is painted, when it is among the last
groups (what a view following the stream shows), or, once the stream has ended, a few
milliseconds a layout in the background. Rendering every settled group once as it
settled cost six fast compare columns 0.5–0.9 s per layout (bench/tui_responsiveness.py):
keys waited that long. Now the cost follows what is on screen, not how fast the text
arrives; scrolling back to a group not yet rendered corrects the heights below it.
Layouts that wait for the budget or the tail's pace come at a flush tick (flush_clock),
never from a timer of their own.
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
from textual.widget import Widget

from tui.widgets.output.flush_clock import flush_clock
from tui.widgets.output.growing import LaidOutOnce, paints_plainly
from tui.widgets.output.render_budget import budget_left as _budget_left
from tui.widgets.output.render_budget import charge as _charge
from tui.widgets.output.render_budget import refill_wait as _refill_wait

SETTLE_AT = 1  # live blocks before the older ones settle...
KEEP_LIVE = 1  # ...leaving this many live: the last one, still growing
LOAD_GROUP = 20  # blocks per group at most
# ...and characters: a group is rendered whole, so its size bounds what one render costs.
# A fast stream whose flush came late settled 8-40 KB at once as one group, and painting
# it took 0.2-2 s of the UI thread on a loaded machine (bench/tui_responsiveness.py). The
# group rendered last in a layout overruns the render budget's burst: smaller groups, a
# shorter overrun for the key that waits behind the layout.
GROUP_CHARS = 1_000
GROUPS_CACHED = 32  # settled groups whose rendered lines are kept (a few screens' worth)
# A line's first characters (indent, list number, marker) decide whether a block starts
# on it: once the last line is longer, text without a newline cannot start one.
BLOCK_MARKER_CHARS = 16
TAIL_PACING = 4  # after a tail render taking t, the next waits at least TAIL_PACING × t
PAINTED_KEPT = 200  # painted settled rows kept across layouts (a few screenfuls)


# Block structure only: inline parsing and linkify were 4/5 of a parse, and decide no block start.
_parser = MarkdownIt("gfm-like").disable(["inline", "linkify", "text_join"], ignoreInvalid=True)
Line = list[Segment]  # a rendered line; made into a Strip only when painted


def block_starts(source: str) -> list[int]:
    """Line numbers where the top-level Markdown blocks of `source` start."""
    return [token.map[0] for token in _parser.parse(source) if token.level == 0 and token.map and token.nesting >= 0]


class _RichMarkdown(RichMarkdown):
    """Rich's Markdown with one shared parser: Rich builds a MarkdownIt for every
    instance (~3 ms), and here there is one instance per block rendered."""

    _shared_parser = MarkdownIt().enable("strikethrough").enable("table")  # as rich.markdown.Markdown builds it

    def __init__(self, markup: str, code_theme: str = "monokai") -> None:
        self.markup = markup
        self.parsed = self._shared_parser.parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = False
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme


def estimate_rows(blocks: list[str], width: int) -> int:
    """A group's rendered height guessed from its source: each non-blank line wrapped at
    `width`, one blank line after each block (as `_lines_of_group` lays them out)."""
    rows = 0
    for block in blocks:
        for line in block.splitlines():
            if line.strip():
                rows += max(1, -(-len(line) // max(width, 1)))
        rows += 1
    return rows


def split_blocks(lines: list[str], starts: list[int]) -> list[str]:
    """The source of each block, from the source's lines and its blocks' first lines."""
    bounds = [0, *starts[1:], len(lines)]
    return ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:])]


def group_blocks(blocks: list[str]) -> list[list[str]]:
    """`blocks` in order, in groups of at most LOAD_GROUP blocks and, past its first
    block, GROUP_CHARS characters."""
    groups: list[list[str]] = []
    group: list[str] = []
    size = 0
    for block in blocks:
        if group and (len(group) >= LOAD_GROUP or size + len(block) > GROUP_CHARS):
            groups.append(group)
            group, size = [], 0
        group.append(block)
        size += len(block)
    if group:
        groups.append(group)
    return groups


def _is_blank(line: list[Segment]) -> bool:
    # A code block's padding rows are spaces too, but on a background: not blank.
    return all(not segment.text.strip() and not (segment.style and segment.style.bgcolor) for segment in line)


class StreamingMarkdown(LaidOutOnce, Widget):
    """`append(text)` while streaming, `load(source)` for a saved answer, `clear()`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._groups: list[list[str]] = []  # settled blocks' sources, in groups
        self._tail_source = ""
        self._width = 0  # heights and lines below are for this width
        # Settled groups keep only their height; their lines are rendered again when
        # scrolled back to (a few groups stay cached). Holding every line of a long
        # answer as Strips made the garbage collector's pauses grow with the answer.
        self._group_ends: list[int] = []  # row after each group, cumulative (estimated or exact)
        self._exact: list[bool] = []  # each group's height is its rendered one
        self._estimated = 0  # groups whose height is still an estimate
        self._first_changed = 0  # rows from here on moved or changed since the last paint filter
        self._layout_due: float | None = None  # clock() from which a flush tick lays out again
        self._seen = False  # painted since the last layout
        self._wanted: set[int] = set()  # groups painted as their source since the last layout
        self._group_sources: LRUCache[int, list[Line]] = LRUCache(GROUPS_CACHED)
        self._group_lines: LRUCache[int, list[Line]] = LRUCache(GROUPS_CACHED)
        self._tail_lines: list[Line] = []
        self._tail_stale = False
        self._tail_due = 0.0  # clock() before which the tail is not rendered again
        # Painted since the tail was last rendered: on screen. (Asking the compositor for
        # this widget's region during a layout rebuilds its map: a third of the CPU.)
        self._tail_seen = False
        self._tail_out_of_sight = False  # stale and not rendered: render_line brings it back
        self._painted: dict[int, Strip] = {}  # styled, cropped lines as drawn since the last change
        self._painted_style: Style | None = None
        self._paint_width = 0
        self._load_generation = 0
        # Streaming into (append since the last clear/load, no `end_stream` yet): settled
        # groups render within the budget. Else they render when painted, as a saved answer.
        # (A time since the last append said "not streaming" whenever the UI thread was late,
        # and then every column painted its whole backlog at once, unbudgeted.)
        self._live = False
        self._repaint_due = False  # a repaint is queued for after the layout

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
        self._live = True
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
            self._groups.extend(group_blocks(split_blocks(lines[:cut], starts[:-KEEP_LIVE])))
            self._tail_source = "".join(lines[cut:])
        self._tail_stale = True
        self.refresh(layout=True)  # rendering waits for the layout: none while hidden, one per frame

    def end_stream(self) -> None:
        """The run is over: groups not rendered yet render when painted."""
        self._live = False
        self.refresh()

    def clear(self) -> None:
        self._load_generation += 1
        self._live = False
        self._wanted = set()
        self._groups, self._tail_source = [], ""
        self._group_ends, self._tail_lines = [], []
        self._exact, self._estimated = [], 0
        self._group_lines.clear()
        self._group_sources.clear()
        self._painted = {}
        self._tail_stale, self._tail_due = True, 0.0
        self.refresh(layout=True)

    async def load(self, source: str) -> None:
        """Show a whole saved answer in groups (`group_blocks`), handed to the layout a
        few at a time so the app stays responsive while a long answer renders."""
        self.clear()
        generation = self._load_generation
        starts = await asyncio.to_thread(block_starts, source)  # ~0.4 s for 100k tokens
        blocks = split_blocks(source.splitlines(keepends=True), starts) if starts else []
        for group in group_blocks(blocks[:-1]):
            if generation != self._load_generation:
                return  # cleared again (another run) meanwhile
            self._groups.append(group)
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
        markdown = _RichMarkdown(source, code_theme="monokai")
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

    def _source_lines(self, index: int) -> list[Line]:
        """Group `index` as its Markdown source, laid out as `estimate_rows` counts it."""
        lines = self._group_sources.get(index)
        if lines is None:
            width = max(self._width, 1)
            lines = []
            for block in self._groups[index]:
                for text in block.splitlines():
                    if text.strip():
                        lines.extend([Segment(text[at : at + width])] for at in range(0, len(text), width))
                lines.append([])
            self._group_sources[index] = lines
        return lines

    def _bring_up_to_date(self, width: int, visible_rows: int) -> None:
        """Account for what changed since the last layout: re-render the tail if it grew,
        estimate newly settled groups, then render the last `visible_rows` worth (what a
        view following the stream shows) and, in the background, the rest — all within
        the layout's rendering budget, shared by every widget of this kind."""
        if width != self._width:
            self._width = width
            self._group_ends, self._exact, self._estimated = [], [], 0
            self._group_lines.clear()
            self._group_sources.clear()
            self._tail_stale = True
            self._tail_due = 0.0
            self._painted = {}
        self._first_changed = self._settled_height
        self._measure_new_groups()
        tail_lines = self._tail_lines
        if self._tail_stale:
            self._render_tail()
        seen, self._seen = self._seen, False
        wanted, self._wanted = sorted(self._wanted, reverse=True), set()
        refused = False  # a render this layout wanted waits for the budget
        # Groups painted as their source (scrolled back to) are rendered whether or not a
        # paint came since the last layout: their source stays painted and cached, so a
        # paint asks for them once only. Dropped by a layout that came without a paint (the
        # next one of a refused render, another widget's), they stayed source for good.
        for at, index in enumerate(wanted):
            if index < len(self._exact) and not self._make_exact(index, during_layout=True):
                self._wanted.update(wanted[at:])  # they wait here for the budget
                refused = True
                break
        if seen:  # not painted since the last layout: hidden or scrolled away, render no more
            rows, index = len(self._tail_lines), len(self._groups) - 1
            while index >= 0 and rows < visible_rows:
                if not self._make_exact(index, during_layout=True):
                    refused = True
                    break
                rows += self._height_of(index)
                index -= 1
            # The background (the latest first): only once nothing streams in. While it does,
            # groups out of sight keep their estimated heights; rendering them as they settled
            # took a sixth of every compare layout's CPU with six fast columns, which keys
            # waited behind (bench/tui_responsiveness.py); a group is rendered once seen.
            while not self._live and index >= 0 and not refused:
                refused = not self._make_exact(index, during_layout=True)
                index -= 1
        if refused:  # lay out again once the budget has refilled
            self._lay_out_when_budget()
        if self._first_changed != self._settled_height or tail_lines is not self._tail_lines:
            # Rows above the first change cannot have changed: keep the last screenfuls
            # of them as painted (a stream repaints the whole widget every frame).
            keep_from = self._first_changed - PAINTED_KEPT
            self._painted = {y: line for y, line in self._painted.items() if keep_from <= y < self._first_changed}

    def _height_of(self, index: int) -> int:
        return self._group_ends[index] - (self._group_ends[index - 1] if index else 0)

    def _make_exact(self, index: int, budgeted: bool = True, during_layout: bool = False) -> bool:
        """Render group `index` if its height is an estimate and the layout's budget
        allows, and move the rows below it to fit. False once the budget is spent.
        `during_layout`: repaint once the layout is over (see `_repaint_after_layout`)."""
        if self._exact[index]:
            return True
        started = clock()
        if not _budget_left(started) and budgeted:
            return False
        self._exact[index] = True
        self._estimated -= 1
        delta = len(self._lines_of_group(index)) - self._height_of(index)
        _charge(started)
        ends = self._group_ends
        start = ends[index - 1] if index else 0
        if delta:
            for later in range(index, len(ends)):
                ends[later] += delta
            self._first_changed = min(self._first_changed, start)
        # Its rows were painted as source: paint them again (and all below, if they moved).
        end = ends[index] if not delta else None
        self._painted = {y: line for y, line in self._painted.items() if y < start or (end is not None and y >= end)}
        if during_layout:
            self._repaint_after_layout()
        else:
            self.refresh()
        return True

    def _repaint_after_layout(self) -> None:
        # `refresh()` looks up this widget's region; in the middle of a layout that makes
        # the compositor arrange the whole screen again (profiled: 9% of the UI thread with
        # six compare columns). Once, after the layout, the lookup is free.
        if not self._repaint_due:
            self._repaint_due = True
            self.call_later(self._repaint)

    def _repaint(self) -> None:
        self._repaint_due = False
        self.refresh()

    def _lay_out_when_budget(self) -> None:
        """A layout to render more in, at a flush tick once the budget has refilled."""
        self._lay_out_at(clock() + (0.0 if _budget_left(clock()) else _refill_wait()))

    def _lay_out_at(self, when: float) -> None:
        """A layout at the first flush tick from `when` (a clock() reading) on. On the
        tick, not a timer of its own: with six compare columns, each widget's own timers
        made layouts between the ticks — every one a layout and a paint of the whole
        screen — and more than half the frames drawn were those (flush_clock.py)."""
        self._layout_due = when if self._layout_due is None else min(self._layout_due, when)
        flush_clock(self.app).want(self)

    async def _flush(self) -> None:
        """The flush clock's tick: lay out if a render waited for it, else wait on."""
        due = self._layout_due
        if due is None:
            return
        if clock() < due:
            flush_clock(self.app).want(self)
            return
        self._layout_due = None
        if self._estimated or self._tail_stale:
            self.refresh(layout=True)

    def _render_tail(self) -> None:
        if self._tail_lines and not self._tail_seen:
            self._tail_out_of_sight = True
            return
        now = clock()
        if not _budget_left(now):  # rendering had its share: once the budget has refilled
            self._tail_due = max(self._tail_due, now + _refill_wait())
        if now < self._tail_due:
            self._lay_out_at(self._tail_due)
            return
        self._tail_lines = self._render(self._tail_source)
        self._tail_stale = self._tail_out_of_sight = self._tail_seen = False
        end = _charge(now)
        self._tail_due = end + (end - now) * TAIL_PACING

    def _measure_new_groups(self) -> None:
        """Estimated heights for the groups settled since the last layout."""
        for index in range(len(self._group_ends), len(self._groups)):
            self._group_ends.append(self._settled_height + estimate_rows(self._groups[index], self._width))
            self._exact.append(False)
            self._estimated += 1

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width > 0:
            self._bring_up_to_date(width, viewport.height)
        return self.line_count

    def render_lines(self, crop: Region) -> list[Strip]:
        self._tail_seen = self._seen = True
        if self._tail_out_of_sight:  # back in sight: render the tail at the next layout
            self._tail_out_of_sight = False
            self.refresh(layout=True)
        # Once per paint, not per line: `rich_style` walks the ancestors' styles.
        style = self.rich_style
        if style != self._painted_style:
            self._painted, self._painted_style = {}, style
        self._paint_width = width = self.size.width
        if any(self.styles.padding) or not paints_plainly(self):
            return super().render_lines(crop)
        # Its lines are styled and cut to width already (`render_line`): only the app's line
        # filters are left to apply. Through Textual's per-line styling, which a stream's
        # new size re-ran over every line on screen at each frame, a compare column's
        # answer cost ~0.6-0.9 ms a frame (bench/tui_frame_cost.py).
        background = self.background_colors[1]
        filters = self.get_line_filters()
        strips = []
        for y in crop.line_range:
            strip = self.render_line(y)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            strips.append(strip)
        x1, x2 = crop.column_span
        return strips if (x1, x2) == (0, width) else [strip.crop(x1, x2) for strip in strips]

    def render_line(self, y: int) -> Strip:
        width, style = self._paint_width, self._painted_style
        painted = self._painted.get(y)
        if painted is None:
            settled_height = self._settled_height
            if y < settled_height:
                index = bisect_right(self._group_ends, y)
                start = self._group_ends[index - 1] if index else 0
                if not self._exact[index] and not self._live:
                    # Nothing streaming into it (a saved answer, a finished one): render what
                    # is painted now, as before; only a live stream waits for the budget.
                    self._make_exact(index, budgeted=False)
                    if self._group_ends[index] - start != len(self._source_lines(index)):
                        self.refresh(layout=True)  # the rows below moved
                lines = self._lines_of_group(index) if self._exact[index] else None
                if lines is not None:
                    line = lines[y - start] if y - start < len(lines) else []
                else:  # not rendered yet (the layout's budget was spent): its source until then
                    if not self._wanted:
                        self._lay_out_when_budget()
                    self._wanted.add(index)
                    line = self._source_lines(index)[y - start]
            elif y - settled_height < len(self._tail_lines):
                line = self._tail_lines[y - settled_height]
            else:
                return Strip.blank(width, style)
            painted = self._painted[y] = Strip(line).apply_style(style).crop_extend(0, width, style)
        return painted
