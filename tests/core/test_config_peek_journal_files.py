"""`llmwb models list` reads configs straight from the file (core.store.peek) while the app
may have it open: the journal files an older llmwb left readable are made private, as the
store makes them, and the app's latest change is what is listed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.seed import ensure_seeded
from core.store import Store
from core.store.models import ModelConfig
from core.store.peek import peek_configs


def test_a_peek_while_the_app_writes_lists_its_change_and_makes_the_journals_private(tmp_path: Path) -> None:
    path = tmp_path / "llmwb.db"
    app = Store(path)  # the app, open meanwhile: its writes sit in the -wal file
    ensure_seeded(app)
    app.save_config(ModelConfig(name="aaa-just-added", provider="ollama", model="qwen"))
    journals = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    for journal in journals:
        os.chmod(journal, 0o644)
    peeked = peek_configs(path)
    modes = [stat.S_IMODE(journal.stat().st_mode) for journal in journals]
    app.close()
    assert peeked is not None and peeked[0].name == "aaa-just-added"
    assert modes == [0o600, 0o600]
