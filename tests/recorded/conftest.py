"""Fixtures for the recorded-response replays: a temp LLMWB_HOME and a key variable."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def llmwb_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    monkeypatch.setenv("RECORDED_REPLAY_KEY", "sk-replay")
    return tmp_path
