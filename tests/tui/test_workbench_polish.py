"""Small promises of the workbench: refusals that say why, the header naming the right
model, a compare column opened on the workbench, screenshots without ~/Downloads."""

from __future__ import annotations

from collections.abc import Callable

from output_host import wait_until
from tui.app import LlmwbApp
from tui.screens.compare_stream import StreamCompareScreen
from tui.screens.main import MainScreen
from tui.widgets.compare import CompareColumn

RUN_TIMEOUT = 30.0


def notified(app: LlmwbApp, words: str) -> bool:
    return any(words in notification.message for notification in app._notifications)


async def test_comparisons_are_refused_while_a_run_streams(app_factory: Callable[..., LlmwbApp]) -> None:
    import asyncio

    from core.store.models import ModelConfig

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, never answers: the run is still going whenever we look

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    app = app_factory()
    app.store.save_config(ModelConfig(
        name="stalls", provider="openai-compatible", model="m", base_url=f"http://127.0.0.1:{port}/v1",
        params={"max_retries": 0},
    ))  # fmt: skip
    async with server, app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.models.reload(select="stalls")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.running)
        await pilot.press("ctrl+t")
        await pilot.press("f8")
        assert app.screen is screen and notified(app, "A run is going")
        # Moving the selection mid-stream: the header names both, never the wrong one alone.
        screen.models.reload(select="echo")
        await pilot.pause()
        assert screen.sub_title == "echo · last run: stalls running"
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: not screen.running, timeout=RUN_TIMEOUT)
        assert screen.sub_title == "echo · last run: stalls cancelled"


async def test_a_compare_column_opens_on_the_workbench(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        main = app.screen
        assert isinstance(main, MainScreen)
        main.models.reload(select="echo")
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, StreamCompareScreen))
        compare = app.screen
        columns = list(compare.query(CompareColumn))
        await wait_until(pilot, lambda: all(c.status == "ok" for c in columns), timeout=RUN_TIMEOUT)
        columns[1].focus()
        await pilot.press("o")
        await wait_until(pilot, lambda: app.screen is main)
        await wait_until(pilot, lambda: main.output.text == columns[1].output.text and main.output.text)
        assert main.metrics.final_metrics is not None and main.metrics.final_metrics.get("stream") is False


async def test_screenshots_go_to_the_data_dir(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.deliver_screenshot()
        folder = app.data_dir / "screenshots"
        await wait_until(pilot, lambda: folder.exists() and any(folder.iterdir()), timeout=RUN_TIMEOUT)
        await wait_until(pilot, lambda: notified(app, str(folder)), timeout=RUN_TIMEOUT)


async def test_tab_never_lands_on_an_invisible_stop(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert "metrics-scroll" not in [widget.id for widget in screen.focus_chain]
        # The output pane says when it has the keys (v, r): its header changes look.
        header = screen.output.query_one("#output-header")
        unfocused = header.styles.background
        screen.output.query_one("#rendered").focus()
        await pilot.pause()
        assert header.styles.background != unfocused
