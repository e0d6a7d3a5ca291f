"""How the main screen looks: idle, after an error, with tool calls, at 80×24, mid-stream.

Deterministic by construction: runs use simulator scenarios (fixed text), and the
figures that depend on the clock (run id, timings, speed) are replaced by fixed ones
before the screenshot. Focus sits on the model list (or nowhere) so no text cursor blinks.
Regenerate with `pytest tests/tui/test_snapshots.py --snapshot-update` and look at
the SVGs before committing them.
"""

from __future__ import annotations

from typing import Callable

from textual.pilot import Pilot
from textual.widgets import TextArea

from core.events import RunStarted, TextDelta, ToolCallDelta
from core.store.models import ModelConfig
from output_host import wait_until
from tui.app import LlmwbApp
from tui.screens.main import MainScreen
from tui.widgets.output.cards import ToolCallCard
from tui.widgets.output.markdown_stream import StreamingMarkdown

RUN_TIMEOUT = 20.0

# Stand-ins for everything a clock decides.
FIXED_RUN_ID = "0123456789ab"
FIXED_TIMINGS = {
    "ttfb_ms": 12.0, "ttft_ms": 250.0, "total_ms": 900.0, "itl_p50_ms": 10.0, "itl_p95_ms": 14.0,
    "itl_max_ms": 21.0, "tpot_ms": 11.0, "decode_tps": 90.9, "request_id": "req_fixed",
}  # fmt: skip


def _main(pilot: Pilot) -> MainScreen:
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def _select(pilot: Pilot, name: str) -> MainScreen:
    screen = _main(pilot)
    screen.models.reload(select=name)
    # No blinking text cursor in a screenshot: focus the list, or nothing when it is hidden
    # (80×24), and stop the blink timers (one may fire after the blur and redraw the cursor).
    screen.set_focus(screen.models if screen.models.display else None)
    for text_area in screen.query(TextArea):
        text_area.cursor_blink = False
    await wait_until(pilot, lambda: (c := screen.models.selected_config) is not None and c.name == name)
    return screen


async def _run_and_mask(pilot: Pilot, name: str) -> None:
    """Run on `name` for real, then show the saved run with clock-made figures fixed."""
    screen = await _select(pilot, name)
    await pilot.press("ctrl+r")
    await wait_until(
        pilot, lambda: not screen.running and screen.output.status in ("ok", "error"), timeout=RUN_TIMEOUT
    )
    app: LlmwbApp = pilot.app  # type: ignore[assignment]
    [saved] = app.store.list_runs()
    # A figure the run has gets its stand-in; so does the decode rate of a streamed answer
    # of several tokens, which a no-delay stream may leave without a window to measure
    # (all of it in one packet): the screen is under test here, not that stream's pace.
    decodes = saved.metrics.get("ttft_ms") is not None and (saved.metrics.get("completion_tokens") or 0) >= 2
    fixed = {
        key: value for key, value in FIXED_TIMINGS.items()
        if saved.metrics.get(key) is not None or (decodes and key in ("tpot_ms", "decode_tps"))
    }  # fmt: skip
    masked = saved.model_copy(update={"id": FIXED_RUN_ID, "metrics": {**saved.metrics, **fixed}})
    screen.output.show_run(masked, [])
    screen.metrics.show_metrics(
        masked.metrics, status=masked.status, finish_reason=(masked.response or {}).get("finish_reason")
    )
    screen.sub_title = f"{name} · {masked.status}"
    await wait_until(pilot, lambda: screen.output.status in ("ok", "error"))  # "loading" until drawn


def test_main_screen_idle(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        await _select(pilot, "demo-fast")

    assert snap_compare(app_factory(), terminal_size=(140, 40), run_before=run_before)


def test_main_screen_at_80x24(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        await _run_and_mask(pilot, "echo")

    assert snap_compare(app_factory(), terminal_size=(80, 24), run_before=run_before)


def test_main_screen_after_an_error(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    app.store.save_config(ModelConfig(name="rate-limited", provider="simulator", model="fault-429", params={"max_retries": 0}))

    async def run_before(pilot: Pilot) -> None:
        await _run_and_mask(pilot, "rate-limited")

    assert snap_compare(app, terminal_size=(140, 40), run_before=run_before)


def test_main_screen_with_tool_calls(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        await _run_and_mask(pilot, "demo-tools")

    assert snap_compare(app_factory(), terminal_size=(140, 40), run_before=run_before)


def test_main_screen_mid_stream(snap_compare, app_factory: Callable[..., LlmwbApp]) -> None:  # type: ignore[no-untyped-def]
    """Scripted events stand in for a stream that is half-way: the answer so far and a
    tool call whose arguments are still arriving. The metrics sidebar (live figures
    tick with the clock) is hidden with F3."""

    async def run_before(pilot: Pilot) -> None:
        screen = await _select(pilot, "demo-fast")
        await pilot.press("f3")
        screen.output.begin_run(FIXED_RUN_ID, "demo-fast", True)
        events = [
            RunStarted(run_id=FIXED_RUN_ID, model_config="demo-fast", stream=True),
            TextDelta("Streaming lets a client show an answer "),
            TextDelta("while the model is still writing it.\n\nThree numbers describe"),
            ToolCallDelta(index=0, id="call_A", name="get_weather", arguments_delta='{"city": "Par'),
        ]
        for event in events:
            screen.output.feed(event)
        screen.sub_title = "demo-fast · running"
        # Everything fed is drawn (the pane draws on its own timer).
        markdown = screen.output.query_one(StreamingMarkdown)
        await wait_until(pilot, lambda: markdown.source.endswith("Three numbers describe"))
        await wait_until(pilot, lambda: len(screen.output.query(ToolCallCard)) == 1)

    assert snap_compare(app_factory(), terminal_size=(140, 40), run_before=run_before)
