"""The command palette (ctrl+p): one entry per workbench action, so anything a key
does can also be found by name."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (name, help, action string run on the main screen)
MAIN_SCREEN_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Run prompt", "Run the prompt on the selected model (ctrl+r)", "run"),
    ("Cancel run", "Stop the running request; it is saved as cancelled (ctrl+g)", "cancel"),
    ("Cycle output view", "Rendered → plain → wire frames", "cycle_view"),
    ("Copy output text", "The answer text, to the clipboard", "copy('text')"),
    ("Copy final JSON", "The run's done event (final or partial response and metrics)", "copy('json')"),
    ("Copy request as curl", "The request as a curl command; the API key stays an $ENV reference", "copy('curl')"),
    ("History", "The last 50 runs: reopen one or load its prompt (ctrl+o)", "history"),
    ("Compare stream vs non-stream", "The same request on the selected model, streamed and not (ctrl+t)", "compare_stream"),
    ("Compare models", "The same request on several models side by side (F8)", "compare_models"),
    ("Toggle model list", "Show or hide the left pane (F2)", "toggle_models"),
    ("Toggle metrics sidebar", "Show or hide the right pane (F3)", "toggle_metrics"),
    ("Toggle params", "Show or hide params, tools and the stream switch (F4)", "toggle_params"),
    ("Help: keys", "Every key, grouped (F1)", "app.help"),
)

# (name, help, action on the ModelList widget)
MODEL_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Add model", "A new model config", "add"),
    ("Edit model", "Edit the selected model config", "edit"),
    ("Duplicate model", "Copy the selected model config under a new name", "duplicate"),
    ("Delete model", "Delete the selected model config", "delete"),
    ("Test connection", "Check the selected model's endpoint and key", "test_connection"),
)


class WorkbenchCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        from tui.screens.main import MainScreen

        screen = self.screen
        if not isinstance(screen, MainScreen):
            return
        for name, help_text, action in MAIN_SCREEN_COMMANDS:
            yield name, help_text, partial(screen.run_action, action)
        models = screen.models
        for name, help_text, action in MODEL_COMMANDS:
            yield name, help_text, partial(models.run_action, action)

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

