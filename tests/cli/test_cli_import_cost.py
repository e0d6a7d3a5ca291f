"""What a command loads: `llmwb models list` reads configs without SQLAlchemy, an SDK or
Textual, and lists exactly what the store would; `llmwb run` on an OpenAI-protocol
config loads neither Textual nor the Anthropic SDK, nor SQLAlchemy once the file exists
(core.store.lite), and still leaves a start's work on the file to the full store. (Behaviour, not timing: the time
these imports cost is measured by bench/core_overhead.py.)"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.store import peek

# What is imported and kept is under test, not the pace: the probes' runs get the demo
# models without their delays (LLMWB_SCENARIO_DIR, set by tests/conftest.py, reaches them).
pytestmark = pytest.mark.unpaced

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "textual", "openai", "anthropic", "yaml")

# Run a command in a fresh interpreter, then print which of HEAVY it imported.
PROBE = """
import json, sys
from tui.cli import main
code = main(sys.argv[1:])
imported = {name.split(".")[0] for name, module in sys.modules.items() if module is not None}  # None: marked absent
loaded = sorted(imported & set(json.loads(sys.stdin.read())))
print("LOADED " + json.dumps(loaded), file=sys.stderr)
sys.exit(code)
"""


def _probe(home: Path, *argv: str) -> tuple[str, list[str]]:
    env = {**os.environ, "LLMWB_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], input=json.dumps(HEAVY), env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    marker = [line for line in done.stderr.splitlines() if line.startswith("LOADED ")]
    return done.stdout, json.loads(marker[-1].removeprefix("LOADED "))


def _add_varied_configs(llmwb) -> None:  # type: ignore[no-untyped-def]
    assert llmwb("models", "add", "plain", "--provider", "openai", "--model", "gpt-x").code == 0
    assert (
        llmwb(
            "models", "add", "full", "--provider", "openai-compatible", "--model", "m/1",
            "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "LLMWB_TEST_KEY_VAR",
            "--price-input", "1.5", "--price-cached-input", "0.25", "--price-output", "6",
            "--param", "temperature=0.2", "--param", 'stop=["\\n"]', "--timeout", "12.5",
        ).code  # fmt: skip
        == 0
    )
    assert llmwb("models", "add", "local", "--provider", "ollama", "--model", "llama3").code == 0


def test_models_list_loads_no_orm_sdk_or_ui(llmwb, home: Path) -> None:
    _add_varied_configs(llmwb)
    out, loaded = _probe(home, "models", "list")
    assert loaded == []
    assert [line.split()[1] for line in out.splitlines()[1:]] == sorted(
        ["plain", "full", "local", "demo-fast", "demo-chinese", "demo-long", "demo-reasoning",
         "demo-responses", "demo-tools", "demo-claude", "demo-ollama", "demo-flaky", "echo"]
    )  # fmt: skip


@pytest.mark.parametrize("as_json", [False, True])
def test_models_list_read_directly_equals_the_stores_listing(llmwb, monkeypatch, as_json: bool) -> None:
    _add_varied_configs(llmwb)
    monkeypatch.setenv("LLMWB_TEST_KEY_VAR", "sk-test-not-a-key")
    argv = ("models", "list", "--json") if as_json else ("models", "list")
    direct = llmwb(*argv)
    with monkeypatch.context() as patched:
        patched.setattr(peek, "peek_configs", lambda path=None: None)  # the store's own path
        through_store = llmwb(*argv)
    assert (direct.code, direct.out, direct.err) == (through_store.code, through_store.out, through_store.err)
    if as_json:
        full = next(entry for entry in json.loads(direct.out) if entry["name"] == "full")
        assert full["params"] == {"temperature": 0.2, "stop": ["\n"]} and full["key_status"] == "set"
        assert full["prices"] == {"input": 1.5, "cached_input": 0.25, "output": 6.0} and full["timeout"] == 12.5


def test_a_file_the_store_must_change_is_left_to_the_store(llmwb, home: Path) -> None:
    assert llmwb("models", "list").code == 0  # creates and seeds the file
    path = home / "llmwb.db"
    assert peek.peek_configs(path) is not None
    assert peek.peek_configs(home / "missing.db") is None
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    assert peek.peek_configs(path) is None  # the store would switch it to WAL
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("DELETE FROM meta")
    assert peek.peek_configs(path) is None  # the store would seed it
    listed = llmwb("models", "list")  # and does: seeding is once per file, even an emptied one
    assert listed.code == 0 and "demo-fast" in listed.out


def test_run_on_an_openai_config_loads_no_ui_and_no_anthropic_sdk(home: Path) -> None:
    out, loaded = _probe(home, "run", "--model", "demo-fast", "--prompt", "hi", "--json")
    assert json.loads(out.splitlines()[-1])["done"] is True
    assert "textual" not in loaded and "anthropic" not in loaded
    assert "openai" in loaded  # the SDK still builds and sends the request


def test_run_on_an_existing_file_saves_every_frame_without_sqlalchemy(llmwb, home: Path) -> None:
    assert llmwb("models", "list").code == 0  # the file exists, seeded: nothing for a start to do
    out, loaded = _probe(home, "run", "--model", "demo-chinese", "--prompt", "hi", "--json", "--wire")
    assert not {"sqlalchemy", "sqlmodel"} & set(loaded)
    lines = [json.loads(line) for line in out.splitlines()]
    done = lines[-1]
    assert done["done"] is True and "final_response" in done  # finished, not failed
    wire = [line["wire"]["data"] for line in lines if "wire" in line]
    with sqlite3.connect(home / "llmwb.db") as conn:
        status, response = conn.execute("SELECT status, response FROM run WHERE id = ?", (done["run_id"],)).fetchone()
        query = "SELECT data FROM run_frame WHERE run_id = ? ORDER BY seq"
        frames = [row[0] for row in conn.execute(query, (done["run_id"],))]
    assert status == "ok" and json.loads(response)["content"] == done["final_response"]["content"]
    assert frames == wire and len(frames) > 10


def test_run_leaves_an_orphaned_run_to_the_full_store_which_marks_it_interrupted(llmwb, home: Path) -> None:
    assert llmwb("models", "list").code == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with sqlite3.connect(home / "llmwb.db") as conn:
        conn.execute(
            "INSERT INTO run (id, created_at, model_config_name, provider, model, stream, status, request, response,"
            " metrics, owner_pid) VALUES ('orphan000001', '2026-01-01 00:00:00.000000', 'a', 'openai', 'm', 1,"
            " 'running', '{}', '{}', '{}', ?)",
            (int(dead.stdout),),
        )
    _, loaded = _probe(home, "run", "--model", "demo-fast", "--prompt", "hi", "--json")
    assert "sqlalchemy" in loaded
    with sqlite3.connect(home / "llmwb.db") as conn:
        status, error_type = conn.execute("SELECT status, error_type FROM run WHERE id = 'orphan000001'").fetchone()
    assert (status, error_type) == ("error", "interrupted")
