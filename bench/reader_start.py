"""Does streaming the app's runs in reader processes make ctrl+r slower? Per run, from
the call that starts it (what the UI's loop spends) to the run's first events, with a
warm spare worker (core.readerproc) against a run on a thread of this process.

    .venv/bin/python bench/reader_start.py [--runs 10]

Printed per way, p50 / p95 in ms: the start call itself, RunStarted received (the run's
row exists), and the request handed to the transport (the "connecting" phase).
Simulator in its own process; runs alternate between the two ways, so both meet the
same load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.events import Phase, RunStarted  # noqa: E402
from core.readerpool import pool  # noqa: E402
from core.readerproc import READER_ENV, prewarm, start_app_run  # noqa: E402
from core.request import ChatRequest  # noqa: E402
from core.runner import RunOptions  # noqa: E402
from core.store import Store  # noqa: E402
from core.store.models import ModelConfig  # noqa: E402
from simserver import ServerProcess  # noqa: E402

SCENARIO = {"name": "short", "api": "openai", "text": "a b c", "chunking": {"mode": "word"},
            "timing": {"first_token_ms": 0, "gap_ms": 0}}  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one(config: ModelConfig, store: Store) -> tuple[float, float, float]:
    begin = time.perf_counter()
    handle = start_app_run(config, ChatRequest.from_prompt("go"), RunOptions(store=store, phases=True))
    called = time.perf_counter()
    started = connecting = None
    async for event in handle.events():
        now = time.perf_counter()
        if isinstance(event, RunStarted):
            started = now
        elif isinstance(event, Phase) and event.phase == "connecting" and connecting is None:
            connecting = now
    assert started is not None and connecting is not None
    return (called - begin) * 1000, (started - begin) * 1000, (connecting - begin) * 1000


async def main(runs: int) -> None:
    server = ServerProcess(SCENARIO)
    store = Store(Path(tempfile.mkdtemp(prefix="llmwb-start-")) / "llmwb.db")
    config = ModelConfig(name="short", provider="openai-compatible", model="short", base_url=server.root_url + "/v1",
                         params={"max_retries": 0})  # fmt: skip
    prewarm()
    ways = {"process": [], "thread": []}
    try:
        for way in ways:  # one unmeasured run each: imports, the spare's first run
            os.environ[READER_ENV] = way
            await one(config, store)
        for _ in range(runs):
            for way, found in ways.items():
                os.environ[READER_ENV] = way
                found.append(await one(config, store))
                await asyncio.sleep(0.2)  # not synchronisation: lets the next spare be forked, as between key presses
    finally:
        server.stop()
        pool.close()
    print(f"reader_start: {runs} runs per way; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {'way':<8} {'start call p50/p95 ms':>22} {'RunStarted p50/p95 ms':>24} {'connecting p50/p95 ms':>24}")
    for way, found in ways.items():
        cells = [f"{pct([f[i] for f in found], 0.5):8.1f} / {pct([f[i] for f in found], 0.95):<8.1f}" for i in range(3)]
        print(f"  {way:<8} {cells[0]:>22} {cells[1]:>24} {cells[2]:>24}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
