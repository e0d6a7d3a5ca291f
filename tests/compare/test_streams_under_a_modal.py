"""A comparison covered by a modal (F1's keys) is drawn again once the modal closes:
whatever its columns streamed meanwhile is on screen, whole and in order."""

from __future__ import annotations

from textual.screen import ModalScreen
from textual.widgets import Static

from compare_support import CompareHost, settle, wait_for
from core.events import TextDelta
from core.request import ChatRequest
from tui.screens.compare_models import ModelsCompareScreen
from tui.widgets.compare import CompareColumn


class Covering(ModalScreen[None]):
    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("a modal over the comparison")


def screen_text(app: CompareHost) -> str:
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(segment.text for segment in strip) for strip in update.strips)


async def test_what_streamed_under_a_modal_is_drawn_when_the_comparison_is_back(sim_store) -> None:  # type: ignore[no-untyped-def]
    configs = [sim_store.get_config(name) for name in ("demo-diff", "echo")]
    app = CompareHost(sim_store, lambda app: ModelsCompareScreen(ChatRequest.from_prompt("hello"), configs))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)  # both runs over
        comparison = app.screen
        first, second = comparison.query(CompareColumn)
        for column in (first, second):
            column.output.begin_run(f"run-{column.label}", column.label, True)
            column.output.feed(TextDelta(f"Before the modal, {column.label}.\n\n"))
        await wait_for(pilot, lambda: "Before the modal, echo." in screen_text(app), "the columns' text drawn")

        app.push_screen(Covering())
        await wait_for(pilot, lambda: "a modal over the comparison" in screen_text(app), "the modal shown")
        for part in range(3):
            for column in (first, second):
                column.output.feed(TextDelta(f"Under the modal, part {part} of {column.label}.\n\n"))
            await pilot.pause(0.1)  # the flush clock's ticks come and go meanwhile
        app.pop_screen()

        await wait_for(pilot, lambda: app.screen is comparison, "the comparison back")
        # Each column draws on its own flush: wait for both columns' last part before reading
        # (seen failing under a CPU hog: echo's was drawn, demo-diff's a frame later).
        await wait_for(pilot, lambda: all(f"Under the modal, part 2 of {name}." in screen_text(app) for name in ("demo-diff", "echo")),
                       "what streamed drawn in both columns")  # fmt: skip
        shown = screen_text(app)
        for column in (first, second):
            lines = [f"Before the modal, {column.label}."] + [
                f"Under the modal, part {part} of {column.label}." for part in range(3)
            ]
            positions = [shown.find(line) for line in lines]
            assert -1 not in positions and positions == sorted(positions), (column.label, positions)
