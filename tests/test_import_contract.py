"""The core/UI line, kept by machine: the import-linter contract in pyproject.toml,
and the core's import cost (no UI, no provider SDK until a run needs one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_import_linter_contracts_hold():
    result = subprocess.run([str(LINT_IMPORTS)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_importing_the_runner_loads_no_ui_and_no_sdk():
    probe = (
        "import sys, core.runner, core.events, core.store, core.providers.registry\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'tui', 'openai', 'anthropic'})\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
