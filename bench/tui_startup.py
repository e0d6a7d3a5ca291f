"""Launch → first frame of the real `llmwb`, under a pseudo-terminal.

Spawns the app as a user would (a fresh interpreter, a real tty of 120×40) and
reads what it draws. Two clocks: the first frame (the start screen, or the main
screen if it comes first) and the main screen's first frame (the prompt box's
title is in it). Then quits it with ctrl+q.

    .venv/bin/python bench/tui_startup.py [--runs 5] [--command ".venv/bin/llmwb"]

Prints medians and worsts for a cold start (fresh data dir: the database is
created and seeded) and a warm start (the same data dir again).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shlex
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

FIRST_FRAME_MARKER = b"llmwb"  # in the start screen's line and in the main screen's header
MAIN_SCREEN_MARKER = b"Prompt"  # the prompt editor's border title
TIMEOUT_S = 20.0


def launch(command: list[str], home: Path) -> tuple[float, float]:
    """Seconds from spawn to the first frame, and to the main screen's first frame."""
    env = {**os.environ, "LLMWB_HOME": str(home), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child: become the app
        os.execvpe(command[0], command, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen = b""
    first = main_screen = None
    try:
        while time.perf_counter() - started < TIMEOUT_S:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen = (seen + chunk)[-65536:]
            now = time.perf_counter() - started
            if first is None and FIRST_FRAME_MARKER in seen:
                first = now
            if main_screen is None and MAIN_SCREEN_MARKER in seen:
                main_screen = now
                os.write(fd, b"\x11")  # ctrl+q
        _wait_for_exit(pid, fd)
    finally:
        os.close(fd)
    if first is None or main_screen is None:
        raise RuntimeError(f"no main screen within {TIMEOUT_S:.0f} s; last output: {seen[-400:]!r}")
    return first, main_screen


def _wait_for_exit(pid: int, fd: int) -> None:
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                if not os.read(fd, 65536):
                    break
            except OSError:
                break
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    default_command = str(Path(sys.executable).with_name("llmwb"))
    parser.add_argument("--command", default=default_command, help="what to launch (default: %(default)s)")
    args = parser.parse_args()
    command = shlex.split(args.command)

    cold, warm = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            cold.append(launch(command, home))
            warm.append(launch(command, home))
    for label, runs in (("cold (new database)", cold), ("warm", warm)):
        for index, what in ((0, "first frame"), (1, "main screen")):
            times = [run[index] * 1000 for run in runs]
            print(
                f"launch → {what}, {label:<20} median {statistics.median(times):5.0f} ms"
                f"   worst {max(times):5.0f} ms   ({len(times)} runs)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
