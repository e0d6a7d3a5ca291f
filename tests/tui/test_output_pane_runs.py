"""The output pane as runs come and go (tui/widgets/output/pane.py): its header says the model,
how the run went (in the status's colour), the view and how it was sent; a run announced by its
first event; the wire view's lines in the order they came, batch after batch; the reasoning's
count; a new run starts from nothing whatever the last one left; a saved run reopens as it
ended; the scroll keys move the view on show at once."""

from __future__ import annotations

import pytest
from textual.widgets import Collapsible, Static

from core.events import (
    Failed, Finished, Phase, ReasoningDelta, RefusalDelta, RunStarted, TextDelta, ToolCallDelta, WireFrame,
)  # fmt: skip
from core.providers.phases import SENT
from core.store.models import Run
from output_host import OutputHost, response, wait_until
from tui.widgets.output import OutputPane
from tui.widgets.output.cards import RunOutcomeBox, ToolCallCard, error_box_content, refusal_box_content
from tui.widgets.output.markdown_stream import StreamingMarkdown
from tui.widgets.output.wrapped_text import WrappedText

CALL = {"index": 1, "id": "call_W", "name": "get_weather", "arguments": {"city": "Oslo"},
        "arguments_raw": '{"city": "Oslo"}', "arguments_valid": True}  # fmt: skip


def header(app: OutputHost) -> str:
    return app.query_one("#output-header", Static).visual.plain


def style_of(app: OutputHost, words: str) -> str:
    """The style the header draws `words` in (the spans over its first character)."""
    content = app.query_one("#output-header", Static).visual
    start = content.plain.index(words)
    return " ".join(str(span.style) for span in content.spans if span.start <= start < span.end)


def text_of(app: OutputHost, view: str) -> str:
    return app.query_one(f"#{view}", WrappedText).text


async def test_the_header_says_the_model_how_the_run_went_the_view_and_how_it_was_sent() -> None:
    app = OutputHost()
    async with app.run_test(size=(140, 30)) as pilot:
        pane = app.query_one(OutputPane)
        assert header(app) == "No run yet: ctrl+r runs the prompt  ·  view: rendered (^n)"
        assert style_of(app, "No run yet") == "dim" and style_of(app, "rendered") == "bold"

        pane.begin_run("run7", "demo-fast", False)
        assert header(app) == "demo-fast · streaming · view: rendered (^n) · non-stream · run run7"
        assert (style_of(app, "demo-fast"), style_of(app, "streaming"), style_of(app, " · non-stream")) == (
            "bold", "bold cyan", "dim")  # fmt: skip
        assert style_of(app, "view: ") == "dim" and style_of(app, " (^n)") == "dim" and style_of(app, " · run") == "dim"
        pane.cycle_view()
        assert header(app) == "demo-fast · streaming · view: plain (^n) · non-stream · run run7"
        pane.feed(Finished(final_response=response("Hi"), metrics={}, run_id="run7"))
        await wait_until(pilot, lambda: pane.status == "ok")
        assert header(app) == "demo-fast · ok · view: plain (^n) · non-stream · run run7"
        assert style_of(app, "ok") == "bold green"

        for status, colour in (("error", "red"), ("cancelled", "yellow")):
            pane.begin_run("run8", "demo-flaky", True)
            assert header(app) == "demo-flaky · streaming · view: plain (^n) · stream · run run8"
            pane.feed(Failed(error="boom", error_type=status, status=status, partial_response=response(), metrics={}))
            await wait_until(pilot, lambda: pane.status == status)
            assert header(app) == f"demo-flaky · {status} · view: plain (^n) · stream · run run8"
            assert style_of(app, status) == f"bold {colour}"

        shown = app.query_one("#output-header")
        app.set_focus(None)
        await wait_until(pilot, lambda: not shown.has_class("-focused"))
        app.query_one("#plain").focus()
        await wait_until(pilot, lambda: shown.has_class("-focused"))  # the pane is where keys go
        app.set_focus(None)
        await wait_until(pilot, lambda: not shown.has_class("-focused"))  # elsewhere: not marked


async def test_a_run_is_announced_by_its_first_event_and_a_later_one_changes_only_its_id() -> None:
    app = OutputHost()
    async with app.run_test(size=(140, 30)) as pilot:
        pane = app.query_one(OutputPane)
        pane.feed(RunStarted("r9", "demo-plain", False))  # no begin_run: the run's own event says it all
        assert pane.status == "streaming"
        assert header(app) == "demo-plain · streaming · view: rendered (^n) · non-stream · run r9"
        pane.feed(RunStarted("r10", "another", True))  # a retried run's next id: same model and mode
        assert header(app) == "demo-plain · streaming · view: rendered (^n) · non-stream · run r10"
        pane.feed(TextDelta("Hello"))
        await wait_until(pilot, lambda: text_of(app, "plain") == "Hello")
        assert pane.status == "streaming"


