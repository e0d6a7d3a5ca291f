"""Fixtures for the CLI tests: a fresh LLMWB_HOME per test and an in-process `llmwb`."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from tui import logsetup
from tui.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    monkeypatch.delenv("LLMWB_LOG_LEVEL", raising=False)
    yield tmp_path
    # main() configures the root logger for this home; leave no handler on a deleted dir.
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, (logsetup._LlmwbFileHandler, logsetup._NoLogFile)):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.WARNING)


@pytest.fixture
def llmwb(home: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `llmwb ARGS...` in-process; argparse's own usage errors come back as exit 2."""

    def invoke(*argv: str) -> Result:
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


@pytest.fixture
def store(home: Path):
    from core.seed import ensure_seeded
    from core.store import Store

    store = Store()
    ensure_seeded(store)
    return store
