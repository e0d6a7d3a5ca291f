"""Every field label is readable: drawn with at least 4.5:1 contrast (WCAG AA for text)
against what is behind it, in the default dark and light themes, focused or not.

Labels are border titles (System, Prompt, temperature, Base URL, prices…). Textual
draws a title in its border's colour unless told otherwise, and an unfocused field's
border is nearly the background: this is the check that they stay visible. It reads
the segments Textual renders for each label's row, so it measures what is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rich.segment import Segment
from textual.geometry import Region
from textual.widget import Widget

from output_host import wait_until
from tui.app import LlmwbApp
from tui.widgets.models.model_form import ModelFormScreen

MIN_CONTRAST = 4.5
THEMES = ("textual-dark", "textual-light")


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def label_segments(widget: Widget, label: str) -> Iterator[Segment]:
    """The drawn segments of `widget`'s top border row that hold the label's text."""
    (strip,) = widget.render_lines(Region(0, 0, widget.outer_size.width, 1))
    for segment in strip:
        if segment.text.strip() and segment.text.strip() in label:
            yield segment


def label_contrasts(app: LlmwbApp) -> list[tuple[str, float]]:
    found = []
    for widget in app.screen.walk_children(Widget):
        title = widget.border_title
        if not title or not widget.display or not widget.region.area:
            continue
        label = str(title)
        for segment in label_segments(widget, label):
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            fg, bg = style.color.get_truecolor(), style.bgcolor.get_truecolor()
            ratio = contrast(tuple(fg), tuple(bg))
            if style.dim:  # dim halves the foreground's distance to the background
                ratio = contrast(tuple((f + b) // 2 for f, b in zip(fg, bg)), tuple(bg))
            found.append((label, ratio))
    return found


async def check(app: LlmwbApp, where: str) -> None:
    measured = label_contrasts(app)
    assert measured, f"no labels found on {where}"
    low = [(label, round(ratio, 2)) for label, ratio in measured if ratio < MIN_CONTRAST]
    assert not low, f"{app.theme}, {where}: labels below {MIN_CONTRAST}:1: {low}"


@pytest.mark.parametrize("theme", THEMES)
async def test_every_label_is_readable(theme: str, app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(140, 48)) as pilot:
        app.theme = theme
        await pilot.pause()
        await pilot.press("f4")  # the params: temperature, max_tokens, more params…
        await pilot.pause()
        await check(app, "the workbench (prompt focused)")
        app.screen.models.focus()  # type: ignore[attr-defined]
        await pilot.pause()
        await check(app, "the workbench (model list focused)")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelFormScreen))
        await check(app, "the model form")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        await check(app, "history")
        await pilot.press("escape", "f9")
        await pilot.pause()
        await check(app, "the copy menu")
        await pilot.press("escape", "f1")
        await pilot.pause()
        await check(app, "help")
