"""OutputPane: the three views, reasoning, tool cards, errors, reopening a saved run."""

from __future__ import annotations

from textual.widgets import Collapsible

from core.events import Failed, Finished, ReasoningDelta, RunStarted, TextDelta, ToolCallDelta, WireFrame
from core.store.models import Run
from output_host import OutputHost, response, screen_text, wait_until
from tui.widgets.output import OutputPane
from tui.widgets.output.cards import RunOutcomeBox, ToolCallCard
from tui.widgets.output.markdown_stream import SETTLE_AT, StreamingMarkdown
from tui.widgets.output.wrapped_text import WrappedText

WEATHER_CALL = {
    "index": 0, "id": "call_A", "name": "get_weather",
    "arguments": {"city": "Paris"}, "arguments_raw": '{"city": "Paris"}', "arguments_valid": True,
}  # fmt: skip


def parts(app: OutputHost) -> tuple[OutputPane, StreamingMarkdown, WrappedText, WrappedText]:
    return (
        app.query_one(OutputPane),
        app.query_one(StreamingMarkdown),
        app.query_one("#plain", WrappedText),
        app.query_one("#wire", WrappedText),
    )


async def test_streamed_text_appears_in_all_three_views() -> None:
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane, markdown, plain, wire = parts(app)
        pane.begin_run("run1", "demo-fast", True)
        pane.feed(RunStarted("run1", "demo-fast", True))
        pane.feed(WireFrame(152.34, 'data: {"choices":[{"delta":{"content":"# Hel"}}]}'))
        pane.feed(TextDelta("# Hel"))
        pane.feed(TextDelta("lo\n\nA partial li"))  # no newline yet: must show at once
        await wait_until(pilot, lambda: "A partial li" in plain.text)

        assert markdown.source == "# Hello\n\nA partial li"
        assert plain.text == "# Hello\n\nA partial li"
        assert wire.text.split("\n")[0] == '+    152.3 ms  data: {"choices":[{"delta":{"content":"# Hel"}}]}'
        assert pane.text == "# Hello\n\nA partial li"
        assert pane.status == "streaming"

        pane.feed(Finished(final_response=response("# Hello\n\nA partial li"), metrics={}, run_id="run1"))
        await wait_until(pilot, lambda: pane.status == "ok")
        assert pane.final_json is not None and pane.final_json["done"] is True


async def test_view_key_cycles_rendered_plain_wire() -> None:
    app = OutputHost()
    async with app.run_test() as pilot:
        pane = app.query_one(OutputPane)
        app.query_one("#rendered").focus()
        seen = []
        for _ in range(3):
            await pilot.press("v")
            shown = [view for view in ("rendered", "plain", "wire") if app.query_one(f"#{view}").display]
            seen.append((pane.view, shown))
        assert seen == [("plain", ["plain"]), ("wire", ["wire"]), ("rendered", ["rendered"])]


async def test_reasoning_section_expanded_while_thinking_then_folds() -> None:
    app = OutputHost()
    async with app.run_test() as pilot:
        pane = app.query_one(OutputPane)
        reasoning = app.query_one("#reasoning", Collapsible)
        assert not reasoning.display
        pane.begin_run("run1", "demo-reasoning", True)
        pane.feed(ReasoningDelta("Let me check the divisors"))
        await wait_until(pilot, lambda: reasoning.display)
        assert not reasoning.collapsed
        assert "Let me check the divisors" in app.query_one("#reasoning-text", WrappedText).text

        pane.feed(TextDelta("391 is not prime."))
        await wait_until(pilot, lambda: reasoning.collapsed)
        app.query_one("#rendered").focus()
        await pilot.press("r")
        assert not reasoning.collapsed


