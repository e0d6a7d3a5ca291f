"""Streaming performance of the output pane and metrics sidebar, headless.

    .venv/bin/python bench/tui_stream.py            # all cases, ~2.5 min
    .venv/bin/python bench/tui_stream.py --quick    # shorter streams
    .venv/bin/python bench/tui_stream.py --gc       # with the app's collector settings (tui.app.settle_gc)
    .venv/bin/python bench/tui_stream.py --app      # the real app (rate: rendered and plain views; long), as it starts up
    .venv/bin/python bench/tui_stream.py --in-process  # simulator on a thread, as the embedded one

Each case runs in its own process (clean RSS): a harness app mounts OutputPane +
MetricsSidebar, a worker feeds them every event of `core.runner.run` against a
SimulatorServer in its own process (so CPU, GIL and RSS are the UI's own; with
`--in-process` on a thread, as the embedded one runs in the app), with wire
frames on. Cases:

- rate/<view>:  2,000 chunks/s for 30 s (60k chunks of 4 chars, paced). Figures:
  key press → handler latency (a key every 100 ms), chunk arrival → first frame
  painted after the view took the chunk ("visible"), from the UI's receipt and
  from the server's write.
- long/<view>:  one 100,000-token answer (100k chunks at 4,000/s). Figures: UI
  time (flushes, sidebar ticks, screen layout + paint) per chunk in each tenth of
  the stream (last tenth / first tenth), RSS.

The consuming loop yields to the app every `--yield-ms` (default 5; 0 = never):
buffered socket data never suspends an `async for`, so without it a burst of
hundreds of frames holds the event loop (keys wait) — the app's run worker
should do the same.

Targets (issue): key p95 ≤ 100 ms, visible p95 ≤ 100 ms, last/first tenth ≤ 2×,
RSS < 300 MB. Figures print as percentiles and ratios; nothing is asserted.
"""

from __future__ import annotations

import argparse
from array import array
import asyncio
import gc
import json
import resource
import subprocess
import sys
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.binding import Binding  # noqa: E402
from textual.containers import Horizontal  # noqa: E402
from textual.screen import Screen  # noqa: E402

from core.events import TextDelta  # noqa: E402
from core.request import ChatRequest  # noqa: E402
from core.runner import RunOptions, run  # noqa: E402
from core.simulator import scenario_from_dict  # noqa: E402
from core.store.models import ModelConfig  # noqa: E402
from tui.app import settle_gc  # noqa: E402
from tui.widgets.metrics import MetricsSidebar  # noqa: E402
from tui.widgets.output import OutputPane  # noqa: E402
from tui.widgets.output.markdown_stream import StreamingMarkdown  # noqa: E402
from tui.widgets.output.wrapped_text import WrappedText  # noqa: E402
from simserver import start_server  # noqa: E402

clock = time.perf_counter


def scenarios(quick: bool) -> dict[str, dict[str, Any]]:
    seconds = 10 if quick else 30
    long_tokens = 30_000 if quick else 100_000
    return {
        "rate": {
            "name": "bench-rate", "api": "openai",
            "generate": {"kind": "lorem_markdown", "tokens": 2000 * seconds, "seed": 3},
            "chunking": {"mode": "fixed", "size": 4},
            "timing": {"first_token_ms": 50, "gap_ms": 0.5},
        },
        "long": {
            "name": "bench-long", "api": "openai",
            "generate": {"kind": "lorem_markdown", "tokens": long_tokens, "seed": 5},
            "chunking": {"mode": "fixed", "size": 4},
            "timing": {"first_token_ms": 50, "gap_ms": 0.25},
        },
    }  # fmt: skip


class Harness(App[None]):
    BINDINGS = [Binding("z", "probe", "probe")]

    def __init__(self) -> None:
        super().__init__()
        self.frame_times: list[float] = []
        self.key_handled: list[float] = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield OutputPane()
            yield MetricsSidebar()

    def action_probe(self) -> None:
        self.key_handled.append(clock())

    def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
        # Headless apps still compose every frame; only the terminal write is skipped.
        if renderable is not None and not self._batch_count:
            self.frame_times.append(clock())
        super()._display(screen, renderable)


