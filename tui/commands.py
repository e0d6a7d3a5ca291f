"""The command palette (ctrl+p): one entry per workbench action, so anything a key
does can also be found by name. Each screen offers its own actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.screen import Screen

# (name, help, action string) — run on the screen, the model list, or a compare column.
Commands = tuple[tuple[str, str, str], ...]

MAIN_SCREEN_COMMANDS: Commands = (
    ("Run prompt", "Run the prompt on the selected model (ctrl+r)", "run"),
    ("Cancel run", "Stop the running request; it is saved as cancelled (ctrl+g)", "cancel"),
    (
        "Answer tool calls",
        "After a run that ended in tool calls: send a result for each, as its next turn (ctrl+l)",
        "answer_tool_calls",
    ),
    ("Cycle output view", "Rendered → plain → wire frames (ctrl+n)", "cycle_view"),
    ("Toggle reasoning", "Fold or unfold the run's reasoning (ctrl+f)", "toggle_reasoning"),
    ("Copy output text", "The answer text, to the clipboard", "copy('text')"),
    ("Copy final JSON", "The run's done event (final or partial response and metrics)", "copy('json')"),
    ("Copy request as curl", "The request as a curl command; the API key stays an $ENV reference", "copy('curl')"),
    ("History", "Every run: search, filter, reopen, load its prompt, delete, export (ctrl+o)", "history"),
    ("Compare stream vs non-stream", "The selected model, streamed and not (ctrl+t)", "compare_stream"),
    ("Compare models", "The same request on several models side by side (F8)", "compare_models"),
    ("Toggle model list", "Show or hide the left pane (F2)", "toggle_models"),
    ("Toggle metrics sidebar", "Show or hide the right pane (F3)", "toggle_metrics"),
    ("Toggle params", "Show or hide params, tools and the stream switch (F4)", "toggle_params"),
    ("Help: keys", "Every key, grouped (F1)", "app.help"),
)

MODEL_COMMANDS: Commands = (
    ("Add model", "A new model config", "add"),
    ("Edit model", "Edit the selected model config", "edit"),
    ("Duplicate model", "Copy the selected model config under a new name", "duplicate"),
    ("Delete model", "Delete the selected model config", "delete"),
    ("Test connection", "Check the selected model's endpoint and key", "test_connection"),
    ("Reload model configs", "Re-read the configs (ones added from a shell also appear by themselves)", "reload"),
)

MODELS_COMPARE_COMMANDS: Commands = (
    ("Re-run all models", "Send the request again to every column (a)", "rerun_all"),
    ("Sort the summary", "By its next column: model, mode, status, TTFT, total… (s)", "cycle_sort"),
    ("Back to the workbench", "Close the comparison; runs in flight are saved as cancelled (esc)", "back"),
    ("Help: keys", "Every key, grouped (F1)", "app.help"),
)

COLUMN_COMMANDS: Commands = (
    ("Re-run this column", "Run the focused column's model again (f5)", "rerun"),
    ("Switch column stream/non-stream", "The focused column's mode for its next run (m)", "toggle_mode"),
    ("Copy this column's answer", "The focused column's answer text, to the clipboard (y)", "copy_output"),
    ("Open this column's run on the workbench", "Close the comparison and show that run (o)", "open_on_main"),
)

STREAM_COMPARE_COMMANDS: Commands = (
    ("Re-run stream vs non-stream", "Both requests again (f5)", "rerun"),
    ("Toggle sequential/concurrent", "How the next re-run sends the two requests (c)", "toggle_concurrent"),
    ("Back to the workbench", "Close the comparison; runs in flight are saved as cancelled (esc)", "back"),
    ("Help: keys", "Every key, grouped (F1)", "app.help"),
)


@dataclass(frozen=True)
class BoundAction:
    """An entry's callback: `action` run on the node that owns it."""

    node: Any
    action: str

    def __call__(self) -> Any:
        return self.node.run_action(self.action)

    @property
    def available(self) -> bool:
        """False while the owner's check_action greys the action out (e.g. nothing to cancel)."""
        name = self.action.split("(", 1)[0]
        if "." in name:  # another node's action ("app.help"): always on
            return True
        return bool(self.node.check_action(name, ()))


def _bound(commands: Commands, node: Any) -> Iterator[tuple[str, str, BoundAction]]:
    for name, help_text, action in commands:
        yield name, help_text, BoundAction(node, action)


def screen_commands(screen: Screen) -> Iterator[tuple[str, str, BoundAction]]:
    """The palette entries for `screen` (the one the palette was opened on)."""
    # Imported here: the palette module loads when the palette first opens, and the
    # compare screens only when one is used.
    from tui.screens.compare_models import ModelsCompareScreen
    from tui.screens.compare_stream import StreamCompareScreen
    from tui.screens.main import MainScreen
    from tui.widgets.compare import CompareColumn

    if isinstance(screen, MainScreen):
        yield from _bound(MAIN_SCREEN_COMMANDS, screen)
        yield from _bound(MODEL_COMMANDS, screen.models)
    elif isinstance(screen, ModelsCompareScreen):
        yield from _bound(MODELS_COMPARE_COMMANDS, screen)
        # The column actions act on the column holding the focus, like its keys do.
        focused = screen.focused.ancestors_with_self if screen.focused else []
        column = next((node for node in focused if isinstance(node, CompareColumn)), None)
        if column is not None and column.rerunnable:
            yield from _bound(COLUMN_COMMANDS, column)
    elif isinstance(screen, StreamCompareScreen):
        yield from _bound(STREAM_COMPARE_COMMANDS, screen)


@dataclass(frozen=True)
class JumpToModel:
    """A palette entry that selects a model config on the main screen (ctrl+r then runs it)."""

    screen: Any
    name: str
    available = True

    def __call__(self) -> None:
        models = self.screen.models
        if models.filter_text:
            models.set_filter("")  # a filtered list may hide the model jumped to
        models.reload(select=self.name)
        models.focus()


def model_jumps(screen: Screen) -> Iterator[tuple[str, str, JumpToModel]]:
    """"Model: NAME" entries for the main screen's palette (fuzzy-matched like the rest)."""
    from tui.screens.main import MainScreen

    if not isinstance(screen, MainScreen):
        return
    try:
        configs = screen.app.store.list_configs()
    except Exception:  # no entries rather than a broken palette
        return
    for config in configs:
        yield f"Model: {config.name}", f"Select {config.provider} · {config.model}", JumpToModel(screen, config.name)


def _greyed(display: Content, callback: BoundAction | JumpToModel) -> Content:
    """Dim an entry that would do nothing now, as the footer dims its key."""
    return display if callback.available else display.stylize("dim")


class WorkbenchCommands(Provider):
    async def discover(self) -> Hits:
        for name, help_text, callback in screen_commands(self.screen):
            yield DiscoveryHit(_greyed(Content(name), callback), callback, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in [*screen_commands(self.screen), *model_jumps(self.screen)]:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _greyed(matcher.highlight(name), callback), callback, text=name, help=help_text)
