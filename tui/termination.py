"""How the workbench ends, fast, without losing a run.

ctrl+q: every run still streaming is cancelled at once, with the quit as its reason
(saved by whoever streams it), and the app exits; the terminal is restored first, then
the process waits until no run needs it (a run on the core's I/O loops is saved; a
reader process has its run and the cancel, and saves it after the app has gone) and
ends without tearing the interpreter down (`finish`). Nothing the
app shows waits for those saves, and nothing else does either: the UI loop's helper
threads (an SDK import, a Markdown parse) and Textual's input thread are not joined.

SIGTERM or SIGHUP (a closed terminal) end the app the way ctrl+g ends a run: every run
still streaming is cancelled, the runner saves each as cancelled with what arrived,
and only then does the app exit (128 + the signal's number).

Also where the store's thread-side news reaches the screen: a save waiting on a lock,
a save given up (its data kept in unsaved/).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from textual.app import App

    from core.store import Store

log = logging.getLogger("llmwb")

SAVE_WAIT_S = 20.0  # how long the saves of cancelled runs may take before the app exits anyway
REASONS = {signal.SIGTERM: "terminated (SIGTERM)", signal.SIGHUP: "the terminal closed (SIGHUP)"}
QUIT_REASON = "llmwb was quit while it streamed (ctrl+q)"


class _UnjoinedExecutor(ThreadPoolExecutor):
    """The UI loop's default executor. `asyncio.run` joins it when the app ends, and a
    thread still importing an SDK (the warm-up, ~1-5 s on a busy machine) or parsing a
    long answer kept the process alive that long after ctrl+q. Nothing on it saves data
    (runs are saved on their own I/O loops), so the exit does not wait for it."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


def install(app: App[int]) -> None:
    """Route SIGTERM and SIGHUP to `end_runs_and_exit` on the app's loop."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(_UnjoinedExecutor(thread_name_prefix="llmwb-ui-helper"))
    pending: list[asyncio.Task[None]] = []

    def on_signal(signum: int) -> None:
        if not pending:  # once: a second signal must not cut the saves short
            pending.append(loop.create_task(end_runs_and_exit(app, signum)))

    for signum in REASONS:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests), no such signal
            pass


async def end_runs_and_exit(app: App[int], signum: int) -> None:
    store: Store | None = getattr(app, "store", None)
    own = store.running_run_ids(os.getpid()) if store is not None else []
    workers = [worker for worker in app.workers if not worker.is_finished]
    for worker in workers:
        worker.cancel()
    waits = [asyncio.ensure_future(_finished(worker)) for worker in workers]
    if waits:
        await asyncio.wait(waits, timeout=SAVE_WAIT_S)
    # The runs themselves go on on the I/O thread (core.iothread): a cancelled worker only
    # stopped drawing them. Cancel them and wait for their saves, so the reason below
    # lands on rows already saved as cancelled.
    from core.handle import settle

    await asyncio.to_thread(settle, SAVE_WAIT_S)
    reason = REASONS.get(signal.Signals(signum), "terminated")
    if store is not None:
        for run_id in own:
            store.note_cancel_reason(run_id, reason)
    log.info("exiting: %s; %d run(s) saved as cancelled", reason, len(own))
    app.exit(return_code=128 + signum)
    if signum == signal.SIGHUP and getattr(app, "owns_process", False):
        # The terminal is gone: there is nothing to restore, and Textual's shutdown, writing
        # its last escapes to it, blocked for ever once its writer's queue was full.
        _end_process(app)


def quit_now(app: App[int]) -> None:
    """ctrl+q: cancel every run at once (their saves start now, on their I/O loops), give
    the terminal back, then end the process once no run needs it (`finish`).

    In the real `llmwb` process (`run_app` marks it) Textual's own teardown is skipped:
    it unmounts every widget of every screen (six long compare columns: hundreds of ms)
    for a process about to end. Elsewhere (tests, an embedding) the app just exits."""
    from core.handle import settle

    # Cancels them all, each saved with the reason by whoever streams it (its reader
    # process): no write of the app's own at exit. Waiting for them is `finish`'s job.
    settle(0.0, QUIT_REASON)
    if getattr(app, "owns_process", False) and _restore_terminal(app):
        finish(app)
    app.exit()


def _restore_terminal(app: App[int]) -> bool:
    """Leave application mode now (alternate screen, mouse, raw input) and let the
    writer thread put that on the terminal. False when there is no real terminal."""
    # Textual has no public accessor for its driver; App.suspend() uses the same attribute.
    driver = getattr(app, "_driver", None)
    if driver is None or driver.is_headless:
        return False
    # Textual's Linux driver joins its input thread here, which polls in 0.1 s selects and
    # then makes one more 0.1 s select with nothing to watch: 100–200 ms of a quit spent
    # waiting for a thread the process is about to end anyway. So it is not joined: told to
    # stop (`exit_event`, set again after the driver clears it), it ends by itself.
    input_thread = getattr(driver, "_key_thread", None)
    exit_event = getattr(driver, "exit_event", None)
    if input_thread is not None and exit_event is not None:
        driver._key_thread = None
    driver.stop_application_mode()
    if input_thread is not None and exit_event is not None:
        exit_event.set()
    driver.close()  # drains and ends the writer thread: what it holds reaches the terminal
    return True


def finish(app: App[int]) -> NoReturn:
    """Once the terminal is restored: wait until the runs cancelled by the exit no longer
    need this process (saved here, or handed to a reader process that saves each with the
    quit as its reason after the app has gone), and end the process.

    `os._exit`, not a return: the interpreter's teardown (every module and every object
    of six long answers freed one by one, helper threads joined) took over a second,
    with nothing left to save."""
    from core.handle import hand_over

    if not hand_over(SAVE_WAIT_S):
        log.warning("exiting before every run in flight was saved (waited %.0f s)", SAVE_WAIT_S)
    _end_process(app)


def _end_process(app: App[int]) -> NoReturn:
    """Logs and output flushed, then the process ends without the interpreter's teardown."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(app.return_code or 0)


async def _finished(worker: object) -> None:
    try:
        await worker.wait()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001  (cancelled, failed or never started: all we wait for is the end)
        pass


def report_store_news(app: App[int], store: Store) -> None:
    """Show the store's messages (sent from its saving threads) as notifications."""
    loop = asyncio.get_running_loop()

    def show(message: str, severity: str) -> None:
        def notify() -> None:
            app.notify(message, title="Database", severity=severity, timeout=20)  # type: ignore[arg-type]

        try:
            loop.call_soon_threadsafe(notify)
        except RuntimeError:  # the loop is closed: the log has it
            pass

    store.on_wait = lambda message: show(message, "warning")
    store.on_save_failed = lambda _run_id, message: show(message, "error")
    for notice in store.notices:
        show(notice, "warning")
