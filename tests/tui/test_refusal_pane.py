"""A refusal (OpenAI `refusal`) shows in the output pane as a refusal, live and reopened."""

from __future__ import annotations

from core.events import Finished, RefusalDelta
from core.store.models import Run
from output_host import OutputHost, wait_until
from tui.widgets.output import OutputPane
from tui.widgets.output.cards import RunOutcomeBox
from tui.widgets.output.wrapped_text import WrappedText

REFUSED = {"content": "", "reasoning": "", "tool_calls": [], "finish_reason": "content_filter",
           "refusal": "I'm very sorry, but I can't assist with that."}  # fmt: skip


async def test_a_streamed_refusal_shows_in_its_own_box() -> None:
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        pane.begin_run("run1", "gpt-4o", True)
        pane.feed(RefusalDelta("I'm very sorry"))
        await wait_until(pilot, lambda: bool(app.query(RunOutcomeBox)))
        box = app.query_one(RunOutcomeBox)
        assert box.has_class("-refused") and "I'm very sorry" in str(box.render())

        pane.feed(RefusalDelta(", but I can't assist with that."))
        pane.feed(Finished(final_response=REFUSED, metrics={}, run_id="run1"))
        await wait_until(pilot, lambda: pane.status == "ok")
        shown = str(app.query_one(RunOutcomeBox).render())
        assert "refused by the model" in shown and REFUSED["refusal"] in shown
        assert REFUSED["refusal"] in app.query_one("#plain", WrappedText).text


async def test_a_saved_refusal_reopens_with_its_box() -> None:
    app = OutputHost()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        run = Run(id="r2", model_config_name="gpt-4o", provider="openai", model="gpt-4o", stream=True,
                  request={}, status="ok", response=REFUSED, metrics={})  # fmt: skip
        pane.show_run(run, [])
        await wait_until(pilot, lambda: bool(app.query(RunOutcomeBox)))
        assert REFUSED["refusal"] in str(app.query_one(RunOutcomeBox).render())
