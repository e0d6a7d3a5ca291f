"""A multi-select list whose keys act on the row they were pressed on."""

from __future__ import annotations

from textual.widgets import SelectionList


class TickList(SelectionList[str]):
    """A SelectionList whose space/enter (and click) ticks the row highlighted when the key
    is handled. Textual's ticks the row highlighted when its own message about the key is
    handled, after every key already queued: keys arriving together (typed fast, over SSH,
    sent by tmux) as "down ×4, space, down ×2, space" ticked the last row twice, i.e. nothing."""

    def action_select(self) -> None:
        highlighted = self.highlighted
        if highlighted is not None and not self.get_option_at_index(highlighted).disabled:
            self.toggle(self.get_option_at_index(highlighted))
