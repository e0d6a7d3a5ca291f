"""One simulator and one live `llmwb serve` per module: starting the server costs a
second or two of imports, and the tests only read what their own runs did. The server
answers the demo models without their delays (tests/conftest.py's copies): the tests
check what is relayed and kept; what a paced stream's stamps prove is checked on the
simulator's `reasoning`, a demo-reasoning copy at a quick but real pace."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from core.seed import ensure_seeded
from core.simulator.embedded import SCENARIO_DIR_ENV
from core.simulator.scenario import BUILTIN_DIR
from core.store import Store
from core.store.models import ModelConfig
from inprocess_cli import forget_log_handlers, invoke
from serve_support import LiveProcess, ThreadedSimulator

WORDS = " ".join(f"word{i}" for i in range(12))


@pytest.fixture(scope="module")
def sim() -> Iterator[ThreadedSimulator]:
    simulator = ThreadedSimulator()
    # Stalls after three words: what arrives before the stall ends proves the relay is live.
    simulator.add(name="stalling", text=WORDS, chunking={"mode": "word"},
                  timing={"first_token_ms": 0, "gap_ms": 5}, fault={"stall_after_chunks": 3, "stall_s": 3.0})  # fmt: skip
    # Stalls for good after three words: the client hangs up in the middle.
    simulator.add(name="hang", text=WORDS, chunking={"mode": "word"},
                  timing={"first_token_ms": 0, "gap_ms": 5}, fault={"stall_after_chunks": 3, "stall_s": 120.0})  # fmt: skip
    simulator.add(name="hang-whole", text=WORDS, fault={"stall_after_chunks": 0, "stall_s": 120.0})  # non-streamed: waits
    simulator.add(name="limited", text="never sent", fault={"http_status": 429, "headers": {"retry-after": "7"}})
    # demo-reasoning's reasoning and answer, each chunk written alone 2 ms apart (paced frames
    # are never batched: tests/simulator/test_whole_answers_on_the_wire.py): distinct stamps.
    reasoning = yaml.safe_load((BUILTIN_DIR / "demo-reasoning.yaml").read_text(encoding="utf-8"))
    simulator.add(**{**reasoning, "name": "reasoning", "timing": {"first_token_ms": 20, "gap_ms": 2}})
    yield simulator
    simulator.close()


@pytest.fixture(scope="module")
def serve_home(tmp_path_factory: pytest.TempPathFactory, sim: ThreadedSimulator) -> Path:
    home = tmp_path_factory.mktemp("serve-home")
    store = Store(home / "llmwb.db")
    ensure_seeded(store)
    for scenario in ("stalling", "hang", "hang-whole", "limited", "reasoning"):
        store.save_config(ModelConfig(
            name=f"sim-{scenario}", provider="openai-compatible", model=scenario, base_url=sim.openai_base_url,
            params={"max_retries": 0},
        ))  # fmt: skip
    store.engine.dispose()
    return home


@pytest.fixture(scope="module")
def unpaced_env(no_delay_scenario_dir: Path) -> dict[str, str]:
    """The environment that gives an `llmwb` process the demo models without their delays."""
    return {SCENARIO_DIR_ENV: str(no_delay_scenario_dir)}


@pytest.fixture(scope="module")
def live(serve_home: Path, unpaced_env: dict[str, str]) -> Iterator[LiveProcess]:
    server = LiveProcess(serve_home, "serve", env=unpaced_env)
    yield server
    server.stop()


@pytest.fixture
def llmwb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., tuple[int, str]]]:
    """`llmwb ARGS...` in-process, in a fresh LLMWB_HOME: (exit code, stderr)."""
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))

    def run(*argv: str) -> tuple[int, str]:
        result = invoke(capsys, *argv)
        return result.code, result.err

    yield run
    forget_log_handlers()
