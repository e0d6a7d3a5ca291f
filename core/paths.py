"""Where llmwb keeps its files. Kept apart from `core.store` so finding the data dir
does not import SQLAlchemy (most of the app's start-up time).

The directory holds prompts, answers and wire frames: it is made private (0700) and
every file llmwb creates in it is 0600 (`private_file`), so other local users read
nothing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DB_FILE = "llmwb.db"  # the database, in the data dir
UNSAVED_DIR = "unsaved"  # runs the database would not take, beside it (core.store.recovery)
DIR_MODE = 0o700
FILE_MODE = 0o600


class DataDirError(Exception):
    """The data dir cannot be used (LLMWB_HOME names a file, no permission); one line."""


def data_dir() -> Path:
    home = os.environ.get("LLMWB_HOME")
    if home:
        path = Path(home).expanduser()
        source = f"LLMWB_HOME={home}"
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("llmwb", appauthor=False))
        source = "the data dir"
    ensure_private_dir(path, source)
    return path


def ensure_private_dir(path: Path, source: str = "the data dir") -> None:
    """Create `path` (0700) or tighten an existing one that this user owns."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        raise DataDirError(f"{source}: {path} exists and is not a directory") from None
    except OSError as error:
        raise DataDirError(f"{source}: cannot create {path}: {error.strerror or error}") from None
    if not path.is_dir():
        raise DataDirError(f"{source}: {path} is not a directory")
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            path.chmod(stat.S_IMODE(info.st_mode) & ~0o077)
    except OSError:  # a read-only mount: the files' own modes still protect them
        pass


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if missing, or tighten it if it exists, so a
    library that opens it later (SQLite, logging) never creates it world-readable."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, FILE_MODE)
    except FileNotFoundError:
        return
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def tighten_file(path: Path) -> None:
    """Make an existing file 0600 if it is looser (files from before llmwb did this)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(FILE_MODE)
    except OSError:
        pass


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (temp file + rename), mode 0600."""
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)


def names_the_database(path: Path, database: Path | None = None) -> bool:
    """Whether `path` is the database (default: the data dir's) or one of its journal
    files. A file the user names for a prompt, an import or an export must never be it:
    writing there destroys every run, and even reading it through a second descriptor
    drops this process's SQLite locks on it when that descriptor is closed (POSIX).
    Decided by file identity, from `stat` alone, never by opening the file."""
    try:
        database = database or data_dir() / DB_FILE
    except DataDirError:
        return False
    files = [database, *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]
    try:
        named = path.stat()
    except OSError:  # not there (yet): compare the names it would be created under
        try:
            return path.resolve() in {file.resolve() for file in files}
        except (OSError, RuntimeError):
            return False
    for file in files:
        try:
            found = file.stat()
        except OSError:
            continue
        if (found.st_dev, found.st_ino) == (named.st_dev, named.st_ino):
            return True
    return False
