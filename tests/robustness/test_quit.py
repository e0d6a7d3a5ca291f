"""ctrl+q in the real workbench, mid-stream: the terminal comes back and the run is kept,
with what it streamed and why it ended. The app runs as a user runs it: `llmwb` on a
pseudo-terminal, its database read afterwards with sqlite3."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import termios
import time
from pathlib import Path
from typing import Callable

from inprocess_cli import Result
from robust_support import DEADLINE_S, LLMWB, db_rows, process_env
from waiting import poll
from tui.termination import QUIT_REASON

STALL = {
    "name": "stall-long", "api": "openai", "text": "One two three four five six seven eight.",
    "chunking": {"mode": "word"}, "timing": {"first_token_ms": 5, "gap_ms": 1},
    "fault": {"stall_after_chunks": 4, "stall_s": 120},
}  # fmt: skip
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"


def only_the_stalling_model(llmwb: Callable[..., Result], tmp_path: Path) -> Path:
    """The stalling model alone in the list (the demos removed), so the main screen selects
    it; set up in-process (only the app is what these tests start as a process: at a load
    of 25 each extra `llmwb` process took long enough to time the test out)."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "stall-long.json").write_text(json.dumps(STALL))
    listed = llmwb("models", "list", "--json")
    assert listed.code == 0
    for name in [config["name"] for config in json.loads(listed.out)]:
        assert llmwb("models", "remove", name).code == 0
    assert llmwb("models", "add", "stall-long", "--provider", "simulator", "--model", "stall-long").code == 0
    return scenarios


class Terminal:
    """`llmwb` on a pseudo-terminal of 120×40; what it draws is read as it comes."""

    def __init__(self, home: Path, scenarios: Path) -> None:
        env = {**process_env(home), "LLMWB_SCENARIO_DIR": str(scenarios), "TERM": "xterm-256color"}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child becomes the app
            os.execvpe(LLMWB, [LLMWB], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.drawn = b""
        self.status: int | None = None

    def read_until(self, wanted: bytes, what: str) -> None:
        """Read what the app draws until `wanted` is in it (a bound for a failing test only)."""
        end = time.monotonic() + DEADLINE_S
        start = len(self.drawn)
        while wanted not in self.drawn[max(start - len(wanted), 0) :]:
            left = end - time.monotonic()
            assert left > 0 and self._read(left), f"timed out waiting for {what}"

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # the app ended: its side of the terminal is closed
            return False
        self.drawn += chunk
        return bool(chunk)

    def press(self, key: bytes) -> None:
        os.write(self.fd, key)

    def wait_exit(self) -> int:
        end = time.monotonic() + DEADLINE_S
        while self._read(0.05) and time.monotonic() < end:
            pass
        done, status = os.waitpid(self.pid, 0 if time.monotonic() < end else os.WNOHANG)
        assert done, "llmwb did not exit after ctrl+q"
        self.pid = 0
        return os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_ctrl_q_mid_stream_restores_the_terminal_and_saves_the_run_with_its_reason(llmwb, home: Path, tmp_path: Path):
    scenarios = only_the_stalling_model(llmwb, tmp_path)
    terminal = Terminal(home, scenarios)
    try:
        terminal.read_until(b"No run yet", "the main screen")
        terminal.press(b"\x12")  # ctrl+r
        terminal.read_until(b"four", "the first words to stream (then it stalls)")
        terminal.press(b"\x11")  # ctrl+q
        code = terminal.wait_exit()
        line_mode = termios.tcgetattr(terminal.fd)[3]  # the terminal's local modes, as the app left them
    finally:
        terminal.close()

    assert code == 0
    assert LEAVE_ALTERNATE_SCREEN in terminal.drawn  # the user's terminal is back as it was
    assert line_mode & termios.ICANON and line_mode & termios.ECHO  # out of raw mode: a shell reads lines again
    # Its reader process saves it, with the quit as the reason, as the app ends or just after.
    [(status, error, response)] = poll(
        lambda: db_rows(home, "SELECT status, error, response FROM run WHERE status != 'running'"), "the run's save"
    )
    assert (status, error) == ("cancelled", QUIT_REASON)
    assert json.loads(response)["content"] == "One two three four"


def test_a_terminal_closed_mid_stream_ends_the_app_and_saves_the_run_with_its_reason(llmwb, home: Path, tmp_path: Path):
    """The window (or the SSH session) closes: the kernel hangs up the app's terminal. The
    run is saved with what it streamed, and the process ends rather than waiting for ever
    to write its last escapes to a terminal that is gone."""
    scenarios = only_the_stalling_model(llmwb, tmp_path)
    terminal = Terminal(home, scenarios)
    terminal.read_until(b"No run yet", "the main screen")
    terminal.press(b"\x12")  # ctrl+r
    terminal.read_until(b"four", "the first words to stream (then it stalls)")
    os.close(terminal.fd)  # the terminal goes away: SIGHUP to the app
    end = time.monotonic() + DEADLINE_S
    done, status = 0, 0
    while not done and time.monotonic() < end:
        done, status = os.waitpid(terminal.pid, os.WNOHANG)
        if not done:
            select.select([], [], [], 0.05)  # polling a child's exit; the deadline bounds it
    if not done:
        os.kill(terminal.pid, signal.SIGKILL)
        os.waitpid(terminal.pid, 0)
    assert done, "llmwb was still running after its terminal closed"
    assert os.waitstatus_to_exitcode(status) == 128 + signal.SIGHUP
    [(status_word, error, response)] = db_rows(home, "SELECT status, error, response FROM run")
    assert (status_word, error) == ("cancelled", "the terminal closed (SIGHUP)")
    assert json.loads(response)["content"] == "One two three four"
