"""The metrics sidebar shows what a local server said of itself (Ollama's durations,
llama.cpp's timings) in its own block under llmwb's figures, and only then."""

from __future__ import annotations

from textual.widgets import Static

from core.events import Finished
from output_host import OutputHost, screen_text
from tui.widgets.metrics import MetricsSidebar

METRICS = {"ttft_ms": 1290.0, "total_ms": 2300.0, "decode_tps": 40.1, "completion_tokens": 41, "usage_source": "provider"}
SERVER = {"source": "ollama", "load_ms": 1200.0, "prompt_ms": 80.0, "decode_tps": 41.0, "total_ms": 2290.0}


async def test_server_figures_show_beside_llmwbs_and_go_with_the_next_run() -> None:
    app = OutputHost()
    async with app.run_test(size=(110, 50)) as pilot:
        sidebar = app.query_one(MetricsSidebar)
        block = app.query_one("#metrics-server", Static)
        sidebar.begin_run(stream=True)
        sidebar.feed(Finished(final_response={"finish_reason": "stop", "server_timings": SERVER}, metrics=METRICS))
        await pilot.pause()
        shown = screen_text(app)
        assert "Server says · ollama" in shown
        for expected in ("1.2 s", "80 ms", "41.0 tok/s", "40.1 tok/s"):  # the server's figures, and llmwb's decode
            assert expected in shown
        assert block.display

        sidebar.begin_run(stream=True)  # a new run: the last run's server figures are not its own
        await pilot.pause()
        assert not block.display and "Server says" not in screen_text(app)


async def test_no_block_when_the_server_said_nothing() -> None:
    app = OutputHost()
    async with app.run_test(size=(110, 50)) as pilot:
        app.query_one(MetricsSidebar).show_metrics(METRICS, finish_reason="stop")
        await pilot.pause()
        assert not app.query_one("#metrics-server", Static).display
        assert "Server says" not in screen_text(app)
