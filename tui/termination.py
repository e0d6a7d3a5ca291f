"""The workbench ends on SIGTERM or SIGHUP (a closed terminal) the way ctrl+g ends a
run: every run still streaming is cancelled, the runner saves each as cancelled with
what arrived, and only then does the app exit (128 + the signal's number).

Also where the store's thread-side news reaches the screen: a save waiting on a lock,
a save given up (its data kept in unsaved/).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

    from core.store import Store

log = logging.getLogger("llmwb")

SAVE_WAIT_S = 20.0  # how long the saves of cancelled runs may take before the app exits anyway
REASONS = {signal.SIGTERM: "terminated (SIGTERM)", signal.SIGHUP: "the terminal closed (SIGHUP)"}


def install(app: App[int]) -> None:
    """Route SIGTERM and SIGHUP to `end_runs_and_exit` on the app's loop."""
    loop = asyncio.get_running_loop()
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
