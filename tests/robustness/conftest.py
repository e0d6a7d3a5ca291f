"""Fixtures for the fault-injection tests: a fresh LLMWB_HOME and `llmwb` in-process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import pytest
from robust_support import Result

from tui import logsetup
from tui.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    monkeypatch.setenv("LLMWB_HOME", str(home))
    monkeypatch.delenv("LLMWB_LOCK_WAIT", raising=False)
    yield home
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, (logsetup._LlmwbFileHandler, logsetup._NoLogFile)):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.WARNING)


@pytest.fixture
def llmwb(home: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`llmwb ARGS...` in-process; argparse's own usage errors come back as exit 2."""

    def invoke(*argv: str) -> Result:
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