async def test_wire_lines_keep_their_order_batch_after_batch_and_reasoning_is_counted() -> None:
    app = OutputHost()
    async with app.run_test(size=(140, 30)) as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-fast", True)
        pane.feed_batch([
            WireFrame(1.0, "data: a"), Phase(SENT, 0.5), TextDelta("Hel"), WireFrame(2.0, "data: b"),
            ReasoningDelta("x" * 1000), ReasoningDelta("z" * 200),
        ])  # fmt: skip
        await wait_until(pilot, lambda: text_of(app, "plain") == "Hel")
        assert text_of(app, "wire") == "+      1.0 ms  data: a\n+      0.5 ms  → request sent\n+      2.0 ms  data: b"
        reasoning = app.query_one("#reasoning", Collapsible)
        assert reasoning.title == "Reasoning · 1,200 chars" and reasoning.display
        assert text_of(app, "reasoning-text") == "x" * 1000 + "z" * 200  # two deltas in one flush, joined
        pane.feed_batch([ReasoningDelta("y" * 34), WireFrame(3.0, "data: c")])
        pane.feed(WireFrame(4.0, "data: d"))
        await wait_until(pilot, lambda: text_of(app, "wire").endswith("data: d"))
        assert text_of(app, "wire").split("\n")[-3:] == [
            "+      2.0 ms  data: b", "+      3.0 ms  data: c", "+      4.0 ms  data: d"]  # fmt: skip
        assert reasoning.title == "Reasoning · 1,234 chars"
        assert reasoning.collapsed  # the answer had begun: the thinking folded
        pane.toggle_reasoning()  # r: unfolded, and more answer leaves it so
        assert not reasoning.collapsed
        pane.toggle_reasoning()
        assert reasoning.collapsed
        pane.toggle_reasoning()
        pane.feed(TextDelta("lo"))
        await wait_until(pilot, lambda: text_of(app, "plain") == "Hello")
        assert not reasoning.collapsed
        assert pane.text == "Hello" and app.query_one(StreamingMarkdown).source == "Hello"


async def test_a_new_run_starts_from_nothing_whatever_the_last_one_left() -> None:
    app = OutputHost()
    async with app.run_test(size=(140, 30)) as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-tools", True)
        pane.show_conversation({"messages": [
            {"role": "user", "content": "Weather?"}, {"role": "assistant", "content": "Checking."},
            {"role": "user", "content": "And now?"}]})  # fmt: skip
        conversation = app.query_one("#conversation", Static)
        assert conversation.display and "Checking." in conversation.visual.plain
        pane.feed(ReasoningDelta("thinking"))
        pane.feed(TextDelta("answer"))
        pane.feed(WireFrame(1.0, "data: one"))
        pane.feed(ToolCallDelta(0, "call_A", "get_weather", "{}"))
        pane.feed(Failed(error="boom", error_type="server_error", partial_response=response("answer"), metrics={}))
        await wait_until(pilot, lambda: pane.status == "error")
        reasoning = app.query_one("#reasoning", Collapsible)
        assert reasoning.collapsed and app.query(ToolCallCard) and app.query(RunOutcomeBox)

        pane.begin_run("run2", "demo-fast", True)
        assert pane.text == "" and pane.final_json is None and pane.status == "streaming"
        assert (reasoning.display, reasoning.collapsed, reasoning.title) == (False, False, "Reasoning")
        for box in ("#tool-cards", "#outcome"):
            assert not app.query_one(box).display
            await wait_until(pilot, lambda: not app.query_one(box).children)
        assert [text_of(app, view) for view in ("plain", "wire", "reasoning-text")] == ["", "", ""]
        assert app.query_one(StreamingMarkdown).source == "" and not conversation.display
        pane.show_conversation({"messages": [{"role": "user", "content": "Hi"}]})  # a first turn: nothing before it
        assert not conversation.display

        pane.feed(ReasoningDelta("again"))
        await wait_until(pilot, lambda: reasoning.display)
        assert reasoning.title == "Reasoning · 5 chars" and not reasoning.collapsed
        pane.feed(TextDelta("new"))  # this run's answer begins: folded again
        await wait_until(pilot, lambda: reasoning.collapsed)
        pane.feed(Finished(final_response=response("new"), metrics={}, run_id="run2"))
        await wait_until(pilot, lambda: pane.status == "ok")
        assert not app.query(RunOutcomeBox) and text_of(app, "plain") == "new"
        assert text_of(app, "wire") == ""


def saved(status: str = "ok", **fields) -> Run:
    fields = {"request": {}, "metrics": {}, **fields}
    return Run(id="saved1", model_config_name="demo-tools", provider="simulator", model="demo-tools", stream=False,
               status=status, **fields)  # fmt: skip


