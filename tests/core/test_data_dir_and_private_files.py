"""Where llmwb keeps its files and who may read them: the data dir (LLMWB_HOME or the XDG
data dir) is made and kept 0700, files llmwb creates are 0600 whatever the umask, a data
dir that cannot be used says why in one line, and a user's file is never the database."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.paths import DataDirError, data_dir, ensure_private_dir, names_the_database, private_file, tighten_file, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """A umask that would leave new files readable by everyone."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_the_data_dir_is_made_private_with_its_parents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LLMWB_HOME", "~/deep/llmwb")
    assert data_dir() == tmp_path / "deep" / "llmwb"
    assert mode(tmp_path / "deep" / "llmwb") == 0o700


def test_without_llmwb_home_it_is_llmwb_in_the_xdg_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMWB_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert data_dir() == tmp_path / "share" / "llmwb"
    assert mode(tmp_path / "share" / "llmwb") == 0o700


@pytest.mark.parametrize("loose, tight", [(0o755, 0o700), (0o751, 0o700), (0o777, 0o700), (0o644, 0o600), (0o500, 0o500)])
def test_an_existing_data_dir_of_this_user_is_tightened_keeping_its_own_bits(tmp_path: Path, loose: int, tight: int) -> None:
    folder = tmp_path / "home"
    folder.mkdir()
    folder.chmod(loose)
    ensure_private_dir(folder)
    assert mode(folder) == tight


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a folder to another user")
def test_a_data_dir_another_user_owns_is_left_as_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    os.chown(folder, 65534, 65534)
    ensure_private_dir(folder)
    assert mode(folder) == 0o755


def test_a_data_dir_that_cannot_be_used_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    monkeypatch.setenv("LLMWB_HOME", str(afile))
    with pytest.raises(DataDirError) as refused:
        data_dir()
    assert str(refused.value) == f"LLMWB_HOME={afile}: {afile} exists and is not a directory"
    monkeypatch.setenv("LLMWB_HOME", str(afile / "sub"))
    with pytest.raises(DataDirError) as refused:
        data_dir()
    assert str(refused.value) == f"LLMWB_HOME={afile / 'sub'}: cannot create {afile / 'sub'}: Not a directory"
    with pytest.raises(DataDirError, match=r"^the data dir: .* exists and is not a directory$"):
        ensure_private_dir(afile)  # a folder beside the data dir (unsaved runs) says the same
    monkeypatch.delenv("LLMWB_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(afile))
    with pytest.raises(DataDirError) as refused:
        data_dir()
    assert str(refused.value) == f"the data dir: cannot create {afile / 'llmwb'}: Not a directory"


def test_files_llmwb_creates_are_private_and_keep_what_they_hold(tmp_path: Path) -> None:
    new = tmp_path / "llmwb.log"
    private_file(new)
    assert new.exists() and mode(new) == 0o600
    old = tmp_path / "old.log"
    old.write_text("earlier lines\n")
    old.chmod(0o644)
    private_file(old)
    assert mode(old) == 0o600 and old.read_text() == "earlier lines\n"
    private_file(tmp_path / "missing" / "x.log")  # its folder is gone: nothing to protect
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o700])
def test_older_files_are_tightened(tmp_path: Path, loose: int) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("x")
    path.chmod(loose)
    tighten_file(path)
    assert mode(path) == (0o700 if loose == 0o700 else 0o600)
    tighten_file(tmp_path / "not-there")  # nothing to tighten, no error


def test_a_private_write_replaces_the_file_whole_and_private(tmp_path: Path) -> None:
    path = tmp_path / "export.yaml"
    path.write_text("old and longer text")
    path.chmod(0o644)
    write_private(path, "name: café\n")
    assert path.read_bytes() == "name: café\n".encode()
    assert mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.yaml"]


def test_a_users_file_is_never_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path / "home"))
    database = tmp_path / "home" / "llmwb.db"
    (tmp_path / "home").mkdir()
    database.write_bytes(b"SQLite format 3\0")
    (tmp_path / "home" / "llmwb.db-wal").write_bytes(b"")
    other = tmp_path / "prompt.txt"
    other.write_text("hi")
    linked = tmp_path / "hard-link.db"
    os.link(database, linked)
    (tmp_path / "symlink.txt").symlink_to(database)
    assert names_the_database(database)  # the default: the data dir's database
    assert names_the_database(linked) and names_the_database(tmp_path / "symlink.txt")
    assert names_the_database(tmp_path / "home" / "llmwb.db-wal")
    assert names_the_database(tmp_path / "home" / "llmwb.db-shm")  # not there yet: by its name
    assert names_the_database(tmp_path / "home" / "sub" / ".." / "llmwb.db-journal")
    assert not names_the_database(other)
    assert not names_the_database(tmp_path / "home" / "llmwb.db-backup")
    assert not names_the_database(other, database=tmp_path / "elsewhere.db")
    assert names_the_database(other, database=other)
    monkeypatch.setenv("LLMWB_HOME", str(other))  # a data dir that cannot be: nothing is it
    assert not names_the_database(database)


def test_a_journal_linked_under_another_name_is_the_database_even_with_no_wal(tmp_path: Path) -> None:
    database = tmp_path / "llmwb.db"
    database.write_bytes(b"SQLite format 3\0")
    (tmp_path / "llmwb.db-journal").write_bytes(b"")  # rollback journal mode: no -wal, no -shm
    os.link(tmp_path / "llmwb.db-journal", tmp_path / "notes.txt")
    assert names_the_database(tmp_path / "notes.txt", database=database)


def test_a_symlink_loop_is_not_the_database(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert not names_the_database(tmp_path / "a", database=tmp_path / "llmwb.db")
