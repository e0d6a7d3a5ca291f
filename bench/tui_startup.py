"""Launch → first frame of the real `llmwb`, under a pseudo-terminal.

Spawns the app as a user would (a fresh interpreter, a real tty of 120×40),
reads what it draws, and stops the clock when the main screen's first frame is on
the wire (the prompt box's title is in it). Then quits it with ctrl+q.

    .venv/bin/python bench/tui_startup.py [--runs 5] [--command ".venv/bin/llmwb"]

Prints the median and worst of a cold start (fresh data dir: the database is
created and seeded) and of warm starts (the same data dir again).
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

FIRST_FRAME_MARKER = b"Prompt"  # the prompt editor's border title, drawn in the main screen's first frame
TIMEOUT_S = 20.0


def launch_to_first_frame(command: list[str], home: Path) -> float:
    """Seconds from spawn to the first frame of the main screen."""
    env = {**os.environ, "LLMWB_HOME": str(home), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child: become the app
        os.execvpe(command[0], command, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen = b""
    elapsed = None
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
            if elapsed is None and FIRST_FRAME_MARKER in seen:
                elapsed = time.perf_counter() - started
                os.write(fd, b"\x11")  # ctrl+q
        _wait_for_exit(pid, fd)
    finally:
        os.close(fd)
    if elapsed is None:
        raise RuntimeError(f"no first frame within {TIMEOUT_S:.0f} s; last output: {seen[-400:]!r}")
    return elapsed


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
            cold.append(launch_to_first_frame(command, home))
            warm.append(launch_to_first_frame(command, home))
    for label, times in (("cold (new database)", cold), ("warm", warm)):
        print(
            f"launch → first frame, {label:<20} median {statistics.median(times) * 1000:6.0f} ms"
            f"   worst {max(times) * 1000:6.0f} ms   ({len(times)} runs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
