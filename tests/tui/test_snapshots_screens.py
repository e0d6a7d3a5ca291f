"""How every screen and modal looks, and the key states of the output pane.

Nothing here depends on timing: runs are saved rows with fixed figures, streams are
scripted events fed to the pane, and the one clock read on a screen (test
connection's "answered in") is pinned. Times of day are shown in UTC (TZ pinned).
Regenerate with `--snapshot-update` and look at the SVGs before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from core.events import Failed, RunStarted, TextDelta
from core.request import ChatRequest
from core.store.models import Run
from output_host import wait_until
from tui.app import LlmwbApp
from tui.screens.main import MainScreen
from tui.screens.tool_results import ToolResultsScreen
from tui.widgets.output.markdown_stream import StreamingMarkdown

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)  # another year: the date is written in full
SIZE = (120, 36)
ANSWER = "Time to first token is how long the first piece of the answer takes to arrive."
METRICS = {
    "ttfb_ms": 12.0, "ttft_ms": 250.0, "total_ms": 900.0, "chunks": 14, "itl_p50_ms": 10.0, "itl_p95_ms": 14.0,
    "itl_max_ms": 21.0, "tpot_ms": 11.0, "decode_tps": 90.9, "prompt_tokens": 15, "completion_tokens": 18,
    "reasoning_tokens": 0, "cached_tokens": 0, "total_tokens": 33, "usage_source": "provider",
    "cost_usd": 0.0000123, "request_id": "req_fixed", "retries": 0, "stream": True,
}  # fmt: skip
FRAMES = [
    (250.0, 'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Time to first token"}}]}'),
    (262.5, 'data: {"choices":[{"index":0,"delta":{"content":" is how long the first piece"}}]}'),
    (275.0, 'data: {"choices":[{"index":0,"delta":{"content":" of the answer takes to arrive."}}]}'),
    (890.0, 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'),
    (900.0, "data: [DONE]"),
]
TOOL_RESPONSE = {
    "content": "", "reasoning": "", "finish_reason": "tool_calls",
    "tool_calls": [
        {"index": 0, "id": "call_paris", "name": "get_weather", "arguments_raw": '{"city": "Paris"}',
         "arguments": {"city": "Paris"}, "arguments_valid": True},
        {"index": 1, "id": "call_tokyo", "name": "get_weather", "arguments_raw": '{"city": "Tokyo"}',
         "arguments": {"city": "Tokyo"}, "arguments_valid": True},
    ],
}  # fmt: skip


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def saved(app: LlmwbApp, run_id: str, prompt: str, *, minutes: int = 0, **fields) -> Run:  # type: ignore[no-untyped-def]
    stream = fields.pop("stream", True)
    run = Run(
        id=run_id, model_config_name=fields.pop("model", "demo-fast"), provider="simulator", model="demo-fast",
        created_at=T0.replace(minute=30 + minutes), stream=stream,
        request=ChatRequest.from_prompt(prompt, stream=stream).to_dict(), status=fields.pop("status", "ok"),
        response=fields.pop("response", {"content": ANSWER, "finish_reason": "stop"}),
        metrics={**METRICS, "stream": stream}, **fields,
    )  # fmt: skip
    app.store.create_run(run)
    app.store.finish_run(run, FRAMES)
    return run


async def quiet(pilot: Pilot, focus_models: bool = True) -> MainScreen:
    """The main screen with no blinking cursor anywhere."""
    await pilot.pause()
    screen = pilot.app.screen_stack[1] if len(pilot.app.screen_stack) > 1 else pilot.app.screen
    assert isinstance(screen, MainScreen)
    for widget in pilot.app.query("TextArea, Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    screen.set_focus(screen.models if focus_models and screen.models.display else None)
    await pilot.pause()
    return screen


async def reopen(pilot: Pilot, run: Run) -> MainScreen:
    screen = await quiet(pilot)
    screen.open_run(run)
    await wait_until(pilot, lambda: screen.output.status in ("ok", "error", "cancelled"))
    return screen


def snap(snap_compare, app: LlmwbApp, run_before, size: tuple[int, int] = SIZE) -> bool:  # type: ignore[no-untyped-def]
    return snap_compare(app, terminal_size=size, run_before=run_before)


# --- modals -------------------------------------------------------------------------------


def test_help(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        await quiet(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap(snap_compare, app_factory(), run_before, (120, 60))


def test_history(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    saved(app, "run000000001", "What is time to first token?")
    saved(app, "run000000002", "The same, not streamed", minutes=1, stream=False)
    saved(app, "run000000003", "Rate limited", minutes=2, model="echo", status="error", error_type="rate_limit",
          group_id="g1")  # fmt: skip

    async def run_before(pilot: Pilot) -> None:
        await quiet(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()

    assert snap(snap_compare, app, run_before)


def test_tool_results(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    run = saved(app, "run000000004", "Weather in Paris and Tokyo?", model="demo-tools", response=TOOL_RESPONSE)

    async def run_before(pilot: Pilot) -> None:
        await reopen(pilot, run)
        await pilot.press("ctrl+l")
        # Both result boxes mounted, and the first one holding the focus — its own `has_focus`,
        # which draws its cursor, set when it handles the Focus event, a message after the
        # screen's `focused` — before their cursors stop blinking: a loaded machine may not
        # have composed the modal after one pause, or drawn it without the focused box's cursor.
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ToolResultsScreen)
                         and len(boxes := pilot.app.screen.result_boxes) == 2
                         and boxes[0].has_focus)  # fmt: skip
        for widget in pilot.app.screen.query(TextArea):
            widget.cursor_blink = False
            # Textual 8.2.8 keys a rendered line without the cursor once blinking is off, as it
            # does a line drawn in a blink's off phase: when the wait above outlasted a blink
            # (0.5 s, a loaded machine), that cached line came back without the focused box's cursor.
            widget._line_cache.clear()
        await pilot.pause()

    assert snap(snap_compare, app, run_before)


def test_copy_menu(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        await quiet(pilot)
        await pilot.press("f9")
        await pilot.pause()

    assert snap(snap_compare, app_factory(), run_before, (80, 24))


def test_confirm_delete(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        await quiet(pilot)
        await pilot.press("d")
        await pilot.pause()

    assert snap(snap_compare, app_factory(), run_before, (80, 24))


def test_connection_test(snap_compare, app_factory: Callable[..., LlmwbApp], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("tui.widgets.models.connection_test.clock", lambda: 0.0)  # "answered in" is fixed

    async def run_before(pilot: Pilot) -> None:
        screen = await quiet(pilot)
        screen.models.reload(select="demo-fast")
        await pilot.press("t")
        await pilot.pause()
        await pilot.app.screen.workers.wait_for_complete()
        await pilot.pause()

    assert snap(snap_compare, app_factory(), run_before)


def test_model_picker(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        screen = await quiet(pilot)
        screen.models.reload(select="demo-fast")
        await pilot.press("f8")
        await pilot.pause()
        await pilot.pause()

    assert snap(snap_compare, app_factory(), run_before)


def test_start_up_error(snap_compare, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def refuse(_data_dir: Path | None) -> None:  # a fixed message: no temp path in the picture
        raise PermissionError("[Errno 13] Permission denied: '/srv/llmwb/llmwb.db'")

    monkeypatch.setattr("tui.app.open_store", refuse)
    app = LlmwbApp(data_dir=tmp_path)

    async def run_before(pilot: Pilot) -> None:
        await wait_until(pilot, lambda: "could not start" in str(pilot.app.screen.query_one("#starting").render()))

    assert snap(snap_compare, app, run_before, (80, 24))


def test_model_form_with_several_errors(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        await quiet(pilot)
        await pilot.press("a")
        await pilot.pause()
        form = pilot.app.screen
        values = {"name": "demo-fast", "model": "", "base-url": "ftp://example", "api-key-env": "not a name",
                  "price-input": "cheap", "timeout": "-1"}  # fmt: skip
        for field_id, value in values.items():
            form.query_one(f"#{field_id}", Input).value = value
        form.query_one("#params", TextArea).text = '{"temperature": }'
        for widget in form.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        form.set_focus(None)
        await pilot.pause()

    assert snap(snap_compare, app_factory(), run_before, (100, 40))


# --- output views and run states ----------------------------------------------------------


def test_plain_view(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    run = saved(app, "run000000005", "What is time to first token?")

    async def run_before(pilot: Pilot) -> None:
        screen = await reopen(pilot, run)
        screen.output.cycle_view()
        await pilot.pause()

    assert snap(snap_compare, app, run_before)


def test_wire_view(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    run = saved(app, "run000000006", "What is time to first token?")

    async def run_before(pilot: Pilot) -> None:
        screen = await reopen(pilot, run)
        screen.output.cycle_view()
        screen.output.cycle_view()
        await pilot.pause()

    assert snap(snap_compare, app, run_before)


def test_cancelled_run(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    """A run cancelled half-way: what streamed stays, under a "cancelled" box. Fed as events."""

    async def run_before(pilot: Pilot) -> None:
        screen = await quiet(pilot)
        await pilot.press("f3")  # the live sidebar figures tick with the clock
        screen.output.begin_run("run000000007", "demo-long", True)
        for event in (RunStarted(run_id="run000000007", model_config="demo-long", stream=True),
                      TextDelta("The first part of a long answer, "), TextDelta("and then the user pressed")):  # fmt: skip
            screen.output.feed(event)
        screen.output.feed(Failed(
            error="cancelled by the user", error_type="cancelled", partial_response={"content": ""},
            metrics={}, run_id="run000000007", status="cancelled",
        ))  # fmt: skip
        screen.sub_title = "demo-fast · last run: demo-long cancelled"
        markdown = screen.output.query_one(StreamingMarkdown)
        await wait_until(pilot, lambda: markdown.source.endswith("pressed") and screen.output.status == "cancelled")

    assert snap(snap_compare, app_factory(), run_before)


def test_tool_conversation_turn_two(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    request = ChatRequest.from_dict({
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_paris", "name": "get_weather", "arguments": '{"city": "Paris"}'}]},
            {"role": "tool", "content": '{"temperature": 18}', "tool_call_id": "call_paris"},
        ],
    })  # fmt: skip
    run = saved(app, "run000000008", "", model="demo-tools", parent_run_id="run000000004",
                response={"content": "Paris: light rain, 18 °C.", "finish_reason": "stop"})  # fmt: skip
    run = run.model_copy(update={"request": request.to_dict()})

    async def run_before(pilot: Pilot) -> None:
        await reopen(pilot, run)

    assert snap(snap_compare, app, run_before)
