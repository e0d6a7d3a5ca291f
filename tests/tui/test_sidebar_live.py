"""The metrics sidebar on its own (a host app holding only it, a RunHandle whose live
figures the test sets): what it shows idle, live from the core's figures (redrawn by its
4 Hz timer, never timed by it), the exchange's phase and a retry's countdown on the
core's clock, the sparkline of characters per 250 ms of arrival time, the final figures
with the server's own block, and a reopened run."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Sparkline, Static

from core.events import (
    CONNECTING, HEADERS, RETRYING, SENT, Failed, Finished, Phase, ReasoningDelta, RefusalDelta, RunStarted, TextDelta,
    ToolCallDelta,
)  # fmt: skip
from core.handle import RunHandle
from core.store.models import RunFrame
from output_host import screen_text, wait_until
from tui.widgets.metrics import MetricsSidebar

SERVER = {"source": "ollama", "load_ms": 1200.0, "prompt_ms": 80.0, "decode_tps": 41.0, "total_ms": 2290.0}


class SidebarHost(App[None]):
    def compose(self) -> ComposeResult:
        yield MetricsSidebar(id="metrics")  # as the main screen names it (and finds it, and hides it)


def live(**figures: Any) -> dict[str, Any]:
    """Figures as core.metrics.live_figures gives them: a run that has sent nothing back yet."""
    return {"elapsed_ms": 50.0, "ttfb_ms": None, "ttft_ms": None, "chunks": 0, "tokens": 0, "tps": None, **figures}


def handle(figures: dict[str, Any], *, stream: bool = True) -> RunHandle:
    """A run whose live figures are `figures` as they are when the sidebar asks (the test updates them)."""
    return RunHandle("run-1", "sim", stream, lambda: dict(figures))


def lines(app: App) -> list[str]:
    return str(app.query_one("#metrics-figures", Static).render()).splitlines()


def row(app: App, label: str) -> str | None:
    """The value on the row labelled `label` (label left in 11 columns, value right in 15)."""
    values = [line[11:].strip() for line in lines(app) if line[:11].strip() == label]
    assert len(values) <= 1, lines(app)
    return values[0] if values else None


def spark(app: App) -> list[float]:
    return list(app.query_one("#metrics-spark", Sparkline).data or [])


def server_block(app: App) -> Static:
    return app.query_one("#metrics-server", Static)


async def test_idle_it_says_no_run_yet_under_the_sparklines_caption() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 30)):
        assert app.query_one("#metrics") is app.query_one(MetricsSidebar)
        assert lines(app) == ["Metrics", "no run yet"]
        assert screen_text(app).splitlines()[:2] == [" Metrics", " no run yet"]  # a column's margin at the edge
        assert str(app.query_one("#metrics-spark-caption", Static).render()) == "tokens / 250 ms"
        assert spark(app) == [] and not server_block(app).display


async def test_live_figures_are_the_cores_shown_at_once_and_redrawn_by_the_timer() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 30)) as pilot:
        sidebar = app.query_one(MetricsSidebar)
        figures = live(elapsed_ms=250.0, ttfb_ms=41.2, ttft_ms=200.0, chunks=12, tokens=30, tps=40.0)
        sidebar.begin_run(handle(figures))
        # At once, not at the first tick: what the core says when the run starts.
        assert lines(app)[0] == "Live · streaming"
        assert (row(app, "elapsed"), row(app, "TTFB"), row(app, "TTFT")) == ("250 ms", "41 ms", "200 ms")
        assert (row(app, "chunks"), row(app, "tokens")) == ("12", "~30")
        assert row(app, "speed") == "—"  # 50 ms since the first token: too short for a rate
        figures.update(elapsed_ms=1300.0, chunks=40, tokens=120, tps=95.5)
        await wait_until(pilot, lambda: row(app, "elapsed") == "1.30 s")
        assert (row(app, "chunks"), row(app, "tokens"), row(app, "speed")) == ("40", "~120", "~95.5 tok/s")
        assert sidebar.final_metrics is None


async def test_a_rate_without_a_first_token_time_is_left_to_the_core() -> None:
    """A non-streamed call has no TTFT and no decode window: its rate is shown as the core gives it."""
    app = SidebarHost()
    async with app.run_test(size=(40, 30)):
        sidebar = app.query_one(MetricsSidebar)
        sidebar.begin_run(handle(live(elapsed_ms=900.0, chunks=5, tokens=40, tps=12.0), stream=False))
        assert lines(app)[0] == "Live · not streamed"
        assert (row(app, "TTFT"), row(app, "speed")) == ("waiting…", "~12.0 tok/s")
        sidebar.begin_run(handle(live(elapsed_ms=None, ttft_ms=100.0, chunks=5, tokens=40, tps=12.0)))
        assert (row(app, "elapsed"), row(app, "speed")) == ("—", "~12.0 tok/s")


async def test_without_a_handle_the_run_is_shown_as_it_was_sent() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 30)):
        sidebar = app.query_one(MetricsSidebar)
        for stream, heading in ((False, "not streamed"), (True, "streaming"), (None, "streaming")):
            sidebar.begin_run(stream=stream)
            assert lines(app)[0] == f"Live · {heading}", stream
        assert (row(app, "elapsed"), row(app, "TTFB"), row(app, "TTFT")) == ("—", "waiting…", "waiting…")
        assert (row(app, "chunks"), row(app, "tokens"), row(app, "speed")) == ("0", "~0", "—")
        sidebar.clear()
        sidebar.feed(RunStarted(run_id="run-1", model_config="sim", stream=False))  # the run's own first event
        assert lines(app)[0] == "Live · not streamed"


async def test_a_run_started_event_does_not_replace_the_run_shown() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 30)):
        sidebar = app.query_one(MetricsSidebar)
        sidebar.begin_run(handle(live(chunks=7)))
        sidebar.feed(RunStarted(run_id="run-1", model_config="sim", stream=False))
        sidebar._tick()  # as the timer would
        assert lines(app)[0] == "Live · streaming" and row(app, "chunks") == "7"


async def test_the_phase_shows_until_content_flows_and_a_retry_counts_down_on_the_cores_clock() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 30)):
        sidebar = app.query_one(MetricsSidebar)
        figures = live(elapsed_ms=5.0)
        sidebar.begin_run(handle(figures))
        assert len(lines(app)) == 7  # heading and six rows: no phase yet
        sidebar.feed(Phase(CONNECTING, 0.0))
        sidebar._tick()  # as the timer would
        assert lines(app)[-1] == "connecting…"
        sidebar.feed(Phase(SENT, 2.0))
        sidebar._tick()
        assert lines(app)[-1] == "request sent, waiting for the response…"
        sidebar.feed(Phase(RETRYING, 1000.0, attempt=1, http_status=429, retry_in_s=7.4, max_retries=2))
        figures.update(elapsed_ms=1000.0)
        sidebar._tick()
        assert lines(app)[-1] == "HTTP 429 — retrying in 7 s (1/2)"
        figures.update(elapsed_ms=3600.0)  # 2.6 s of the core's clock later
        sidebar._tick()
        assert lines(app)[-1] == "HTTP 429 — retrying in 5 s (1/2)"
        figures.update(elapsed_ms=9000.0, chunks=3)  # past the wait (never negative), content or not
        sidebar._tick()
        assert lines(app)[-1] == "HTTP 429 — retrying in 0 s (1/2)"
        sidebar.feed(Phase(RETRYING, 9000.0, attempt=2, retry_in_s=1.0, max_retries=3))  # no status: a dropped line
        sidebar._tick()
        assert lines(app)[-1] == "retrying in 1 s (2/3)"
        sidebar.feed(Phase(RETRYING, 9500.0, attempt=2, http_status=503, max_retries=3))  # no wait given
        sidebar._tick()
        assert lines(app)[-1] == "HTTP 503 — retrying in a moment (2/3)"
        sidebar.feed(Phase(RETRYING, 10_000.0, attempt=3, http_status=429, retry_in_s=60.0, max_retries=3))
        figures.update(elapsed_ms=39_510.0)  # 29.51 s into a minute's wait: 30.49 s left
        sidebar._tick()
        assert lines(app)[-1] == "HTTP 429 — retrying in 30 s (3/3)"
        sidebar.feed(Phase(HEADERS, 70_000.0, attempt=4, http_status=200))
        figures.update(elapsed_ms=70_000.0, chunks=0)
        sidebar._tick()
        assert lines(app)[-1] == "HTTP 200 after 70000.0 ms"
        figures.update(chunks=1)  # once content flows, the figures say more than the phase
        sidebar._tick()
        assert len(lines(app)) == 7
        assert lines(app)[-1].startswith("speed")


async def test_without_the_cores_figures_a_retry_says_what_it_was_told() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 30)):
        sidebar = app.query_one(MetricsSidebar)
        sidebar.begin_run(stream=True)
        sidebar.feed(Phase(CONNECTING, 0.0, attempt=2))
        sidebar._tick()  # as the timer would
        assert lines(app)[-1] == "connecting… (attempt 2)"
        sidebar.feed(Phase(RETRYING, 100.0, attempt=1, http_status=429, retry_in_s=7.4, max_retries=2))
        sidebar._tick()
        assert lines(app)[-1] == "HTTP 429 — retrying in 7.4 s (1/2)"  # no clock to count down on


async def test_the_sparkline_counts_every_kind_of_text_in_the_quarter_second_it_arrived() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 30)) as pilot:
        sidebar = app.query_one(MetricsSidebar)
        figures = live(elapsed_ms=100.0)
        sidebar.begin_run(handle(figures))
        for event in (
            TextDelta("abcdefgh", offset_ms=10.0),  # 8 characters at 0-250 ms
            ReasoningDelta("abcd", offset_ms=260.0),  # 4 at 250-500 ms
            ToolCallDelta(0, "call_1", "f", '{"a": 12345}', offset_ms=760.0),  # 12 at 750-1000 ms
            RefusalDelta("nope", offset_ms=999.9),  # and 4 more there
            TextDelta("not stamped", offset_ms=None),  # no arrival time: on no bucket
        ):
            sidebar.feed(event)
        figures.update(elapsed_ms=1300.0)  # the run goes on, silent: a stall draws as zeros up to now
        expected = [0.0, 2.0, 1.0, 0.0, 4.0, 0.0, 0.0]  # estimated tokens (characters / 4), from a zero baseline
        await wait_until(pilot, lambda: spark(app) == expected)
        sidebar.feed(TextDelta("abcd", offset_ms=1400.0))
        figures.update(elapsed_ms=1420.0)
        await wait_until(pilot, lambda: spark(app) == expected[:-1] + [1.0])
        # The run's end draws the last partial quarter second, up to the final total.
        sidebar.feed(Finished(final_response={"finish_reason": "stop"}, metrics={"total_ms": 1800.0, "chunks": 5}))
        assert spark(app) == expected[:-1] + [1.0, 0.0, 0.0]


async def test_the_sparkline_keeps_the_last_30_seconds_and_nothing_before_text_came() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 30)):
        sidebar = app.query_one(MetricsSidebar)
        figures = live(elapsed_ms=2000.0)
        sidebar.begin_run(handle(figures))
        sidebar._tick()  # as the timer would
        assert spark(app) == []  # time passed but no text: no line drawn yet
        sidebar.feed(TextDelta("abcd", offset_ms=100.0))
        sidebar.feed(TextDelta("abcdefgh", offset_ms=40_100.0))  # quarter second 160
        figures.update(elapsed_ms=39_900.0)  # the core's clock read before the last stamp: the stamp decides
        sidebar._tick()
        assert spark(app) == [0.0] + [0.0] * 119 + [2.0]  # quarters 41-160: the first one is out of sight
        figures.update(elapsed_ms=40_400.0)
        sidebar._tick()
        assert spark(app) == [0.0] + [0.0] * 118 + [2.0, 0.0]


async def test_final_figures_replace_the_live_ones_and_a_late_tick_does_not_bring_them_back() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 60)):
        sidebar = app.query_one(MetricsSidebar)
        figures = live(elapsed_ms=900.0, chunks=30)
        sidebar.begin_run(handle(figures))
        metrics = {"ttft_ms": 152.3, "total_ms": 2345.6, "chunks": 321, "stream": True}
        sidebar.feed(Finished(final_response={"finish_reason": "length", "server_timings": SERVER}, metrics=metrics))
        assert lines(app)[0] == "Timing" and row(app, "finish") == "length" and row(app, "status") is None
        assert sidebar.final_metrics == metrics
        assert str(server_block(app).render()).splitlines()[0] == "Server says · ollama"
        assert server_block(app).display
        sidebar._tick()  # a tick already due when the run ended
        assert lines(app)[0] == "Timing" and row(app, "TTFT") == "152 ms"

        sidebar.begin_run(handle(figures))
        failed = Failed(error="cut", error_type="stream_cut", partial_response={"finish_reason": "error"},
                        metrics={"total_ms": 800.0}, status="cancelled")  # fmt: skip
        sidebar.feed(failed)
        assert (row(app, "status"), row(app, "finish")) == ("cancelled", "error")
        assert not server_block(app).display  # the last run's server figures are not this one's

        sidebar.show_metrics({"total_ms": 10.0}, server_timings={"total_ms": 9.0})  # a server that did not say who
        total = "total".ljust(11) + "9.0 ms".rjust(15)
        assert str(server_block(app).render()).splitlines() == ["Server says · server", total]
        sidebar.clear()
        assert lines(app) == ["Metrics", "no run yet"] and not server_block(app).display and spark(app) == []


async def test_a_reopened_run_draws_its_own_sparkline_not_the_last_runs() -> None:
    app = SidebarHost()
    async with app.run_test(size=(40, 30)):
        sidebar = app.query_one(MetricsSidebar)
        sidebar.begin_run(handle(live(elapsed_ms=500.0)))
        sidebar.feed(TextDelta("abcdefgh", offset_ms=10.0))
        sidebar._tick()  # as the timer would
        assert spark(app) == [0.0, 2.0, 0.0, 0.0]
        sidebar.feed(Finished(final_response={}, metrics={"total_ms": 510.0}))
        assert spark(app) == [0.0, 2.0, 0.0, 0.0]  # the run's own, kept once it is over
        sidebar.show_metrics({"total_ms": 600.0, "stream": False}, finish_reason="stop")  # reopened from history
        assert spark(app) == [] and row(app, "stream") == "no"
        frame = 'data: {"choices": [{"delta": {"content": "abcdefgh"}}]}'
        sidebar.show_saved_spark([RunFrame(run_id="r", seq=0, offset_ms=300.0, data=frame)])
        assert spark(app) == [0.0, 0.0, 2.0]
        sidebar.begin_run(handle(live(elapsed_ms=600.0)))  # a new run: none of the old run's counts
        sidebar.feed(TextDelta("abcd", offset_ms=300.0))
        sidebar._tick()
        assert spark(app) == [0.0, 0.0, 1.0, 0.0]