class UiBusy:
    """CPU time (this thread's, so other processes' load does not count) the UI spends
    drawing — pane flushes, sidebar ticks, screen layout + paint — attributed to the
    tenth of the stream being received when it was spent."""

    def __init__(self, total_chars: int) -> None:
        self.total_chars = total_chars
        self.chars = 0
        self.tenths = [0.0] * 10
        self.chunks = [0] * 10
        self.frames = [0] * 10
        self.frame_time = [0.0] * 10

    def on_chunk(self, chars: int) -> None:
        self.chars = chars
        self.chunks[self.tenth] += 1

    @property
    def tenth(self) -> int:
        return min(9, self.chars * 10 // max(1, self.total_chars))

    def wrap(self, cls: type, name: str) -> None:
        original = getattr(cls, name)
        busy = self
        if asyncio.iscoroutinefunction(original):

            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = time.thread_time()
                try:
                    return await original(*args, **kwargs)
                finally:
                    busy.tenths[busy.tenth] += time.thread_time() - start

            setattr(cls, name, timed_async)
        else:

            def timed(*args: Any, **kwargs: Any) -> Any:
                start = time.thread_time()
                try:
                    return original(*args, **kwargs)
                finally:
                    took, tenth = time.thread_time() - start, busy.tenth
                    busy.tenths[tenth] += took
                    if name == "_refresh_layout":
                        busy.frames[tenth] += 1
                        busy.frame_time[tenth] += took

            setattr(cls, name, timed)

    def us_per_chunk(self) -> list[float]:
        return [t / max(1, n) * 1e6 for t, n in zip(self.tenths, self.chunks)]

    def ms_per_frame(self) -> list[float]:
        return [t / max(1, n) * 1e3 for t, n in zip(self.frame_time, self.frames)]


def instrument(applied: list[tuple[float, int]], view: str) -> None:
    """Record (time, chars taken so far) each time the measured view takes text."""
    if view == "rendered":
        original = StreamingMarkdown.append
        total = 0

        def append(self: StreamingMarkdown, text: str) -> None:
            nonlocal total
            original(self, text)
            total += len(text)
            applied.append((clock(), total))

        StreamingMarkdown.append = append  # type: ignore[method-assign]
    else:
        original_write = WrappedText.write
        totals: dict[int, int] = {}

        def write(self: WrappedText, text: str) -> None:
            original_write(self, text)
            if self.id == "plain":
                totals[id(self)] = totals.get(id(self), 0) + len(text)
                applied.append((clock(), totals[id(self)]))

        WrappedText.write = write  # type: ignore[method-assign]


class Timeline:
    """(time, chars so far) per chunk, in arrays: a tuple a chunk was ~12 MB of the
    100k-token case's RSS, which is meant to be the app's."""

    def __init__(self) -> None:
        self.times, self.chars = array("d"), array("q")

    def append(self, entry: tuple[float, int]) -> None:
        self.times.append(entry[0])
        self.chars.append(entry[1])

    def __len__(self) -> int:
        return len(self.times)

    def __iter__(self) -> Iterator[tuple[float, int]]:
        return zip(self.times, self.chars)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {"p50": pct(values_ms, 0.5), "p95": pct(values_ms, 0.95), "max": max(values_ms, default=float("nan"))}


async def run_case(
    case: str, view: str, quick: bool, tune_gc: bool, yield_ms: float, in_process: bool
) -> dict[str, Any]:
    scenario = scenarios(quick)[case]
    server = start_server(scenario, in_process)
    config = ModelConfig(name="bench", provider="simulator", model=scenario["name"], base_url=server.root_url + "/v1")
    applied: list[tuple[float, int]] = []
    instrument(applied, view)
    busy = UiBusy(len(scenario_from_dict(scenario).text or ""))
    busy.wrap(OutputPane, "_flush")
    busy.wrap(MetricsSidebar, "_tick")
    busy.wrap(Screen, "_refresh_layout")
    fed = Timeline()  # (time the UI received the chunk, chars so far)
    app = Harness()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(OutputPane)
        sidebar = app.query_one(MetricsSidebar)
        while pane.view != view:
            pane.cycle_view()
        await pilot.pause()
        if tune_gc:
            settle_gc()

        async def consume() -> None:
            chars = 0
            pane.begin_run("bench", "bench", True)
            sidebar.begin_run(True)
            yielded = clock()
            async for event in run(config, ChatRequest.from_prompt("go"), RunOptions(wire_frames=True)):
                pane.feed(event)
                sidebar.feed(event)
                if isinstance(event, TextDelta):
                    chars += len(event.content)
                    fed.append((clock(), chars))
                    busy.on_chunk(chars)
                if yield_ms and clock() - yielded > yield_ms / 1000:
                    # Buffered socket data never suspends the iteration: give the loop a turn.
                    await asyncio.sleep(0)
                    yielded = clock()

        key_sent: list[float] = []
        worker = app.run_worker(consume(), exit_on_error=False)
        started = clock()
        while not worker.is_finished:
            key_sent.append(clock())
            app.post_message(events.Key("z", "z"))
            await asyncio.sleep(0.1)
        elapsed = clock() - started
        while pane.status == "streaming":  # the last flush and the final render
            await asyncio.sleep(0.05)
        await pilot.pause(0.2)
        tail_done = clock()

    wire_times = server.content_times()
    server.stop()
    name = f"{case}/{view}" + ("+gc" if tune_gc else "") + (f" yield {yield_ms} ms" if yield_ms else "")
    name += " (simulator in this process)" if in_process else ""
    return figures(
        name, fed, applied, app.frame_times, list(zip(key_sent, app.key_handled)), len(key_sent),
        wire_times, busy, started, elapsed, tail_done,
    )  # fmt: skip


def figures(
    name: str,
    fed: Timeline,
    applied: list[tuple[float, int]],
    frames: list[float],
    keys: list[tuple[float, float]],
    keys_sent: int,
    wire_times: list[float],
    busy: UiBusy,
    started: float,
    elapsed: float,
    tail_done: float,
) -> dict[str, Any]:
    applied_times = [t for t, _ in applied]
    applied_chars = [c for _, c in applied]

    def visible_at(chars: int) -> float | None:
        """The first frame painted after the view took the chunk's text."""
        i = bisect_left(applied_chars, chars)
        if i == len(applied_chars):
            return None
        j = bisect_left(frames, applied_times[i])
        return frames[j] if j < len(frames) else None

    vis_fed, vis_wire = [], []
    for index, (t_fed, chars) in enumerate(fed):
        shown = visible_at(chars)
        if shown is None:
            continue
        vis_fed.append((shown - t_fed) * 1000)
        if index < len(wire_times):
            vis_wire.append((shown - wire_times[index]) * 1000)

    costs = busy.us_per_chunk()
    return {
        "case": name,
        "chunks": len(fed),
        "seconds": round(elapsed, 2),
        "chunks_per_s": round(len(fed) / elapsed),
        "fps": round(len([t for t in frames if started <= t <= tail_done]) / (tail_done - started), 1),
        "key_ms": summary([(handled - sent) * 1000 for sent, handled in keys]),
        "keys": f"{len(keys)}/{keys_sent}",
        "visible_ms": summary(vis_fed),
        "visible_from_wire_ms": summary(vis_wire),
        "ui_us_per_chunk_tenths": [round(c, 1) for c in costs],
        "ui_busy_share": round(sum(busy.tenths) / elapsed, 2),
        "frame_ms_tenths": [round(c, 1) for c in busy.ms_per_frame()],
        "last_over_first_tenth": round(costs[-1] / costs[0], 2) if costs[0] else None,
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


async def run_app_case(case: str, view: str, quick: bool, in_process: bool) -> dict[str, Any]:
    """The same stream in the real app (tui.app.create_app), started with its run key
    action on a model config pointing at the bench server. Keys are probed as app
    messages (`call_later`): a real key would type into the focused prompt editor.
    The collector is set up as `llmwb` does it (off during start-up, then settle_gc)."""
    import tempfile

    from tui.app import create_app
    from tui.screens.main import MainScreen

    scenario = scenarios(quick)[case]
    server = start_server(scenario, in_process)
    applied: list[tuple[float, int]] = []
    instrument(applied, view)
    busy = UiBusy(len(scenario_from_dict(scenario).text or ""))
    busy.wrap(OutputPane, "_flush")
    busy.wrap(MetricsSidebar, "_tick")
    busy.wrap(Screen, "_refresh_layout")
    fed = Timeline()
    original_take = OutputPane._take
    chars = 0

    def take(self: OutputPane, event: Any) -> None:  # each event the pane takes in, one at a time or from a batch
        nonlocal chars
        original_take(self, event)
        if isinstance(event, TextDelta):
            chars += len(event.content)
            fed.append((clock(), chars))
            busy.on_chunk(chars)

    OutputPane._take = take  # type: ignore[method-assign]
    frame_times: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        gc.disable()  # as run_app() does: the app's _settle turns it back on, tuned
        app = create_app(Path(home))
        app_class = type(app)
        original_display = app_class._display

        def display(self: App[Any], screen: Screen, renderable: Any) -> None:
            if renderable is not None and not self._batch_count:
                frame_times.append(clock())
            original_display(self, screen, renderable)

        app_class._display = display  # type: ignore[method-assign]
        app.store.save_config(
            ModelConfig(name="bench", provider="simulator", model=scenario["name"], base_url=server.root_url + "/v1")
        )
        async with app.run_test(size=(120, 40)) as pilot:
            while not isinstance(app.screen, MainScreen):
                await pilot.pause(0.05)
            screen = app.screen
            screen.models.reload(select="bench")
            screen.editor.load_request(ChatRequest.from_prompt("go"))
            while screen.output.view != view:
                screen.output.cycle_view()
            await pilot.pause(0.5)
            keys: list[tuple[float, float]] = []
            keys_sent = 0
            screen.action_run()
            started = clock()
            while screen.running:
                sent = clock()
                keys_sent += 1
                app.call_later(lambda sent=sent: keys.append((sent, clock())))
                await asyncio.sleep(0.1)
            elapsed = clock() - started
            await pilot.pause(0.3)
            tail_done = clock()
            gc_settled = gc.isenabled() and gc.get_threshold()[0] == 50_000
    wire_times = server.content_times()
    server.stop()
    name = f"{case}/app" + ("" if view == "rendered" else f" {view}") + ("" if gc_settled else " (gc NOT settled)")
    name += " (simulator in this process)" if in_process else ""
    return figures(
        name, fed, applied, frame_times, keys, keys_sent, wire_times, busy, started, elapsed, tail_done
    )


def print_result(r: dict[str, Any]) -> None:
    def fmt(s: dict[str, float]) -> str:
        return f"p50 {s['p50']:7.1f}  p95 {s['p95']:7.1f}  max {s['max']:7.1f}"

    print(f"== {r['case']}: {r['chunks']:,} chunks in {r['seconds']} s ({r['chunks_per_s']:,}/s), {r['fps']} frames/s")
    probe = "app message → handled" if "/app" in r["case"] else "key → handler ms      "
    print(f"   {probe} {fmt(r['key_ms'])}   ({r['keys']} handled)")
    print(f"   chunk visible ms (UI)   {fmt(r['visible_ms'])}")
    print(f"   chunk visible ms (wire) {fmt(r['visible_from_wire_ms'])}")
    tenths = " ".join(f"{c:.0f}" for c in r["ui_us_per_chunk_tenths"])
    print(f"   UI CPU µs/chunk, tenths {tenths}   last/first = {r['last_over_first_tenth']}")
    frames = " ".join(f"{c:.1f}" for c in r["frame_ms_tenths"])
    print(f"   layout+paint CPU ms/frame {frames}")
    print(f"   UI CPU / wall time      {r['ui_busy_share']:.0%}")
    print(f"   peak RSS                {r['rss_mb']} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s rate stream, 30k-token long answer")
    parser.add_argument("--gc", action="store_true", help="the app's collector settings (tui.app.settle_gc)")
    parser.add_argument("--in-process", action="store_true", help="simulator on a thread of this process")
    parser.add_argument("--yield-ms", type=float, default=5, help="the run loop yields to the app after this long")
    parser.add_argument("--app", action="store_true", help="the real app (tui.app) instead of the harness")
    parser.add_argument("--case", help="one case, e.g. rate:rendered (runs in this process, prints JSON)")
    args = parser.parse_args()
    if args.case:
        case, view = args.case.split(":")
        if view.startswith("app"):
            app_view = view.partition("-")[2] or "rendered"
            result = asyncio.run(run_app_case(case, app_view, args.quick, args.in_process))
        else:
            result = asyncio.run(run_case(case, view, args.quick, args.gc, args.yield_ms, args.in_process))
        print(json.dumps(result))
        return 0
    cases = ["rate:rendered", "rate:plain", "long:rendered", "long:plain"]
    if args.app:
        cases = ["rate:app", "rate:app-plain", "long:app"]
    for case in cases:
        command = [sys.executable, __file__, "--case", case]
        command += ["--quick"] * args.quick + ["--gc"] * args.gc + ["--in-process"] * args.in_process
        command += ["--yield-ms", str(args.yield_ms)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"== {case}: failed\n{done.stderr[-2000:]}")
            continue
        print_result(json.loads(done.stdout.strip().splitlines()[-1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
