"""Fixtures the TUI tests share: the real app on a temp data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tui.app import LlmwbApp, create_app

NOTIFICATION_KEPT_S = 300.0


@pytest.fixture
def app_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., LlmwbApp]:
    """`app_factory()` builds the app on a temp LLMWB_HOME (seeded with the demo models,
    main screen first). Call it again for a second app on the same data (a restart)."""
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    # Keys a developer happens to have set must not change what the tests see.
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)

    def make(data_dir: Path | None = None) -> LlmwbApp:
        app = create_app(data_dir or tmp_path)
        # A toast stays 5 s; a test starved of CPU for longer (a loaded 2-core machine) looked
        # for it after it had gone, and failed though the user had been told.
        app.NOTIFICATION_TIMEOUT = NOTIFICATION_KEPT_S
        return app

    return make
