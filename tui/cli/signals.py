"""SIGTERM and SIGHUP end a headless run the way Ctrl-C does.

`kill PID` or a closed terminal used to kill the process where it stood, leaving the
run `running` with nothing saved. Inside `asyncio.run`, these signals now cancel the
main task, so the runner saves the run as cancelled with what arrived; the command
then exits 128 + the signal's number (143 for SIGTERM, 129 for SIGHUP), as a shell
reports a process that a signal ended.
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import contextmanager
from typing import Iterator

TERMINATING = (signal.SIGTERM, signal.SIGHUP)
REASONS = {signal.SIGTERM: "terminated (SIGTERM)", signal.SIGHUP: "the terminal closed (SIGHUP)"}


class Termination:
    """Which signal (if any) asked the command to end."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or 0)

    @property
    def reason(self) -> str:
        return REASONS.get(signal.Signals(self.signum), "terminated") if self.signum else "cancelled by the user"


@contextmanager
def cancel_on_signals(termination: Termination) -> Iterator[None]:
    """While inside, SIGTERM/SIGHUP cancel the running task (once; a second signal
    must not interrupt the save the first one started)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def on_signal(signum: int) -> None:
        if termination.signum is None and task is not None:
            termination.signum = signum
            task.cancel()

    installed = []
    for signum in TERMINATING:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal here
            pass
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
