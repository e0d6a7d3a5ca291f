"""Where llmwb keeps its files. Kept apart from `core.store` so finding the data dir
does not import SQLAlchemy (most of the app's start-up time)."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    home = os.environ.get("LLMWB_HOME")
    if home:
        path = Path(home).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("llmwb", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path
