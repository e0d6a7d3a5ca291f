"""The workbench app: opens the store, seeds the demo models, shows the main screen.

Thin on purpose — the screens and widgets do the work. Start-up is paced for a
first frame well under a second: this module imports only Textual; `llmwb`
paints a one-line start screen at once while a thread imports the storage layer
(SQLAlchemy is most of the start-up cost) and opens the database, then the main
screen replaces it. Provider SDKs are imported only after that, off the event loop.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from tui import textual_fixes

if TYPE_CHECKING:
    from textual.driver import Driver

    from core.store import Store

log = logging.getLogger("llmwb")
textual_fixes.apply()


def _command_providers() -> Any:
    # Imported when the palette first opens, not at start-up.
    from tui.commands import WorkbenchCommands

    return WorkbenchCommands


def open_store(data_dir: Path | None) -> tuple[Path, Store]:
    """The data dir (default: `$LLMWB_HOME` or the user data dir) and the database in
    it, seeded with the demo models on first use."""
    from core.seed import ensure_seeded
    from core.store import Store
    from core.store.prune import apply_retention
    from tui.logsetup import register_key_env
    from core.paths import data_dir as default_data_dir

    path = Path(data_dir) if data_dir is not None else default_data_dir()
    path.mkdir(parents=True, exist_ok=True)
    store = Store(path / "llmwb.db")
    ensure_seeded(store)
    apply_retention(store)
    register_key_env(config.api_key_env for config in store.list_configs())  # redacted from the log
    return path, store


class StartingScreen(Screen[None]):
    """Shown for the fraction of a second the database takes to open, or with the
    reason it could not be opened."""

    DEFAULT_CSS = """
    StartingScreen {
        align: center middle;
    }
    StartingScreen #starting {
        width: auto;
        max-width: 90%;
        height: auto;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("llmwb — opening the database…", id="starting")

    def show_failure(self, message: str) -> None:
        self.query_one("#starting", Static).update(f"llmwb could not start: {message}\n\nctrl+q quits.")


class LlmwbApp(App[int]):
    TITLE = "llmwb"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {_command_providers}
    HELP_GROUP = "Anywhere"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
    ]

    data_dir: Path
    store: Store
    owns_process = False  # run_app's app: quitting ends the process once the runs are saved

    def __init__(self, data_dir: Path | None = None, store: Store | None = None) -> None:
        """With `store` (opened in `data_dir`), the main screen is the first screen; without,
        the database is opened in a thread behind a start screen."""
        super().__init__()
        self._requested_data_dir = data_dir
        if store is not None and data_dir is not None:
            self.data_dir, self.store = data_dir, store

    def get_driver_class(self) -> type[Driver]:
        driver_class = super().get_driver_class()
        if driver_class.__name__ == "LinuxDriver":  # a terminal (not the web, a test, $TEXTUAL_DRIVER)
            from tui.driver import QuickEscapeDriver, use_quick_escape

            use_quick_escape()
            return QuickEscapeDriver
        return driver_class

    def on_mount(self) -> None:
        from tui import termination

        termination.install(self)
        if hasattr(self, "store"):
            self._show_main()
        else:
            self.push_screen(StartingScreen())
            self.run_worker(
                lambda: open_store(self._requested_data_dir), name="open-store", thread=True, exit_on_error=False
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.name == "open-store" and event.state == WorkerState.SUCCESS:
            self.data_dir, self.store = worker.result
            self._show_main()
        elif worker.name == "open-store" and event.state == WorkerState.ERROR:
            gc.enable()
            log.error("could not open the database: %s", worker.error)
            if isinstance(self.screen, StartingScreen):
                self.screen.show_failure(_failure_text(worker.error))

    def _show_main(self) -> None:
        from tui.screens.main import MainScreen
        from tui.termination import report_store_news

        report_store_news(self, self.store)
        if isinstance(self.screen, StartingScreen):
            self.switch_screen(MainScreen())
        else:
            self.push_screen(MainScreen())
        self.call_after_refresh(self._settle)

    def _settle(self) -> None:
        if not gc.isenabled():  # run_app() turned it off for start-up
            settle_gc()
        self.run_worker(_warm_up_sdks, name="warm-up", thread=True, exit_on_error=False)

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """The palette's Screenshot: saved under the data dir, not ~/Downloads, which a server
        reached over SSH seldom has (Textual then fails). The toast says where it went."""
        if path is None and not self.is_web:
            folder = screenshot_dir(getattr(self, "data_dir", None))
            path = str(folder)
        return super().deliver_screenshot(filename, path, time_format)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _INPUT) and not event.is_forwarded:
            # Streams wait while this input's effect is drawn (render_budget: input first).
            from tui.widgets.output.render_budget import hold_for_input, release_input_hold

            hold_for_input()
            self.call_after_refresh(release_input_hold)
        await super().on_event(event)

    async def action_quit(self) -> None:
        from tui.termination import quit_now

        quit_now(self)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen, show_help

        if not isinstance(self.screen, (HelpScreen, StartingScreen)):
            show_help(self, self.screen)


