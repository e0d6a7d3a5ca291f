"""F1's key list is built once and shown again (it was most of F1's cost): what it shows
must still be the keys of the screen it was opened over, from the top, every time."""

from __future__ import annotations

from typing import Callable

from textual.color import Color
from textual.containers import VerticalScroll

from core.request import ChatRequest
from output_host import wait_until
from tui.app import LlmwbApp
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen


def listed(app: LlmwbApp) -> str:
    assert isinstance(app.screen, HelpScreen)
    return " ".join(str(static.render()) for static in app.screen.query(".help-group"))


async def test_the_key_list_shows_the_keys_of_the_screen_it_opens_over(app_factory: Callable[..., LlmwbApp]) -> None:
    from tui.screens.compare_models import ModelsCompareScreen

    app = app_factory()
    echo = app.store.get_config("echo")
    assert echo is not None
    async with app.run_test(size=(140, 44)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        on_main = listed(app)
        assert "Compare models" in on_main and "Re-run all" not in on_main
        await pilot.press("escape")
        await app.push_screen(ModelsCompareScreen(ChatRequest.from_prompt("hello"), [echo, echo]))
        await pilot.pause()
        await pilot.press("f1")
        on_compare = listed(app)
        assert "Re-run all" in on_compare and "Stream/non-stream" in on_compare
        assert "Compare models" not in on_compare  # the workbench's keys, under the comparison: not these
        await pilot.press("escape")
        await pilot.press("escape")  # the comparison closes
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("f1")
        assert listed(app) == on_main


async def test_the_key_list_opens_at_its_top_again(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:  # shorter than the list: it scrolls
        await pilot.pause()
        await pilot.press("f1")
        box = app.screen.query_one(VerticalScroll)
        await pilot.pause()
        await pilot.press("end")
        assert box.scroll_y == box.max_scroll_y > 0
        await pilot.press("escape")
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.query_one(VerticalScroll).scroll_y == 0


async def test_the_key_list_asked_for_over_a_screen_above_it_opens_a_second_one(
    app_factory: Callable[..., LlmwbApp],
) -> None:
    app = app_factory()
    async with app.run_test(size=(140, 44)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        first = app.screen
        await pilot.press("ctrl+p")  # the command palette, over the key list
        await wait_until(pilot, lambda: app.screen is not first)
        palette = app.screen
        app.action_help()  # as the palette's "Help: keys" does
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen is not first)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is palette)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is first)


async def test_the_key_list_shown_again_wears_a_theme_chosen_while_it_was_closed(
    app_factory: Callable[..., LlmwbApp],
) -> None:
    app = app_factory()
    async with app.run_test(size=(140, 44)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        was = app.screen.query_one(VerticalScroll).styles.background
        await pilot.press("escape")
        app.theme = "textual-light" if app.current_theme.dark else "textual-dark"
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        now = app.screen.query_one(VerticalScroll).styles.background
        assert now != was
        assert now == Color.parse(app.get_css_variables()["surface"])
