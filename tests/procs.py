"""Processes as Linux's /proc shows them: a state, a parent, the children (tests that check
what llmwb's processes do around the one under test); and ending one a test started."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _fields(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields from the state on (field 3 of proc(5)); None once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # the command name (field 2) may hold spaces and ')'


def alive(pid: int) -> bool:
    """Running or sleeping: not gone, and not a zombie waiting to be reaped (it has ended)."""
    fields = _fields(pid)
    return fields is not None and fields[0] != "Z"


def parent(pid: int) -> int:
    fields = _fields(pid)
    assert fields is not None, f"process {pid} is gone"
    return int(fields[1])


def children(pid: int) -> list[int]:
    """Every process whose parent is `pid`, zombies included."""
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and (fields := _fields(int(entry.name))) is not None and int(fields[1]) == pid]  # fmt: skip


def end(process: subprocess.Popen, grace_s: float = 15) -> None:  # type: ignore[type-arg]
    """SIGTERM, then SIGKILL if it has not ended within the grace; reaped either way."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace_s)
