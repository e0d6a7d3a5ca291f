"""Is the several-models compare screen responsive with six fast streams at once?

    .venv/bin/python bench/compare_ui.py              # 6 streams × 500 chunks/s, 10 s
    .venv/bin/python bench/compare_ui.py --seconds 5 --streams 4

Headless (`run_test`, 160×40 unless `--size`): ModelsCompareScreen with N columns, each a
simulator model streaming 4-character chunks every 2 ms (500 chunks/s), served by
a SimulatorServer on its own thread (as the embedded one runs in the app), wire
frames on. A key press every 100 ms (an app binding that only notes the time);
the figure is the time from posting the key to its handler running. The same is measured first with
the screen idle, so the load's cost shows as a ratio in one run.

Target: key → handler p95 ≤ 100 ms. Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LLMWB_HOME", tempfile.mkdtemp(prefix="llmwb-bench-"))

from textual import events  # noqa: E402
from textual.app import App  # noqa: E402
from textual.binding import Binding  # noqa: E402

from core.events import TextDelta  # noqa: E402
from core.request import ChatRequest  # noqa: E402
from core.store import Store  # noqa: E402
from core.store.models import ModelConfig  # noqa: E402
from tui.screens.compare_models import ModelsCompareScreen  # noqa: E402
from tui.app import settle_gc  # noqa: E402
from tui.widgets.compare import CompareColumn  # noqa: E402
from simserver import start_server  # noqa: E402

clock = time.perf_counter
GAP_MS = 2.0  # 500 chunks/s
CHUNK_CHARS = 4


class Host(App[None]):
    # A key whose handler does nothing but note the time: what is measured is how
    # long a key waits for the event loop, not what some action costs.
    BINDINGS = [Binding("z", "probe", "probe")]

    def __init__(self, store: Store, screen: ModelsCompareScreen) -> None:
        super().__init__()
        self.store = store
        self._compare = screen
        self.key_handled: list[float] = []

    def action_probe(self) -> None:
        self.key_handled.append(clock())

    def on_mount(self) -> None:
        self.push_screen(self._compare)
        if not gc.isenabled():
            self.call_after_refresh(settle_gc)  # as LlmwbApp does once its main screen is up


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def press_keys(app: App[None], handled: list[float], until: Any, limit: int | None = None) -> list[float]:
    """Post the probe key every 100 ms while `until()` is true; latency of each, in ms.
    Keys are handled in order, so the n-th handling answers the n-th key."""
    first = len(handled)
    sent: list[float] = []
    while until() and (limit is None or len(sent) < limit):
        sent.append(clock())
        app.post_message(events.Key("z", "z"))
        await asyncio.sleep(0.1)
    while len(handled) - first < len(sent):
        await asyncio.sleep(0.01)
    return [(done - posted) * 1000 for posted, done in zip(sent, handled[first:])]


async def main(
    streams: int, seconds: float, view: str, in_process: bool, size: tuple[int, int], default_gc: bool
) -> None:
    chunks = int(seconds * 1000 / GAP_MS)
    scenario = {
        "name": "bench-compare", "api": "openai",
        "text": ("lorem ipsum dolor sit amet, consectetur adipiscing elit. " * (chunks * CHUNK_CHARS // 56 + 1))[
            : chunks * CHUNK_CHARS
        ],
        "chunking": {"mode": "fixed", "size": CHUNK_CHARS},
        "timing": {"first_token_ms": 50, "gap_ms": GAP_MS},
    }  # fmt: skip
    server = start_server(scenario, in_process)
    store = Store()
    root = server.root_url + "/v1"
    configs = [
        store.save_config(ModelConfig(name=f"bench-{i}", provider="openai-compatible", model="bench-compare",
                                      base_url=root, params={"max_retries": 0}))
        for i in range(streams)
    ]  # fmt: skip
    screen = ModelsCompareScreen(ChatRequest.from_prompt("go"), configs)
    received: list[list[float]] = [[] for _ in range(streams)]
    original_feed = CompareColumn.feed

    def counting_feed(self: CompareColumn, event: Any) -> None:
        if isinstance(event, TextDelta):
            received[int(self.id.split("-")[1])].append(clock())  # type: ignore[union-attr]
        original_feed(self, event)

    CompareColumn.feed = counting_feed  # type: ignore[method-assign]

    if not default_gc:
        gc.disable()  # as run_app() does for start-up
    app = Host(store, screen)
    handled = app.key_handled
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        columns = screen.columns
        for column in columns:
            while column.output.view != view:
                column.output.cycle_view()
        # The screen starts its runs on mount, so the idle baseline comes after them.
        busy = await press_keys(app, handled, lambda: any(c.running or c.status == "waiting" for c in columns))
        while any(c.running for c in columns):
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        idle = await press_keys(app, handled, lambda: True, limit=20)
        statuses = [c.status for c in columns]
    server.stop()

    rates = [len(r) / (r[-1] - r[0]) if len(r) > 1 else 0.0 for r in received]
    where = "in this process" if in_process else "in its own process"
    print(f"compare_ui: {streams} streams × {1000 / GAP_MS:.0f} chunks/s scripted, {chunks} chunks each, "
          f"{view} view, {size[0]}×{size[1]}, simulator {where}"
          + (", default gc" if default_gc else ""))  # fmt: skip
    print(f"  statuses                 {statuses}")
    print(f"  chunks/s received/stream min {min(rates):.0f}  max {max(rates):.0f}")
    for name, latencies in (("streaming", busy), ("idle     ", idle)):
        print(
            f"  key → handler, {name} p50 {pct(latencies, 0.5):6.1f} ms  p95 {pct(latencies, 0.95):6.1f} ms  "
            f"max {max(latencies, default=float('nan')):6.1f} ms  ({len(latencies)} keys)"
        )
    if idle and busy:
        print(f"  p95 streaming / idle     {pct(busy, 0.95) / max(pct(idle, 0.95), 0.001):.1f}×")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--view", choices=("rendered", "plain", "wire"), default="rendered", help="the columns' view")
    parser.add_argument("--in-process", action="store_true", help="simulator on a thread of this process")
    parser.add_argument("--size", default="160x40", help="terminal size, COLSxROWS (default 160x40)")
    parser.add_argument("--default-gc", action="store_true", help="not the app's collector settings (settle_gc)")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.lower().split("x"))
    asyncio.run(main(args.streams, args.seconds, args.view, args.in_process, (cols, rows), args.default_gc))