async def test_tool_card_grows_then_shows_pretty_json() -> None:
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-tools", True)
        pane.feed(ToolCallDelta(0, "call_A", "get_weather", '{"ci'))
        await wait_until(pilot, lambda: bool(app.query(ToolCallCard)))
        card = app.query_one(ToolCallCard)
        args = card.query_one(".tool-args")
        await wait_until(pilot, lambda: str(args.render()) == '{"ci')
        assert "streaming" in str(card.query_one(".tool-title").render())

        pane.feed(ToolCallDelta(0, None, None, 'ty": "Paris"}'))
        await wait_until(pilot, lambda: str(args.render()) == '{"city": "Paris"}')
        pane.feed(Finished(final_response=response(tool_calls=[WEATHER_CALL], finish="tool_calls"), metrics={}))
        await wait_until(pilot, lambda: card.valid is True)
        assert str(args.render()) == '{\n  "city": "Paris"\n}'
        assert "get_weather" in str(card.query_one(".tool-title").render())


async def test_invalid_tool_arguments_are_marked_and_kept_raw() -> None:
    app = OutputHost()
    async with app.run_test() as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-tools", True)
        pane.feed(ToolCallDelta(0, "call_B", "get_weather", '{"city": Par'))
        bad = {**WEATHER_CALL, "id": "call_B", "arguments": '{"city": Par', "arguments_raw": '{"city": Par',
               "arguments_valid": False}  # fmt: skip
        pane.feed(Finished(final_response=response(tool_calls=[bad], finish="tool_calls"), metrics={}))
        await wait_until(pilot, lambda: pane.status == "ok")
        card = app.query_one(ToolCallCard)
        assert card.has_class("-invalid")
        assert "INVALID JSON" in str(card.query_one(".tool-title").render())
        assert str(card.query_one(".tool-args").render()) == '{"city": Par'


async def test_error_shown_under_the_partial_output() -> None:
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane, markdown, plain, _ = parts(app)
        pane.begin_run("run1", "demo-flaky", True)
        pane.feed(TextDelta("The first half of the answer"))
        pane.feed(
            Failed(
                error="Rate limit reached", error_type="rate_limit", http_status=429, retry_after="7",
                partial_response=response("The first half of the answer", finish="error"), metrics={},
            )  # fmt: skip
        )
        await wait_until(pilot, lambda: pane.status == "error")
        box = app.query_one(RunOutcomeBox)
        shown = str(box.render())
        assert "rate_limit" in shown and "HTTP 429" in shown and "retry after 7 s" in shown
        assert "Rate limit reached" in shown
        assert box.has_class("-error")
        # the partial output stays, above the box
        assert markdown.source == "The first half of the answer"
        assert markdown.region.y < box.region.y
        assert plain.text.startswith("The first half of the answer")
        assert "Rate limit reached" in plain.text


async def test_cancelled_run_says_so() -> None:
    app = OutputHost()
    async with app.run_test() as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-long", True)
        pane.feed(TextDelta("Once upon"))
        pane.feed(
            Failed(error="cancelled by the user", error_type="cancelled", status="cancelled",
                   partial_response=response("Once upon", finish="cancelled"), metrics={})  # fmt: skip
        )
        await wait_until(pilot, lambda: pane.status == "cancelled")
        box = app.query_one(RunOutcomeBox)
        assert box.has_class("-cancelled") and "cancelled" in str(box.render())


async def test_long_stream_settles_old_blocks_out_of_the_live_markdown() -> None:
    app = OutputHost()
    async with app.run_test() as pilot:
        pane, markdown, _, _ = parts(app)
        pane.begin_run("run1", "demo-long", True)
        paragraphs = [f"Paragraph number {i} of a long answer.\n\n" for i in range(10 * SETTLE_AT)]
        for index, paragraph in enumerate(paragraphs):
            pane.feed(TextDelta(paragraph))
            if index % (3 * SETTLE_AT) == 0:  # several flushes, each settling older blocks
                await wait_until(pilot, lambda p=paragraph: markdown.source.endswith(p))
        pane.feed(Finished(final_response=response("".join(paragraphs)), metrics={}))
        await wait_until(pilot, lambda: pane.status == "ok")
        assert markdown.source == "".join(paragraphs)
        assert markdown.settled_count >= 2
        app.query_one("#rendered").scroll_home(animate=False)
        await pilot.pause()
        assert "Paragraph number 0 of a long answer." in screen_text(app)


