"""Fixtures every test directory may use: a store in a temp LLMWB_HOME, and a
scripted simulator on 127.0.0.1 (port 0)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.store import Store


@pytest.fixture
def store(tmp_path, monkeypatch) -> Store:
    """A Store in its own temp LLMWB_HOME (never the user's data dir)."""
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    return Store()


@pytest.fixture
async def simulator() -> AsyncIterator:
    """A started SimulatorServer with the built-in scenarios; `add_scenario` to script more."""
    from core.simulator import SimulatorServer

    server = SimulatorServer(host="127.0.0.1", port=0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# Directories and modules whose tests drive a Textual app: marked `tui`, so
# `pytest -m "not tui"` is the fast lane (core, CLI, simulator, providers).
_TUI_TEST_PATHS = ("tests/tui/", "tests/compare/test_compare_screens.py", "tests/compare/test_compare_snapshots.py")


def pytest_collection_modifyitems(config, items) -> None:  # type: ignore[no-untyped-def]
    root = str(config.rootpath)
    for item in items:
        path = str(item.path)[len(root) + 1 :] if str(item.path).startswith(root) else str(item.path)
        if path.startswith(_TUI_TEST_PATHS) or "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.tui)
