"""Which process owns a `running` run, in a form that survives pid reuse.

A run row records the pid that streams it and a start marker of that process (the
boot id and the process's start time in clock ticks, from /proc). On the next start
llmwb asks whether that exact process still exists: the pid alone is not enough,
since after a reboot or enough forks another process may carry it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_marker(pid: int) -> str | None:
    """'<boot id>:<start ticks>' of process `pid`, or None where /proc does not tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20:
        return None
    return f"{_boot_id()}:{fields[19]}"  # field 22 of proc(5): starttime


_own: tuple[int, str | None] | None = None
_adopted: tuple[int, str | None] | None = None


def adopt_owner(pid: int, marker: str | None) -> None:
    """Record another process as the owner of the runs this one writes: a reader process
    (core.readerchild) streams the app's runs, and the app is the process that answers
    for them (its SIGTERM handling looks for its own; if it dies, they are interrupted)."""
    global _adopted
    _adopted = (pid, marker)


def current_owner() -> tuple[int, str | None]:
    """This process's (pid, marker), or the one it adopted; computed once per process
    (again after a fork)."""
    global _own
    if _adopted is not None:
        return _adopted
    pid = os.getpid()
    if _own is None or _own[0] != pid:
        _own = (pid, process_marker(pid))
    return _own


def is_alive(pid: int | None, marker: str | None) -> bool:
    """Whether the process that wrote (pid, marker) still runs. No pid: not trackable,
    counted as gone (rows from before owners were recorded)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except (OverflowError, OSError):
        return False
    if marker:
        now = process_marker(pid)
        if now is not None and now != marker:
            return False  # the pid was reused by another process
    return True
