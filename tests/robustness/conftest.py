"""Fixtures for the fault-injection tests: a fresh LLMWB_HOME and `llmwb` in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from inprocess_cli import Result, forget_log_handlers, invoke


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    monkeypatch.setenv("LLMWB_HOME", str(home))
    monkeypatch.delenv("LLMWB_LOCK_WAIT", raising=False)
    yield home
    forget_log_handlers()


@pytest.fixture
def llmwb(home: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`llmwb ARGS...` in-process; argparse's own usage errors come back as exit 2."""
    return lambda *argv: invoke(capsys, *argv)
