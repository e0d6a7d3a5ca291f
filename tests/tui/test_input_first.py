"""Keys are drawn first while answers stream, and the answers still arrive: a stream
fed between keys is shown after each key, whole and in order, and a burst of Markdown
that arrives at once is shown whole, rendered where it is looked at."""

from __future__ import annotations

import time
from typing import Callable

from core.events import Finished, TextDelta
from output_host import WAIT_LIMIT_S, OutputHost, screen_text, wait_until
from tui.app import LlmwbApp
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.widgets.output import OutputPane
from tui.widgets.output.markdown_stream import StreamingMarkdown

SIZE = (140, 44)


async def test_a_stream_fed_between_keys_is_drawn_after_each_key(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        pane = screen.output
        markdown = pane.query_one(StreamingMarkdown)
        pane.begin_run("run1", "demo-fast", True)
        for i in range(6):
            pane.feed(TextDelta(f"Paragraph {i} of the answer.\n\n"))
            await pilot.press("f1")
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is screen)
            # The key held the stream only while its frame was drawn: the text follows.
            await wait_until(pilot, lambda: f"Paragraph {i} of the answer." in markdown.source)
        await wait_until(pilot, lambda: "Paragraph 5 of the answer." in screen_text(app))
        assert markdown.source == "".join(f"Paragraph {i} of the answer.\n\n" for i in range(6))


async def test_a_burst_of_markdown_in_one_flush_is_shown_whole_and_rendered_where_seen() -> None:
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        markdown = pane.query_one(StreamingMarkdown)
        pane.begin_run("run1", "demo-fast", True)
        # ~40 KB in one flush, as a fast stream delivers after the UI thread was held up.
        text = "".join(f"## Part {i}\n\nText of part {i}, *with* emphasis.\n\n- item {i}\n\n" for i in range(800))
        pane.feed(TextDelta(text))
        await wait_until(pilot, lambda: markdown.source == text)
        pane.feed(Finished(final_response={"content": text, "finish_reason": "stop"}, metrics={}))
        await wait_until(pilot, lambda: pane.status == "ok")
        app.query_one("#rendered").scroll_home(animate=False)
        await wait_until(pilot, lambda: "Part 0" in screen_text(app) and "## Part 0" not in screen_text(app))
        assert "Text of part 0, with emphasis." in screen_text(app)
        app.query_one("#rendered").scroll_end(animate=False)
        await wait_until(pilot, lambda: "Part 798" in screen_text(app) and "## Part 798" not in screen_text(app))


async def test_a_stream_still_moves_while_keys_keep_coming(app_factory: Callable[..., LlmwbApp]) -> None:
    """Keys hold the streams' frames (and a short while after each, for the next key), but
    someone who keeps typing or holds a key down still sees the answer arrive."""
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        pane = screen.output
        markdown = pane.query_one(StreamingMarkdown)
        pane.begin_run("run1", "demo-fast", True)
        await pilot.press("f1")  # the help screen: its keys touch nothing the test reads
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        pane.feed(TextDelta("Written while the keys kept coming.\n\n"))
        deadline = time.monotonic() + WAIT_LIMIT_S
        while "Written while the keys kept coming." not in markdown.source:
            assert time.monotonic() < deadline, "the stream was held as long as keys came"
            await pilot.press("down")  # a key every few milliseconds: the hold never lapses on its own
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Written while the keys kept coming." in screen_text(app))
