"""Two things a start reads before trusting a file: which process owns a running run, even
when that process's name holds spaces and a ')' (core.store.owner), and a database file
that is damaged or cannot be read, refused in one line that says what to do (core.store.safety)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.store import Store
from core.store.owner import is_alive, process_marker
from core.store.safety import DatabaseRefused, check_existing


def _refusal(path: Path) -> str:
    with pytest.raises(DatabaseRefused) as refused:
        check_existing(path)
    return str(refused.value)


def test_a_process_named_with_a_parenthesis_and_spaces_keeps_its_start_time(tmp_path: Path) -> None:
    odd = tmp_path / "x) y z"  # the kernel's command name is the program's file name
    os.symlink(sys.executable, odd)
    child = subprocess.Popen([str(odd), "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        stat = Path(f"/proc/{child.pid}/stat").read_text()
        assert "(x) y z)" in stat
        start_ticks = stat.rpartition(")")[2].split()[19]  # proc(5) field 22, counted after the name
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        marker = process_marker(child.pid)
        assert marker == f"{boot}:{start_ticks}" and is_alive(child.pid, marker)
    finally:
        child.communicate(b"")


def test_a_file_whose_pages_are_damaged_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "llmwb.db"
    Store(path).close()
    data = bytearray(path.read_bytes())
    data[100:108] = b"\xff" * 8  # the first page's table header, after the intact file header
    path.write_bytes(bytes(data))
    assert _refusal(path) == (
        f"{path} is damaged (database disk image is malformed); restore a backup or move it away"
    )


def test_a_file_sqlite_cannot_read_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "llmwb.db"
    Store(path).close()
    path.with_name("llmwb.db-wal").mkdir()  # its write-ahead log cannot be opened
    assert _refusal(path) == (
        f"{path} is damaged or unreadable (unable to open database file); restore a backup or move it away"
    )
