"""A model that is certainly mid-stream when a test acts on it (a signal, ctrl+c, a kill):
four words, then the simulator holds the stream for minutes.

A paced demo (demo-long: 6,000 chunks 1 ms apart) is not enough: on a loaded machine the
reader can take the whole stream before the test's first line arrives, and the signal then
lands on a run that has already finished. A stall cannot finish under the test."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.seed import ensure_seeded
from core.store import Store
from core.store.models import ModelConfig

STALLING_MODEL = "stall-mid"
FIRST_WORDS = "One two three four"
_SCENARIO = {
    "name": STALLING_MODEL, "api": "openai", "description": "four words, then a ten-minute stall",
    "text": f"{FIRST_WORDS} five six seven eight.", "chunking": {"mode": "word"},
    "timing": {"first_token_ms": 0, "gap_ms": 0}, "fault": {"stall_after_chunks": 4, "stall_s": 600},
}  # fmt: skip


def stalling_model(home: Path) -> dict[str, str]:
    """Saves the `stall-mid` config in the database at `home` and writes its scenario beside
    it; returns the environment entries an `llmwb` process needs to reach it."""
    scenarios = home.parent / f"{home.name}-scenarios"
    scenarios.mkdir(parents=True, exist_ok=True)
    (scenarios / f"{STALLING_MODEL}.json").write_text(json.dumps(_SCENARIO), encoding="utf-8")
    home.mkdir(parents=True, exist_ok=True)
    store = Store(home / "llmwb.db")
    try:
        ensure_seeded(store)  # as llmwb's first start would: the demos stay usable beside it
        store.save_config(ModelConfig(name=STALLING_MODEL, provider="simulator", model=STALLING_MODEL))
    finally:
        store.close()
    return {"LLMWB_SCENARIO_DIR": str(scenarios)}


def as_from_a_terminal(argv: list[str]) -> list[str]:
    """`argv` started with SIGINT at its default, as a shell in a terminal starts it. A test
    run from a background job (`cmd &`, nohup, CI runners) inherits SIGINT ignored, and an
    ignored SIGINT stays ignored across exec: Python then never raises KeyboardInterrupt,
    and a Ctrl-C test waits out its deadline instead of testing Ctrl-C."""
    launcher = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
    return [sys.executable, "-c", launcher, *argv]
