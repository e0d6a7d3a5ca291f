"""The compare summary shows a "server says" column only when a run's server
reported its own timings (Ollama, llama.cpp)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from core.compare import RunOutcome, summarise
from tui.widgets.compare import SummaryTable

METRICS = {"ttft_ms": 100.0, "total_ms": 900.0, "decode_tps": 40.0, "completion_tokens": 30, "usage_source": "provider"}
OLLAMA = {"source": "ollama", "load_ms": 1200.0, "prompt_ms": 80.0, "decode_tps": 41.0}


class TableHost(App[None]):
    def compose(self) -> ComposeResult:
        yield SummaryTable(id="summary")


def outcome(label: str, response: dict) -> RunOutcome:
    return RunOutcome(label, True, "run" + label, "ok", METRICS, response)


async def test_server_column_appears_only_with_server_timings() -> None:
    app = TableHost()
    async with app.run_test(size=(200, 20)) as pilot:
        table = app.query_one(SummaryTable)
        table.show(summarise([outcome("cloud", {"finish_reason": "stop"})]))
        await pilot.pause()
        assert "server_says" not in [str(key.value) for key in table.columns]

        table.show(summarise([outcome("cloud", {}), outcome("local", {"server_timings": OLLAMA})]))
        await pilot.pause()
        assert [str(key.value) for key in table.columns][-2:] == ["server_says", "error"]
        cells = [str(cell) for cell in table.get_column("server_says")]
        assert cells == ["–", "load 1.2 s, prompt 80 ms, decode 41 tok/s"]


async def test_a_replaced_summary_is_drawn_whole_in_the_very_next_frame() -> None:
    """Every run's start and end replaces the summary's rows. A frame drawn before the table
    had measured the new rows showed each column cut to its title ("demo-", "stre",
    "runnin"): seen in a comparison snapshot."""
    app = TableHost()
    async with app.run_test(size=(200, 20)) as pilot:
        table = app.query_one(SummaryTable)
        await pilot.pause()
        table.show(summarise([outcome("demo-diff-long-name", {"finish_reason": "stop"})]))
        first_row = "".join(segment.text for segment in table.render_line(1))  # drawn now, no idle between
        assert "demo-diff-long-name" in first_row and "900 ms" in first_row, first_row
