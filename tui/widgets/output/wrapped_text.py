"""Append-only plain text that wraps at the widget's width.

`Log` is the fastest text widget but never wraps; `TextArea` wraps but slows
down as the text grows. This one keeps logical lines plus their wrapped rows and
only re-wraps the last row when text is appended, so a write costs
O(appended text) however long the text already is. Partial lines show at once.
A width change re-wraps everything once.
"""

from __future__ import annotations

import re

from rich.segment import Segment
from textual._wrap import compute_wrap_offsets
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

# Terminal control characters in model output must not reach the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TAB_SIZE = 4


def _clean(text: str) -> str:
    return _CONTROL.sub("\ufffd", text.replace("\r\n", "\n").replace("\t", " " * _TAB_SIZE))


def _clean_lines(text: str) -> list[str]:
    """`_clean(text).split("\n")`, without scanning the lines that need nothing: the
    wire view is fed a thousand frames a second per stream, nearly all printable.
    (A line `isprintable()` refuses — a control character, a tab, a CR, also some
    harmless format characters — goes through `_clean`.)"""
    if text.isprintable():
        return [text]
    pieces = text.split("\n")
    last = len(pieces) - 1
    return [
        piece if piece.isprintable()
        # A CR before the newline this piece ended at is a CRLF line end: dropped, as `_clean` does.
        else _clean(piece[:-1] if index < last and piece.endswith("\r") else piece)
        for index, piece in enumerate(pieces)
    ]


class WrappedText(ScrollView, can_focus=True):
    """Plain text view: `write(text)` appends (newlines split lines), wraps long lines."""

    def __init__(self, *, auto_scroll: bool = True, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.auto_scroll = auto_scroll
        self._lines: list[str] = [""]  # logical lines; the last one may still be growing
        self._rows: list[str] = []  # wrapped rows at `_wrap_width`
        self._tail_row = 0  # index in `_rows` of the last row of the last logical line
        self._last_row_offset = 0  # where that row starts inside the last logical line
        self._wrap_width = 0
        self._held: list[str] | None = None  # writes kept while held (`hold`)

    @property
    def text(self) -> str:
        return "\n".join(self._lines) + "".join(self._held or ())

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def hold(self) -> None:
        """Until `release`, `write` only keeps the text: for a view not shown. Six compare
        columns fed their hidden plain and wire views thousands of lines a second, and
        splitting, wrapping and refreshing them was a sixth of the UI thread's CPU
        (bench/tui_frame_cost.py --spy), all for text no one saw."""
        if self._held is None:
            self._held = []

    def expect_width(self, width: int) -> None:
        """Wrap for `width` columns now if no layout has given this view a width yet: shown
        for the first time, it then draws its newest lines in its first frame. (Wrapped on
        its first Resize instead, after that frame, the wire view's first ctrl+n drew a
        blank pane and the text one frame later: bench/tui_responsiveness.py.) A layout that
        gives another width re-wraps as before (`on_resize`)."""
        if not self._wrap_width and width > 0:
            self._wrap_width = width
            self._rewrap_all()

    def release(self) -> None:
        """Write what came while held (call before the view is shown), and write as it comes."""
        held, self._held = self._held, None
        if held:
            self.write("".join(held))

    def clear(self) -> None:
        if self._held is not None:
            self._held = []
        self._lines = [""]
        self._rows = []
        self._tail_row = 0
        self._last_row_offset = 0
        self.virtual_size = Size(self._wrap_width, 0)
        self.refresh()

    def write(self, text: str) -> None:
        if not text:
            return
        if self._held is not None:
            self._held.append(text)
            return
        follow = self.auto_scroll and self.is_vertical_scroll_end
        pieces = _clean_lines(text)
        lines = self._lines
        lines[-1] += pieces[0]
        self._rewrap_last_line()
        for piece in pieces[1:]:
            lines.append(piece)
            self._tail_row = len(self._rows)
            self._last_row_offset = 0
            self._rewrap_last_line()
        self.virtual_size = Size(self._wrap_width, len(self._rows))
        self.refresh()
        if follow:
            # Forced: before this view's first layout it has no scrollbar, and Textual
            # refuses an unforced scroll (its first frame would show the first lines).
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def _wrap(self, line: str) -> list[tuple[int, int]]:
        """(start, end) offsets of the rows `line` wraps into."""
        if not line:
            return [(0, 0)]
        offsets = compute_wrap_offsets(line, self._wrap_width, _TAB_SIZE) if self._wrap_width else []
        bounds = [0, *offsets, len(line)]
        return list(zip(bounds, bounds[1:]))

    def _rewrap_last_line(self) -> None:
        """Re-wrap the last logical line from its last row on: earlier rows cannot change
        (greedy wrapping only looks forward), so the cost is one row plus the new text."""
        if not self._wrap_width:
            return
        line = self._lines[-1]
        start = self._last_row_offset
        del self._rows[self._tail_row :]
        spans = self._wrap(line[start:])
        self._rows.extend(line[start + a : start + b] for a, b in spans)
        self._tail_row = len(self._rows) - 1
        self._last_row_offset = start + spans[-1][0]

    def _rewrap_all(self) -> None:
        self._rows = []
        for index, line in enumerate(self._lines):
            spans = self._wrap(line)
            self._rows.extend(line[a:b] for a, b in spans)
            if index == len(self._lines) - 1:
                self._last_row_offset = spans[-1][0]
        self._tail_row = len(self._rows) - 1
        self.virtual_size = Size(self._wrap_width, len(self._rows))

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._wrap_width and width > 0:
            follow = self.is_vertical_scroll_end
            self._wrap_width = width
            self._rewrap_all()
            if follow:  # after the layout has taken the new virtual size
                # Forced: on a view's first showing its scrollbar is not there yet when this
                # runs, and an unforced scroll was refused — the view opened at its first
                # line (the wire view's request headers, not the newest frames).
                self.scroll_end(animate=False, immediate=False, x_axis=False, force=True)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        style = self.rich_style
        width = self.scrollable_content_region.width
        if index >= len(self._rows):
            return Strip.blank(width, style)
        strip = Strip([Segment(self._rows[index], style)])
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)
