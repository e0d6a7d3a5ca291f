"""What the next start does with runs kept in `unsaved/` (core.store.recovery): a file
whose run the database refuses is left for a person to look at, and llmwb still opens."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from core.store import Store
from core.store.db import SaveFailed
from core.store.rows import RunRow


def _kept(folder: Path, run_id: str, run: dict[str, object]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{run_id}.json"
    path.write_text(json.dumps({"run": run, "frames": [[0.5, "data: x"]]}))
    return path


@pytest.mark.parametrize("run, why", [
    ({"id": "nomodel00001", "model_config_name": "c", "provider": "openai"},  # a field the row needs, missing
     "NOT NULL constraint failed: run.model"),
    ({"id": "badmodel0001", "model_config_name": "c", "provider": "openai", "model": {"not": "text"}},
     "Error binding parameter 6: type 'dict' is not supported"),
    ({"id": "baddate00001", "model_config_name": "c", "provider": "openai", "model": "m", "created_at": 5},
     "'int' object has no attribute 'utcoffset'"),
], ids=["missing model", "model not text", "date not text"])  # fmt: skip
def test_a_kept_run_the_database_refuses_stays_in_its_file_and_llmwb_opens(tmp_path: Path, caplog, run, why) -> None:
    path = tmp_path / "llmwb.db"
    Store(path).close()
    refused = _kept(tmp_path / "unsaved", str(run["id"]), run)
    good = _kept(tmp_path / "unsaved", "goodrun00001", {"id": "goodrun00001", "model_config_name": "c",
                                                        "provider": "openai", "model": "m", "status": "ok"})  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="llmwb"):
        store = Store(path)
    assert refused.exists() and not good.exists()
    assert store.get_run(str(run["id"])) is None and store.get_run("goodrun00001").status == "ok"  # type: ignore[union-attr]
    assert [r.getMessage() for r in caplog.records] == [f"cannot import the unsaved run {refused}: {why}"]
    store.close()


def test_a_run_refused_on_saving_is_kept_and_the_next_start_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "llmwb.db"
    store = Store(path)
    with pytest.raises(SaveFailed):
        store.finish_run(RunRow(id="refused00001", model=None), [])  # type: ignore[arg-type]
    store.close()
    Store(path).close()
    assert (tmp_path / "unsaved" / "refused00001.json").is_file()