async def test_a_saved_run_reopens_as_it_ended() -> None:
    app = OutputHost()
    async with app.run_test(size=(140, 30)) as pilot:
        pane = app.query_one(OutputPane)
        http = {"request": {"method": "POST", "url": "http://127.0.0.1:1/v1/chat", "headers": {}, "body": None},
                "attempts": [{"attempt": 1, "sent_ms": 0.0, "status": 200, "headers_ms": 9.5, "headers": {}}]}  # fmt: skip
        run = saved(response=response("The answer.", reasoning="Thought first.", tool_calls=[CALL]), metrics={"ttft_ms": 12.0})
        run.request = {"http": http}
        pane.show_run(run, [])
        assert pane.status == "loading"
        assert header(app) == "demo-tools · loading · view: rendered (^n) · non-stream · run saved1"
        await wait_until(pilot, lambda: pane.status == "ok")
        assert header(app) == "demo-tools · ok · view: rendered (^n) · non-stream · run saved1"
        reasoning = app.query_one("#reasoning", Collapsible)
        assert reasoning.display and reasoning.collapsed  # an answer follows: folded
        assert text_of(app, "reasoning-text") == "Thought first."
        assert text_of(app, "plain") == "The answer." and pane.text == "The answer."
        wire = text_of(app, "wire").split("\n")
        assert wire[0].startswith("+      0.0 ms  → POST http://127.0.0.1:1/v1/chat") and "HTTP 200" in wire[-1]
        card = app.query_one(ToolCallCard)  # a non-streamed call: its card from the final response
        assert card.valid is True and "get_weather" in card.query_one(".tool-title").visual.plain
        assert pane.final_json == {"done": True, "final_response": run.response, "metrics": {"ttft_ms": 12.0}, "run_id": "saved1"}

        pane.show_run(saved(response=response("", reasoning="Only thinking.")), [])
        await wait_until(pilot, lambda: pane.status == "ok" and text_of(app, "reasoning-text") == "Only thinking.")
        assert reasoning.display and not reasoning.collapsed  # nothing else to show: left open

        pane.show_run(saved("cancelled", error="cancelled by the user", error_type="cancelled",
                            response=response("Half")), [])  # fmt: skip
        await wait_until(pilot, lambda: pane.status == "cancelled")
        box = app.query_one(RunOutcomeBox)
        assert box.has_class("-cancelled")
        content = error_box_content(status="cancelled", error="cancelled by the user", error_type="cancelled",
                                    http_status=None, retry_after=None)  # fmt: skip
        assert text_of(app, "plain") == "Half\n\n" + content.plain + "\n"
        assert not reasoning.display  # this run had none

        turns = {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": "Checking."}]}
        failed = saved("error", error="upstream down", error_type="server_error", http_status=503,
                       response=response("Half"), metrics={"ttft_ms": 5.0}, request=turns)  # fmt: skip
        pane.show_run(failed, [])
        await wait_until(pilot, lambda: pane.status == "error")
        assert pane.final_json == {
            "done": True, "status": "error", "error": "upstream down", "error_type": "server_error", "http_status": 503,
            "partial_response": response("Half"), "metrics": {"ttft_ms": 5.0}, "run_id": "saved1",
        }  # fmt: skip
        content = error_box_content(status="error", error="upstream down", error_type="server_error",
                                    http_status=503, retry_after=None)  # fmt: skip
        assert str(app.query_one(RunOutcomeBox).render()) == str(content)
        conversation = app.query_one("#conversation", Static)
        assert conversation.display and "Checking." in conversation.visual.plain  # the turns before this one

        pane.show_run(saved("error", response=response()), [])  # cut off before anything was said
        await wait_until(pilot, lambda: pane.status == "error")
        assert pane.final_json is not None
        assert (pane.final_json["error"], pane.final_json["error_type"], pane.final_json["metrics"]) == ("", "", {})
        assert not conversation.display

        pane.show_run(saved("running", response=response("So far")), [])  # still going elsewhere: no outcome
        await wait_until(pilot, lambda: pane.status == "idle")
        assert header(app) == "demo-tools · idle · view: rendered (^n) · non-stream · run saved1"
        assert pane.final_json is None and not app.query(RunOutcomeBox)


async def test_a_new_run_started_while_a_saved_one_loads_shows_nothing_of_it() -> None:
    app = OutputHost()
    async with app.run_test(size=(140, 30)) as pilot:
        pane = app.query_one(OutputPane)
        long = "".join(f"## Part {i}\n\nSome text {i}.\n\n" for i in range(300))
        pane.show_run(saved("error", error="cut", error_type="stream_cut", response=response(long)), [])
        pane.begin_run("fresh", "demo-fast", True)
        pane.feed(TextDelta("Fresh."))
        await wait_until(pilot, lambda: text_of(app, "plain") == "Fresh.")
        for _ in range(20):  # long enough for the saved run's load to have finished
            await pilot.pause(0.02)
        assert pane.status == "streaming" and not app.query(RunOutcomeBox)
        assert app.query_one(StreamingMarkdown).source == "Fresh."


async def test_the_scroll_keys_move_the_view_on_show_at_once() -> None:
    app = OutputHost()
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-long", True)
        pane.feed(TextDelta("\n\n".join(f"Paragraph {i}." for i in range(100))))
        rendered, plain = app.query_one("#rendered"), app.query_one("#plain", WrappedText)
        await wait_until(pilot, lambda: rendered.max_scroll_y > 150 and rendered.scroll_y == rendered.max_scroll_y)
        for view in (rendered, plain):  # the answer rendered, then plain (Textual scrolls them differently)
            page = view.scrollable_content_region.height
            moves = []
            for where in ("home", "down", "page_down", "up", "page_up", "end", "page_up"):
                pane.scroll_shown_view(where)
                moves.append(view.scroll_y)  # no frame in between: at once
            end = view.max_scroll_y
            assert moves == [0, 1, 1 + page, page, 0, end, end - page], pane.view
            pane.cycle_view()  # plain next
            await wait_until(pilot, lambda: plain.row_count == 199 and plain.max_scroll_y > 0)
        with pytest.raises(ValueError, match="no such scroll: left"):
            pane.scroll_shown_view("left")


async def test_a_view_shown_has_its_rows_at_its_width_from_its_first_frame() -> None:
    """The plain view, shown, wraps the text kept while hidden at the width it will have
    (the pane's less the scrollbar's gutter): no frame of rows that then jump."""
    app = OutputHost()
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "demo-long", True)
        pane.feed(TextDelta("x" * 1000))
        plain = app.query_one("#plain", WrappedText)
        await wait_until(pilot, lambda: plain.text == "x" * 1000)
        pane.cycle_view()
        shown_at_once = plain.row_count
        await wait_until(pilot, lambda: plain.size.width > 0)
        for _ in range(3):
            await pilot.pause()
        assert shown_at_once == plain.row_count == -(-1000 // plain.size.width)


async def test_each_call_gets_its_own_card_and_an_outcome_is_shown_once() -> None:
    app = OutputHost()
    async with app.run_test(size=(140, 40)) as pilot:
        pane = app.query_one(OutputPane)
        time_call = {**CALL, "index": 0, "id": "call_T", "name": "get_time", "arguments": {}, "arguments_raw": "{}"}
        for streamed in (True, False):  # cards grown from deltas, or made from the final response alone
            pane.begin_run("run1", "demo-tools", streamed)
            if streamed:
                pane.feed(ToolCallDelta(0, "call_T", "get_time", "{}"))
                pane.feed(ToolCallDelta(1, "call_W", "get_weather", '{"city": "Oslo"}'))
            pane.feed(Finished(final_response=response(tool_calls=[time_call, CALL]), metrics={}))
            await wait_until(pilot, lambda: pane.status == "ok" and len(app.query(ToolCallCard)) == 2)
            titles = [card.query_one(".tool-title").visual.plain for card in app.query(ToolCallCard)]
            assert ["get_time" in titles[0] and "#0" in titles[0], "get_weather" in titles[1] and "#1" in titles[1]] == [
                True, True], titles  # fmt: skip
            assert all(card.valid is True for card in app.query(ToolCallCard))

        pane.begin_run("run2", "gpt-4o", True)
        pane.feed(RefusalDelta("No."))
        pane.feed(Finished(final_response={**response(), "refusal": "No."}, metrics={}))
        await wait_until(pilot, lambda: pane.status == "ok")
        assert text_of(app, "plain") == "\n\n" + refusal_box_content("No.").plain + "\n"

        pane.begin_run("run3", "demo-flaky", True)
        pane.feed(Failed(error="boom", error_type="server_error", partial_response=response(), metrics={}))
        await wait_until(pilot, lambda: pane.status == "error")
        pane.feed(WireFrame(9.0, "data: late"))  # a frame after the outcome: the wire view takes it, once
        await wait_until(pilot, lambda: text_of(app, "wire").endswith("data: late"))
        for _ in range(3):
            await pilot.pause()
        assert len(app.query(RunOutcomeBox)) == 1 and text_of(app, "plain").count("boom") == 1


def test_a_pane_keeps_the_id_and_classes_it_is_given() -> None:
    """The main screen finds its pane by its id (`#output`); classes style a pane as any widget."""
    pane = OutputPane(id="output", classes="compare-output")
    assert pane.id == "output" and pane.has_class("compare-output")
