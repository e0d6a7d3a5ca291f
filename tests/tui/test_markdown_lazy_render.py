"""Settled Markdown is rendered when it is looked at: a long answer streamed fast, then
scrolled back to its start, shows its first blocks rendered (a heading without its
`##`), whatever was skipped while it streamed."""

from __future__ import annotations

from time import perf_counter as clock

from textual.pilot import Pilot

from core.events import Finished, TextDelta
from output_host import OutputHost, screen_text, wait_until
from tui.widgets.output import OutputPane
from tui.widgets.output.markdown_stream import StreamingMarkdown
from tui.widgets.output.render_budget import charge

SECTIONS = 300
TEXT = "".join(f"## Section {i}\n\nBody of section {i}, **bold** here.\n\n" for i in range(SECTIONS))


async def stream_the_first_half(pilot: Pilot, pane: OutputPane) -> None:
    """Half of TEXT fed fast (many blocks settle per flush), until its end is on screen."""
    pane.begin_run("run1", "demo-long", True)
    half = len(TEXT) // 2
    for start in range(0, half, 400):
        pane.feed(TextDelta(TEXT[start : min(start + 400, half)]))
    await wait_until(pilot, lambda: f"Section {SECTIONS // 2 - 2}" in screen_text(pilot.app))


async def test_a_long_answer_scrolled_back_to_its_start_shows_rendered_markdown() -> None:
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-long", True)
        for start in range(0, len(TEXT), 400):  # a fast stream: many blocks settle per flush
            pane.feed(TextDelta(TEXT[start : start + 400]))
        pane.feed(Finished(final_response={"content": TEXT, "finish_reason": "stop"}, metrics={}))
        await wait_until(pilot, lambda: pane.status == "ok", timeout=20)

        app.query_one("#rendered").scroll_home(animate=False)
        await wait_until(pilot, lambda: "Section 0" in screen_text(app), timeout=20)
        # Drawn as Markdown once in sight, never left as its source.
        await wait_until(pilot, lambda: "## Section 0" not in screen_text(app), timeout=20)
        shown = screen_text(app)
        assert "Section 0" in shown and "Body of section 0, bold here." in shown
        assert "**" not in shown

        app.query_one("#rendered").scroll_end(animate=False)
        await wait_until(pilot, lambda: f"Section {SECTIONS - 1}" in screen_text(app), timeout=20)
        await wait_until(pilot, lambda: f"## Section {SECTIONS - 1}" not in screen_text(app), timeout=20)


async def test_scrolled_back_mid_stream_the_start_is_rendered_while_the_answer_goes_on() -> None:
    """Groups that scrolled away unrendered while the answer streamed (they are rendered
    when seen, not in the background) show as Markdown once scrolled back to, and the
    stream keeps arriving meanwhile."""
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        await stream_the_first_half(pilot, pane)

        app.query_one("#rendered").scroll_home(animate=False)
        await wait_until(pilot, lambda: "Section 0" in screen_text(app) and "## Section 0" not in screen_text(app))
        assert "Body of section 0, bold here." in screen_text(app)

        pane.feed(TextDelta(TEXT[len(TEXT) // 2 :]))  # still streaming: the view stays where the user put it
        await wait_until(pilot, lambda: pane.text == TEXT)
        await wait_until(pilot, lambda: "Section 0" in screen_text(app) and "**" not in screen_text(app))
        assert pane.status == "streaming"


async def test_scrolled_back_while_the_render_budget_is_spent_the_start_is_rendered_once_it_refills() -> None:
    """Scrolled back while rendering had spent its share (other columns, a busy layout),
    the start shows as its source first; layouts that come meanwhile without a paint of
    the answer (another widget's, a refused render's next) must not forget it: it is
    rendered once the budget refills. (It stayed `## Section 0` for good, 1 run in 16
    on a loaded machine.)"""
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        await stream_the_first_half(pilot, pane)

        charge(clock() - 0.4)  # as if a render had just taken 0.4 s: the budget is spent for ~1 s
        app.query_one("#rendered").scroll_home(animate=False)
        await wait_until(pilot, lambda: "## Section 0" in screen_text(app))  # its source, for now
        answer = app.query_one(StreamingMarkdown)
        for _ in range(2):  # layouts of the answer with no paint of it
            answer.refresh(layout=True, repaint=False)
            await pilot.pause()

        await wait_until(pilot, lambda: "Section 0" in screen_text(app) and "## Section 0" not in screen_text(app))
        assert "Body of section 0, bold here." in screen_text(app)


async def test_end_follows_the_stream_again_after_scrolling_back() -> None:
    """Home stops following the answer; End brings the view back to its end, and what
    streams afterwards is shown as it arrives."""
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-long", True)
        third = len(TEXT) // 3
        pane.feed(TextDelta(TEXT[:third]))
        await wait_until(pilot, lambda: pane.text == TEXT[:third])
        pane.scroll_shown_view("home")
        await wait_until(pilot, lambda: "Section 0" in screen_text(app))
        pane.feed(TextDelta(TEXT[third : 2 * third]))
        await wait_until(pilot, lambda: pane.text == TEXT[: 2 * third])
        assert "Section 0" in screen_text(app)  # scrolled back: the view stays

        pane.scroll_shown_view("end")
        pane.feed(TextDelta(TEXT[2 * third :]))
        last = f"Body of section {SECTIONS - 1}, bold here."
        await wait_until(pilot, lambda: last in screen_text(app))