async def test_show_run_reopens_a_saved_failed_run(store) -> None:
    content = "".join(f"## Section {i}\n\nBody text {i}.\n\n" for i in range(60))
    run = Run(
        model_config_name="demo-flaky", provider="simulator", model="demo-flaky", status="error",
        error="stream cut after 8 chunks", error_type="stream_cut",
        response=response(content, reasoning="thinking first", finish="error"),
        metrics={"ttft_ms": 12.0},
    )  # fmt: skip
    store.create_run(run)
    store.finish_run(run, [(10.0, 'data: {"a":1}'), (25.5, 'data: {"a":2}')])
    saved, frames = store.get_run(run.id), store.get_frames(run.id)

    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane, markdown, plain, wire = parts(app)
        pane.show_run(saved, frames)
        await wait_until(pilot, lambda: pane.status == "error")
        assert markdown.source == content
        assert markdown.settled_count >= 2  # rendered group by group, not as one document
        assert plain.text.startswith(content)
        assert wire.text.split("\n") == ['+     10.0 ms  data: {"a":1}', '+     25.5 ms  data: {"a":2}']
        assert "stream cut after 8 chunks" in str(app.query_one(RunOutcomeBox).render())
        assert "thinking first" in app.query_one("#reasoning-text", WrappedText).text
        assert pane.text == content


async def test_plain_view_wraps_long_lines_and_rewraps_on_resize() -> None:
    app = OutputHost()
    async with app.run_test(size=(60, 20)) as pilot:
        pane, _, plain, _ = parts(app)
        pane.begin_run("run1", "echo", True)
        pane.cycle_view()
        for word in ("lorem " * 40).split(" "):
            pane.feed(TextDelta(word + " "))
        await wait_until(pilot, lambda: plain.text.count("lorem") == 40)
        narrow = plain.row_count
        assert narrow > 1  # wrapped, not cut off
        await pilot.resize_terminal(120, 20)
        await wait_until(pilot, lambda: plain.row_count < narrow)


def test_snapshot_pane_mid_stream(snap_compare) -> None:
    async def feed_mid_stream(pilot) -> None:
        pane = pilot.app.query_one(OutputPane)
        pane.begin_run("0123456789ab", "demo-tools", True)
        pane.feed(ReasoningDelta("The user wants the weather in two cities; call the tool twice."))
        pane.feed(TextDelta("## Plan\n\n- look up **Paris**\n- look up *Tokyo*\n\n```python\nprint('hi')\n```\n\nCalling"))
        pane.feed(ToolCallDelta(0, "call_A", "get_weather", '{"city": "Paris"}'))
        pane.feed(ToolCallDelta(1, "call_B", "get_weather", '{"city": "To'))
        await wait_until(pilot, lambda: len(pilot.app.query(ToolCallCard)) == 2 and "Calling" in pane.query_one(StreamingMarkdown).source)

    assert snap_compare(OutputHost(), terminal_size=(100, 32), run_before=feed_mid_stream)


async def test_the_wire_view_shown_mid_stream_follows_the_newest_frame() -> None:
    """Frames that streamed while another view was shown: the wire view, opened, shows
    the newest of them (and keeps following), not the start of the exchange."""
    app = OutputHost()
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-fast", True)
        for i in range(200):
            pane.feed(WireFrame(float(i), f'data: {{"frame": {i:04d}}}'))
        await wait_until(pilot, lambda: len(app.query_one("#wire", WrappedText).text.splitlines()) >= 200)
        pane.cycle_view()  # plain
        pane.cycle_view()  # wire
        await wait_until(pilot, lambda: '"frame": 0199' in screen_text(app))
        pane.feed(WireFrame(200.0, 'data: {"frame": 0200}'))
        await wait_until(pilot, lambda: '"frame": 0200' in screen_text(app))

        pane.cycle_view()  # rendered again; the stream goes on out of sight
        for i in range(201, 400):
            pane.feed(WireFrame(float(i), f'data: {{"frame": {i:04d}}}'))
        await wait_until(pilot, lambda: len(app.query_one("#wire", WrappedText).text.splitlines()) >= 400)
        pane.cycle_view()
        pane.cycle_view()
        await wait_until(pilot, lambda: '"frame": 0399' in screen_text(app))
