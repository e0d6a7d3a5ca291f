"""Helpers for the fault-injection tests: `llmwb` as a real process, bounded polling
(never a bare sleep) for what a process does, and reading its database as a user would."""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from inprocess_cli import Result
from waiting import DEADLINE_S

LLMWB = str(Path(sys.executable).with_name("llmwb"))


def process_env(home: Path, **extra: str) -> dict[str, str]:
    # The scenario dir is the suite's own (tests/conftest.py: an `unpaced` test's copies).
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMWB_") or k == "LLMWB_SCENARIO_DIR"}
    return {**env, "LLMWB_HOME": str(home), **extra}


def run_process(home: Path, *argv: str, **env: str) -> Result:
    done = subprocess.run(
        [LLMWB, *argv], env=process_env(home, **env), capture_output=True, text=True, timeout=DEADLINE_S
    )
    return Result(done.returncode, done.stdout, done.stderr)


def read_json_line(process: subprocess.Popen[str], deadline_s: float = DEADLINE_S) -> dict[str, Any]:
    """The next JSON line the process prints, within the deadline."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], deadline_s)
    assert ready, "no output from llmwb before the deadline"
    line = process.stdout.readline()
    assert line, "llmwb ended without output"
    return json.loads(line)


def db_rows(home: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the llmwb database with plain sqlite3 (as a user would)."""
    path = home / "llmwb.db"
    if not path.exists():
        return []
    conn = sqlite3.connect(path, timeout=DEADLINE_S)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()
