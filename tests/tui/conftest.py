"""Fixtures the TUI tests share: the real app on a temp data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from core.paths import DB_FILE
from databases import copy_database
from tui.app import LlmwbApp, create_app, open_store

NOTIFICATION_KEPT_S = 300.0


@pytest.fixture(scope="session")
def seeded_database_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file as the app's first start leaves it (migrated, demo models and tools
    seeded), made once per process by the app's own `open_store`."""
    _, store = open_store(tmp_path_factory.mktemp("seeded-database"))
    store.close()  # the last connection folds the WAL into the file: the file is all of it
    return store.path


@pytest.fixture
def app_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seeded_database_file: Path
) -> Callable[..., LlmwbApp]:
    """`app_factory()` builds the app on a temp LLMWB_HOME (seeded with the demo models,
    main screen first). Call it again for a second app on the same data (a restart).
    A data dir without a database gets a copy of a first start's: migrating and seeding
    anew cost each app ~6 ms of CPU, 3% of its start (what a test put there is left alone)."""
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    # Keys a developer happens to have set must not change what the tests see.
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)

    def make(data_dir: Path | None = None) -> LlmwbApp:
        folder = data_dir or tmp_path
        if not (folder / DB_FILE).exists():
            copy_database(seeded_database_file, folder)
        app = create_app(folder)
        # A toast stays 5 s; a test starved of CPU for longer (a loaded 2-core machine) looked
        # for it after it had gone, and failed though the user had been told.
        app.NOTIFICATION_TIMEOUT = NOTIFICATION_KEPT_S
        return app

    return make