_INPUT = (events.Key, events.MouseDown, events.MouseScrollUp, events.MouseScrollDown)


def _failure_text(error: BaseException | None) -> str:
    """One clear line: refusals (a foreign, newer or damaged file, a bad LLMWB_HOME) say
    what to do themselves; anything else keeps its type for the bug report."""
    from core.paths import DataDirError
    from core.store.migrations import NewerSchema
    from core.store.safety import DatabaseRefused

    if isinstance(error, (DatabaseRefused, DataDirError)):
        return str(error)
    if isinstance(error, NewerSchema):
        return f"the database was {error}"
    cause = getattr(error, "orig", None) or error
    return f"{type(cause).__name__}: {cause}"


def screenshot_dir(data_dir: Path | None) -> Path:
    """`<data dir>/screenshots`, created; the working directory when that cannot be made."""
    if data_dir is not None:
        folder = Path(data_dir) / "screenshots"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return folder
        except OSError:
            pass
    return Path.cwd()


def settle_gc() -> None:
    """Collector settings for a long-lived UI, once start-up is over. Start-up objects
    live as long as the app: frozen, the collector no longer walks them. A streaming
    answer allocates tens of thousands of short-lived objects a second; with the default
    threshold (700) the young generation was collected hundreds of times a second and
    older ones often enough to pause frames (bench/tui_stream.py: key p95 139 → 34 ms,
    chunk visible p95 369 → 122 ms)."""
    gc.enable()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _warm_up_sdks() -> None:
    """Start the reader process the first run streams in (core.readerproc), which imports
    what a run needs while idle. Runs on this process's threads instead (LLMWB_READER=thread):
    import the provider SDKs (~1 s each) in the background, so the first run neither
    waits for them nor counts their import in its timings."""
    from core.readerproc import prewarm

    if prewarm():
        return
    from core.providers.http import import_sdks

    import_sdks("openai", "anthropic")  # openai first: most configs speak its protocol


def create_app(data_dir: Path | None = None) -> LlmwbApp:
    """The app on `data_dir` (default: `$LLMWB_HOME` or the user data dir), with its
    store open: the main screen is the first screen (the factory tests use)."""
    path, store = open_store(data_dir)
    return LlmwbApp(path, store)


def run_app() -> NoReturn:
    """`llmwb` with no subcommand: first frame at once, database opened behind it.
    Never returns: once the terminal is restored and the runs cancelled by the exit are
    saved or handed to their reader processes, the process ends (tui.termination.finish)."""
    gc.disable()  # start-up allocates a lot and frees little; LlmwbApp._settle -> settle_gc()
    app = LlmwbApp()
    app.owns_process = True  # ctrl+q may end the process itself (tui.termination.quit_now)
    app.run()
    from tui.termination import finish

    finish(app)
