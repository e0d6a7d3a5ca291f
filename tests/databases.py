"""Database files for tests: a template made once per process, copied where a first start
would create the file (migrating anew for every test or app cost ~6–11 ms of CPU each)."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.paths import DB_FILE


def copy_database(template: Path, folder: Path) -> None:
    """`template` as `folder`'s database file, with the permissions a first start gives it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / DB_FILE)
    (folder / DB_FILE).chmod(0o600)
