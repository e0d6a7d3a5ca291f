"""Keys typed on a real terminal reach the workbench through its own input thread
(tui/driver.py, which hands a lone Esc over as soon as its wait is over): Esc alone is
Esc, with no other key pressed after it; a key's escape sequence is that key, not Esc
and some letters; plain keys and the exit still work."""

from __future__ import annotations

import asyncio
import os
import pty
import queue
import signal
import threading
import tty
from collections.abc import Iterator

import pytest
from textual import events
from textual.app import App
from textual.message import Message

from tui.driver import QuickEscapeDriver

FAIL_AFTER_S = 10.0  # a bound for a failing test, not a synchronisation


class RecordingDriver(QuickEscapeDriver):
    """The input thread reading a pseudo-terminal; the keys it makes are recorded."""

    def __init__(self, fd: int) -> None:
        super().__init__(App())
        self.fileno = fd
        self.keys: queue.Queue[str] = queue.Queue()

    def process_message(self, message: Message) -> None:
        if isinstance(message, events.Key):
            self.keys.put(message.key)

    def next_key(self) -> str:
        return self.keys.get(timeout=FAIL_AFTER_S)


@pytest.fixture
def terminal() -> Iterator[tuple[int, RecordingDriver]]:
    """(the keyboard's end of a pseudo-terminal, a driver reading the other end)."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTSTP, signal.SIGCONT)}
    keyboard, screen_side = pty.openpty()
    tty.setraw(screen_side)  # as the app's terminal: each byte readable as it is typed

    async def made_on_a_loop() -> RecordingDriver:  # a driver keeps the loop it was made on
        return RecordingDriver(screen_side)

    driver = asyncio.run(made_on_a_loop())
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    try:
        yield keyboard, driver
    finally:
        driver.exit_event.set()
        thread.join(FAIL_AFTER_S)
        os.close(keyboard)
        os.close(screen_side)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert not thread.is_alive(), "the input thread did not stop when the app exited"


def test_esc_alone_is_delivered_without_another_key(terminal: tuple[int, RecordingDriver]) -> None:
    keyboard, driver = terminal
    os.write(keyboard, b"\x1b")
    assert driver.next_key() == "escape"
    os.write(keyboard, b"q")
    assert driver.next_key() == "q"


def test_escape_sequences_are_their_keys(terminal: tuple[int, RecordingDriver]) -> None:
    keyboard, driver = terminal
    for sequence, key in ((b"\x1bOP", "f1"), (b"\x1b[A", "up"), (b"\x1b[F", "end"), (b"\x1b[19~", "f8")):
        os.write(keyboard, sequence)
        assert driver.next_key() == key
    os.write(keyboard, b"\x1b")
    assert driver.next_key() == "escape"
    assert driver.keys.empty()
