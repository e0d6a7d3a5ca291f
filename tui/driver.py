"""The terminal driver: Textual's, with Esc delivered when its wait is over, not up to 0.1 s later.

A lone ESC byte may be the Esc key or the start of an escape sequence (an arrow, F1), so
the key parser waits ESCDELAY for more bytes before it calls it Esc. Textual's input
thread only looks at that wait when `select` returns, and `select` waits up to 0.1 s
for the next bytes: with Textual's ESCDELAY of 0.1 s, Esc reached the app 0.1-0.2 s
after it was pressed (bench/tui_responsiveness.py: Esc back to the comparison waited
~105 ms before the app saw the key, more than the frame it drew). Here the input
thread wakes when the parser's wait ends, and the wait is ESCAPE_DELAY_S unless the
user set ESCDELAY: a terminal writes a key's whole escape sequence at once, so the
rest of a sequence is already there or a few ms behind (tmux waits 10 ms by default,
neovim 50 ms).
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual import constants
from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

ESCAPE_DELAY_S = 0.025
_IDLE_WAIT_S = 0.1  # Textual's own select timeout: how often the thread looks at its exit flag


def use_quick_escape() -> None:
    """ESCDELAY's default for this process (the user's ESCDELAY, if set, stands)."""
    if "ESCDELAY" not in os.environ:
        constants.ESCAPE_DELAY = ESCAPE_DELAY_S  # type: ignore[misc]  # read at each lone ESC


class QuickEscapeDriver(LinuxDriver):
    """LinuxDriver whose input thread wakes when a lone ESC's wait is over."""

    def run_input_thread(self) -> None:
        # Textual 8.2.8's LinuxDriver.run_input_thread, but for the select timeout.
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ
        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick
        decode = getincrementaldecoder("utf-8")().decode
        read = os.read

        def wait() -> float:
            deadline = parser._timeout_time  # set while the parser waits for more of a sequence
            if deadline is None:
                return _IDLE_WAIT_S
            return min(max(deadline - get_time(), 0.0), _IDLE_WAIT_S)

        def process_selector_events(
            selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False
        ) -> None:
            for last, (_selector_key, mask) in loop_last(selector_events):
                if mask & EVENT_READ:
                    unicode_data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        break  # stdin piped
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(wait()))
            selector.unregister(self.fileno)
            process_selector_events(selector.select(_IDLE_WAIT_S), final=True)
        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
