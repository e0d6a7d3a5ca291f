"""`llmwb models`: add, list, remove, import, export — and keys never shown."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_fresh_home_lists_the_demo_models(llmwb):
    result = llmwb("models", "list")
    assert result.code == 0
    for name in ("demo-fast", "demo-chinese", "demo-long", "demo-reasoning", "demo-tools", "demo-claude", "demo-flaky", "echo"):
        assert name in result.out
    assert "not needed" in result.out


def test_add_list_remove_round_trip(llmwb, monkeypatch):
    monkeypatch.setenv("MY_TEST_KEY", "sk-supersecretvalue123")
    added = llmwb(
        "models", "add", "ds", "--provider", "openai-compatible", "--model", "deepseek-chat",
        "--base-url", "https://api.deepseek.com/v1", "--api-key-env", "MY_TEST_KEY",
        "--price-input", "0.27", "--price-cached-input", "0.07", "--price-output", "1.1",
        "--param", "temperature=0.2", "--param", 'stop=["\\n"]', "--param", "user=alice", "--timeout", "30",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert "key: set" in added.out

    listed = {entry["name"]: entry for entry in json.loads(llmwb("models", "list", "--json").out)}
    assert isinstance(listed["ds"]["id"], int)  # what `llmwb serve`'s model_id takes
    assert listed["ds"] == {
        "id": listed["ds"]["id"],
        "name": "ds",
        "provider": "openai-compatible",
        "model": "deepseek-chat",
        "base_url": "https://api.deepseek.com/v1",
        "api_key_env": "MY_TEST_KEY",
        "params": {"temperature": 0.2, "stop": ["\n"], "user": "alice"},
        "prices": {"input": 0.27, "cached_input": 0.07, "output": 1.1},
        "timeout": 30.0,
        "key_status": "set",
    }
    assert listed["demo-fast"]["key_status"] == "not needed"
    table = llmwb("models", "list").out
    assert "MY_TEST_KEY: set" in table and "sk-supersecretvalue123" not in table

    monkeypatch.delenv("MY_TEST_KEY")
    relisted = {entry["name"]: entry for entry in json.loads(llmwb("models", "list", "--json").out)}
    assert relisted["ds"]["key_status"] == "missing"

    assert llmwb("models", "remove", "ds").code == 0
    assert "ds" not in {e["name"] for e in json.loads(llmwb("models", "list", "--json").out)}
    gone = llmwb("models", "remove", "ds")
    assert gone.code == 2 and "no model config named 'ds'" in gone.err


def test_add_rejects_bad_input_without_saving(llmwb):
    duplicate = llmwb("models", "add", "demo-fast", "--provider", "simulator", "--model", "echo")
    assert duplicate.code == 2 and "already exists" in duplicate.err
    negative = llmwb("models", "add", "x", "--provider", "openai", "--model", "m", "--price-output", "-1")
    assert negative.code == 2 and "x: prices.output must not be negative" in negative.err
    malformed = llmwb("models", "add", "x", "--provider", "openai", "--model", "m", "--param", "temperature")
    assert malformed.code == 2 and "KEY=VALUE" in malformed.err
    unknown_kind = llmwb("models", "add", "x", "--provider", "nosuch", "--model", "m")
    assert unknown_kind.code == 2 and "invalid choice" in unknown_kind.err
    assert "x" not in {e["name"] for e in json.loads(llmwb("models", "list", "--json").out)}


def test_example_config_imports_as_is_and_reimport_updates(llmwb):
    first = llmwb("models", "import", str(REPO / "config.example.yaml"))
    assert first.code == 0, first.err
    # get_weather is one of the seeded demo tools, so the example updates it
    assert "models: 9 added, 0 updated; tools: 0 added, 1 updated" in first.out
    again = llmwb("models", "import", str(REPO / "config.example.yaml"))
    assert "models: 0 added, 9 updated; tools: 0 added, 1 updated" in again.out
    names = {e["name"] for e in json.loads(llmwb("models", "list", "--json").out)}
    assert {"gpt-4o-mini", "gpt-5-mini-responses", "claude-sonnet", "deepseek-reasoner", "ollama-qwen", "ollama-native-qwen", "llamacpp-local", "sim-tools"} <= names


def test_export_then_import_round_trips_without_key_values(llmwb, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-exportmustnotcontainthis")
    llmwb("models", "import", str(REPO / "config.example.yaml"))
    exported = llmwb("models", "export")
    assert exported.code == 0
    assert "sk-exportmustnotcontainthis" not in exported.out
    data = yaml.safe_load(exported.out)
    gpt = next(m for m in data["models"] if m["name"] == "gpt-4o-mini")
    assert gpt == {
        "name": "gpt-4o-mini", "provider": "openai", "model": "gpt-4o-mini", "api_key_env": "OPENAI_API_KEY",
        "params": {"temperature": 0.2}, "prices": {"input": 0.15, "cached_input": 0.075, "output": 0.6}, "timeout": 60.0,
    }  # fmt: skip
    assert data["tools"][0]["name"] == "get_weather"

    target = tmp_path / "out.yaml"
    assert llmwb("models", "export", str(target)).code == 0
    assert yaml.safe_load(target.read_text()) == data

    # A second home imports the export and exports the same thing.
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path / "other"))
    assert llmwb("models", "import", str(target)).code == 0
    assert yaml.safe_load(llmwb("models", "export").out) == data


def test_import_reports_the_bad_entry(llmwb, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  - {name: ok, provider: openai, model: m}\n  - {name: broken, provider: gemini, model: m}\n")
    result = llmwb("models", "import", str(bad))
    assert result.code == 2
    assert "models[1] (broken): unknown provider kind 'gemini'" in result.err
    assert "ok" not in {e["name"] for e in json.loads(llmwb("models", "list", "--json").out)}  # all or nothing

    bad.write_text("models:\n  - {name: k, provider: openai, model: m, api_key: sk-abc}\n")
    assert "api_key_env" in llmwb("models", "import", str(bad)).err
    bad.write_text("models:\n  - {name: p, provider: openai, model: m, params: [1, 2]}\n")
    assert "models[0] (p): params must be a mapping" in llmwb("models", "import", str(bad)).err
    bad.write_text("models:\n  - {provider: openai, model: m}\n")
    assert "models[0]: missing 'name'" in llmwb("models", "import", str(bad)).err
    missing = llmwb("models", "import", str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and "cannot read" in missing.err
