"""Fixtures for the CLI tests: a fresh LLMWB_HOME per test and an in-process `llmwb`."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from inprocess_cli import Result, forget_log_handlers, invoke


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    monkeypatch.delenv("LLMWB_LOG_LEVEL", raising=False)
    yield tmp_path
    forget_log_handlers()


@pytest.fixture
def llmwb(home: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `llmwb ARGS...` in-process; argparse's own usage errors come back as exit 2."""
    return lambda *argv: invoke(capsys, *argv)


@pytest.fixture
def store(home: Path):
    from core.seed import ensure_seeded
    from core.store import Store

    store = Store()
    ensure_seeded(store)
    return store
