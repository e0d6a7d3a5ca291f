"""Hostile and mistaken input from the command line and from files: one line on
stderr, exit 2, nothing saved — never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.safe_yaml import MAX_NODES


def _runs(home: Path) -> int:
    from robust_support import db_rows

    return db_rows(home, "SELECT count(*) FROM run")[0][0] if (home / "llmwb.db").exists() else 0


@pytest.mark.parametrize("argv, message", [
    (["--param", "temperature=NaN"], "--param temperature has NaN or infinity"),
    (["--param", "temperature=Infinity"], "--param temperature has NaN or infinity"),
    (["--param", "temperature=1e400"], "--param temperature has NaN or infinity"),
    (["--param", "stream_options=5"], "--param stream_options must be an object"),
    (["--param", 'stream_options=["include_usage"]'], "--param stream_options must be an object"),
    (["--param", "max_retries=-1"], "--param max_retries must be a whole number from 0 to 20"),
    (["--param", "max_retries=2.5"], "--param max_retries must be a whole number"),
    (["--param", "max_retries=true"], "--param max_retries must be a whole number"),
    (["--param", "max_tokens=" + "9" * 400], "--param max_tokens has a number too large"),
    (["--param", "logit_bias=" + "[" * 200 + "]" * 200], "--param logit_bias nests deeper than 64 levels"),
    (["--system", "caf\udce9"], "--system is not valid UTF-8 text"),
    (["--timeout", "nan"], "--timeout must be a positive number"),
    (["--timeout", "1e400"], "--timeout must be a positive number"),
])  # fmt: skip
def test_bad_run_values_are_usage_errors_before_anything_is_saved(llmwb, home, argv, message):
    result = llmwb("run", "--model", "echo", "--prompt", "hi", *argv)
    assert result.code == 2
    assert message in result.one_line_error()
    assert _runs(home) == 0


def test_a_binary_prompt_file_is_refused(llmwb, home, tmp_path):
    binary = tmp_path / "prompt.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    result = llmwb("run", "--model", "echo", "--prompt-file", str(binary))
    assert result.code == 2
    assert "is not UTF-8 text (byte 0x89 at offset 0)" in result.one_line_error()
    assert _runs(home) == 0


def test_a_prompt_with_undecodable_bytes_from_the_command_line_is_refused(llmwb, home):
    result = llmwb("run", "--model", "echo", "--prompt", "bad \udcff byte")  # how Python passes b"\xff"
    assert result.code == 2 and "--prompt is not valid UTF-8 text" in result.one_line_error()
    result = llmwb("compare", "--models", "echo,demo-fast", "--prompt", "\udcff")
    assert result.code == 2 and "--prompt is not valid UTF-8 text" in result.one_line_error()
    assert _runs(home) == 0


@pytest.mark.parametrize("argv, message", [
    (["history", "list", "--limit", "100000000000000000000"], "--limit must be from 1 to 1,000,000"),
    (["history", "list", "--limit", "1e20"], "invalid int value"),
    (["history", "show", "\udcff"], "an argument is not valid UTF-8 text"),
    (["models", "remove", "\udcff"], "an argument is not valid UTF-8 text"),
    (["models", "add", "x", "--provider", "openai", "--model", "m", "--base-url", "http://[::1"], "base_url: not a URL"),
    (["models", "add", "x", "--provider", "openai", "--model", "m", "--base-url", "http://[::1]:99999"], "port"),
    (["models", "add", "x", "--provider", "openai", "--model", "m", "--price-input", "1e400"], "prices.input"),
    (["models", "add", "x", "--provider", "openai", "--model", "m", "--timeout", "inf"], "timeout"),
    (["models", "add", "x", "--provider", "openai", "--model", "m", "--param", "temperature=NaN"], "NaN"),
    (["history", "prune", "--older-than", "soon"], "not an age such as 30d"),
    (["history", "prune", "--max-size", "lots"], "not a size such as 500MB"),
    (["history", "prune"], "say what to keep"),
])  # fmt: skip
def test_bad_arguments_are_one_line_usage_errors(llmwb, argv, message):
    result = llmwb(*argv)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_a_deeply_nested_tool_schema_is_refused(llmwb, tmp_path):
    schema = tmp_path / "deep.json"
    schema.write_text('{"type": "object", "properties": {"a": ' + '{"x": ' * 5000 + "1" + "}" * 5000 + "}}")
    result = llmwb("tools", "add", "deep", "--schema", str(schema))
    assert result.code == 2
    assert "parameters nest deeper than 64 levels" in result.one_line_error()
    assert "deep" not in llmwb("tools", "list").out


def _yaml_bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        previous, name = chr(96 + level), chr(97 + level)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe\x00m\x00o\x00d", "not UTF-8 text (byte 0xff at offset 0)"),
    (b"\x00\x01\x02binary", "not valid YAML"),
    (b"a: &a [*a]\n", "an alias refers to its own anchor (recursive)"),
    (_yaml_bomb().encode(), f"more than {MAX_NODES:,} values once aliases are expanded"),
    (b"models: " + b"[" * 5000 + b"]" * 5000, "nests deeper than 64 levels"),
    # refused as the nesting is read, not after the whole document: the missing ends are never reached
    (b"models: " + b"[" * 5000, "nests deeper than 64 levels"),
    (b"models: [" + b"{a: [" * 40, "nests deeper than 64 levels"),
    (b"models:\n  - name: " + b"9" * 5000 + b"\n", "a number has thousands of digits"),
    (b"models:\n  - {name: x, provider: openai, model: m, timeout: " + b"9" * 400 + b"}\n", "timeout must be a positive"),
    (b"models:\n  - {name: x, provider: openai, model: m, base_url: 'http://[::1'}\n", "base_url: not a URL"),
    (b'models:\n  - {name: x, provider: openai, model: m, params: {stop: "\\udcff"}}\n', "not valid UTF-8"),
])  # fmt: skip
def test_hostile_config_files_are_one_line_and_save_nothing(llmwb, tmp_path, content, message):
    before = llmwb("models", "list", "--json").out
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    result = llmwb("models", "import", str(path))
    assert result.code == 2
    assert message in result.one_line_error()
    assert llmwb("models", "list", "--json").out == before


def test_an_oversized_config_file_is_refused_unread(llmwb, tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * 2_000_000 + b"\n")
    result = llmwb("models", "import", str(path))
    assert result.code == 2 and "larger than 1 MB" in result.one_line_error()


def test_an_import_whose_second_entry_is_bad_saves_nothing(llmwb, tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(
        "models:\n"
        "  - {name: first-ok, provider: simulator, model: echo}\n"
        "  - {name: second-bad, provider: simulator, model: echo, params: {max_retries: -3}}\n"
    )
    result = llmwb("models", "import", str(path))
    assert result.code == 2
    assert result.one_line_error() == (
        f"llmwb models: {path}: models[1] (second-bad): params.max_retries must be a whole number from 0 to 20"
    )
    names = {entry["name"] for entry in json.loads(llmwb("models", "list", "--json").out)}
    assert "first-ok" not in names


def test_an_import_failing_inside_the_database_rolls_back_every_entry(home):
    from core.store import Store
    from core.store.models import ModelConfig

    store = Store()
    good = ModelConfig(name="good", provider="simulator", model="echo")
    broken = ModelConfig(name="broken", provider="simulator", model="echo")
    broken.name = None  # type: ignore[assignment]  (NOT NULL: only the database notices)
    with pytest.raises(Exception):
        store.import_all([good, broken], [])
    assert store.get_config("good") is None


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe binary", "not UTF-8 text"),
    (b"a: &a [*a]\n", "an alias refers to its own anchor (recursive)"),
    (_yaml_bomb().encode(), "values once aliases are expanded"),
])  # fmt: skip
def test_a_hostile_scenario_file_is_one_line_before_the_simulator_listens(llmwb, tmp_path, content, message):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "hostile.yaml").write_bytes(content)
    result = llmwb("simulate", "--port", "0", "--scenario-dir", str(folder))
    assert result.code == 2
    assert message in result.one_line_error()


def test_the_database_named_as_a_users_file_is_refused_and_kept_whole(llmwb, home, tmp_path):
    """A slip of the shell (`llmwb models export ~/.local/share/llmwb/llmwb.db`) must not
    overwrite every run, and reading the database as a prompt, a config or a schema must
    not open it beside the store (closing that descriptor drops the store's locks)."""
    assert llmwb("run", "--model", "echo", "--prompt", "kept").code == 0
    database = home / "llmwb.db"
    linked = tmp_path / "another-name.db"
    linked.symlink_to(database)
    for named in (database, linked):
        exported = llmwb("models", "export", str(named))
        assert exported.code == 2 and "refusing to write over llmwb's database" in exported.one_line_error()
        for argv, what in (
            (("models", "import", str(named)), "not a config file"),
            (("run", "--model", "echo", "--prompt-file", str(named)), "not a prompt"),
            (("tools", "add", "t", "--schema", str(named)), "not a JSON schema"),
        ):
            refused = llmwb(*argv)
            assert refused.code == 2 and f"is llmwb's database, {what}" in refused.one_line_error()
    assert "kept" in llmwb("history", "list").out  # the database still whole
    wal = home / "llmwb.db-wal"
    assert llmwb("models", "export", str(wal)).code == 2  # its journal files too, there or not
