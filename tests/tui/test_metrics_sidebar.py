"""MetricsSidebar: live figures while streaming, final figures with the estimated mark."""

from __future__ import annotations

from typing import Callable

from textual.widgets import Sparkline, Static

from core.events import Failed, Finished, TextDelta
from core.request import ChatRequest
from core.runner import RunOptions, start_run
from core.store.models import ModelConfig, Run
from output_host import OutputHost, wait_until
from tui.app import LlmwbApp
from tui.screens.main import MainScreen
from tui.widgets.metrics import MetricsSidebar
from tui import format as fmt

FINAL_METRICS = {
    "ttfb_ms": 41.2, "ttft_ms": 152.3, "total_ms": 2345.6, "chunks": 321,
    "itl_p50_ms": 5.1, "itl_p95_ms": 12.04, "itl_max_ms": 40.2, "tpot_ms": 6.8, "decode_tps": 147.06,
    "prompt_tokens": 12, "completion_tokens": 812, "reasoning_tokens": 0, "cached_tokens": 0, "total_tokens": 824,
    "usage_source": "estimated", "cost_usd": 0.00012345, "output_chars": 3248,
    "request_id": "req_0123456789abcdef", "retries": 1, "stream": True,
}  # fmt: skip


def figures(app: OutputHost) -> str:
    return str(app.query_one("#metrics-figures", Static).render())


async def test_live_figures_are_the_cores_and_live_ttft_is_the_final_ttft() -> None:
    """No widget clock: the live TTFT is the core's stamp, so it is the final TTFT exactly."""
    config = ModelConfig(name="sim", provider="simulator", model="demo-long")
    app = OutputHost()
    async with app.run_test(size=(110, 40)) as pilot:
        sidebar = app.query_one(MetricsSidebar)
        # Started once the app is up (its start-up can outlast the scripted first-token delay).
        handle = start_run(config, ChatRequest.from_prompt("go"), RunOptions(phases=True))
        sidebar.begin_run(handle)
        assert "waiting" in figures(app)  # TTFT not known yet
        live_ttft = None
        async for batch in handle.batches():
            for event in batch:
                sidebar.feed(event)
                if isinstance(event, Finished):
                    final = event.metrics
                # Read live right after the first text, before the rest of its batch: on a loaded
                # machine one batch held the whole run, and its end had replaced the live rows.
                if live_ttft is None and isinstance(event, TextDelta):
                    await wait_until(pilot, lambda: "waiting" not in figures(app).split("TTFT")[1].splitlines()[0])
                    live_ttft = figures(app).split("TTFT")[1].splitlines()[0].strip()
                    assert "~" in figures(app).split("tokens")[1].splitlines()[0]
                    await wait_until(pilot, lambda: any(app.query_one(Sparkline).data or []))
        await pilot.pause()
        assert live_ttft == fmt.duration(final["ttft_ms"]) and fmt.duration(final["ttft_ms"]) in figures(app)
        assert sidebar.final_metrics == final


async def test_final_figures_mark_estimated_usage() -> None:
    app = OutputHost()
    async with app.run_test(size=(110, 40)) as pilot:
        sidebar = app.query_one(MetricsSidebar)
        sidebar.begin_run(stream=True)
        sidebar.feed(Finished(final_response={"finish_reason": "stop"}, metrics=FINAL_METRICS))
        await pilot.pause()
        shown = figures(app)
        assert "Tokens · ~ estimated" in shown
        assert "~812" in shown and "~$0.000123" in shown
        for expected in ("152 ms", "2.35 s", "12 ms", "~147.1 tok/s", "req_0123456789abcdef", "stop"):
            assert expected in shown
        assert sidebar.final_metrics == FINAL_METRICS


async def test_provider_usage_has_no_estimated_mark_and_failure_shows_status() -> None:
    app = OutputHost()
    async with app.run_test(size=(110, 40)) as pilot:
        sidebar = app.query_one(MetricsSidebar)
        sidebar.begin_run(stream=True)
        metrics = {**FINAL_METRICS, "usage_source": "provider"}
        sidebar.feed(
            Failed(error="cut", error_type="stream_cut", partial_response={"finish_reason": "error"}, metrics=metrics)
        )
        await pilot.pause()
        shown = figures(app)
        assert "estimated" not in shown and "~" not in shown
        assert "error" in shown.split("status")[1].splitlines()[0]


async def test_a_reopened_run_that_was_cut_off_before_its_figures_says_how_it_was_sent(
    app_factory: Callable[..., LlmwbApp],
) -> None:
    """A run whose process was killed mid-call is kept without figures (metrics `{}`, status
    `interrupted`): reopened, its sidebar said "stream yes" whatever the run was."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: any(isinstance(screen, MainScreen) for screen in app.screen_stack))
        screen = next(screen for screen in app.screen_stack if isinstance(screen, MainScreen))
        for stream in (False, True):
            run = Run(model_config_name="demo-fast", provider="simulator", model="demo-fast", stream=stream,
                      request=ChatRequest.from_prompt("hi", stream=stream).to_dict(), status="error",
                      error_type="interrupted", error="the process ended mid-run", metrics={})  # fmt: skip
            app.store.create_run(run)
            screen.open_run(run)
            row = "stream".ljust(11) + ("yes" if stream else "no").rjust(15)  # as the sidebar lays it out
            await wait_until(pilot, lambda: row in str(screen.metrics.query_one("#metrics-figures", Static).render()))


def test_snapshot_sidebar_final_metrics(snap_compare) -> None:
    async def show_final(pilot) -> None:
        pilot.app.query_one(MetricsSidebar).show_metrics(FINAL_METRICS, finish_reason="stop")
        await pilot.pause()

    assert snap_compare(OutputHost(), terminal_size=(80, 36), run_before=show_final)
