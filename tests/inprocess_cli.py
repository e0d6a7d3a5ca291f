"""`llmwb` called in-process, as the CLI, robustness, hostile and serve tests do where a
real process is not what is being tested: its exit code and what it printed."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

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

    def one_line_error(self) -> str:
        """The stderr of a refused command: exactly one line, no traceback."""
        assert "Traceback" not in self.err, self.err
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        return lines[0]


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """`llmwb ARGS...` in this process; argparse's own usage errors come back as exit 2."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return Result(code, out, err)


def forget_log_handlers() -> None:
    """main() configures the root logger for its LLMWB_HOME: leave no handler on a deleted dir."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, (logsetup._LlmwbFileHandler, logsetup._NoLogFile)):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.WARNING)
