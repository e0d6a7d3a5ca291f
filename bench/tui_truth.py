"""Are the workbench's figures the wire's while it draws? The app's error against the
simulator's write times, next to the CLI's at the same moment.

    .venv/bin/python bench/tui_truth.py [--repeats 5] [--no-hog] [--reader process|thread|both] [--each]

Cases, each with and without a CPU hog (one busy process per core):
  compare  the real app's several-models compare view: a 300 ms / 20 ms-gap model
           beside a flat-out 21,000-chunk stream (bench-20k), both live;
  main     the main screen alone, the 300 ms / 20 ms-gap model (ctrl+r).
While the app runs its case, `llmwb run --json` runs the same model against its own
simulator, so both are measured under the same load. Simulators run as their own
processes; `time.perf_counter` is CLOCK_MONOTONIC, one clock for every process.

Per run: TTFT−TTFB error = (saved ttft_ms − ttfb_ms) − (first content written − head
written), and worst-gap error = saved itl_max_ms − the largest gap between content
writes. Printed: p50 / p95 over the repeats, app beside CLI. Goal: app p95 ≤ 2 ms on
TTFT−TTFB and ≤ 5 ms on the worst gap, i.e. no worse than the CLI. In the compare case
the flood's rate as its simulator wrote it is printed too: a reader that cannot keep up
(its process starved of CPU) fills the socket and slows the simulator's writes.

`--each` also prints every run's errors and how many of the app's content frames were
read together with the next one. Such frames share one stamp: the reader was late by more
than a gap, and Linux, which merges packets queued on a TCP socket, kept only the last
one's arrival (checked: a 1-byte MSG_PEEK of the first of four queued packets returns the
fourth's stamp). A worst-gap error comes with such frames.

`--reader`: where the app's runs stream — in reader processes (the default,
core.readerproc) or on I/O threads of the app's process (LLMWB_READER=thread); `both`
alternates the two within each repeat, so they meet the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
HOME = tempfile.mkdtemp(prefix="llmwb-truth-")
os.environ["LLMWB_HOME"] = HOME

from core.readerproc import READER_ENV  # noqa: E402
from core.request import ChatRequest  # noqa: E402
from core.store.models import ModelConfig  # noqa: E402
from simserver import ServerProcess  # noqa: E402
from tui.app import create_app  # noqa: E402
from tui.screens.compare_models import ModelsCompareScreen  # noqa: E402

LLMWB = str(Path(sys.executable).parent / "llmwb")
WORDS = 80
TRUTH = {
    "name": "truth", "api": "openai", "text": " ".join(f"word{i}" for i in range(WORDS)),
    "chunking": {"mode": "word"}, "timing": {"first_token_ms": 300, "gap_ms": 20},
}  # fmt: skip
FLOOD = {
    "name": "flood", "api": "openai", "generate": {"kind": "lorem_markdown", "tokens": 21000, "seed": 11},
    "chunking": {"mode": "fixed", "size": 4}, "timing": {"first_token_ms": 0, "gap_ms": 0},
}  # fmt: skip
SIZE = (160, 45)
RUN_TIMEOUT_S = 120.0


def truth_of(server: ServerProcess) -> tuple[float, float]:
    """(first content − head written, largest gap between content writes), in ms."""
    times = server.content_times()
    head = server.head_written_at()
    assert times and head is not None, "the simulator recorded no stream"
    gaps = [(b - a) * 1000.0 for a, b in zip(times, times[1:])]
    return (times[0] - head) * 1000.0, max(gaps)


def written_rate(server: ServerProcess) -> float:
    """Content frames a second, as the simulator wrote its last stream."""
    times = server.content_times()
    return (len(times) - 1) / (times[-1] - times[0])


def errors(metrics: dict[str, Any], server: ServerProcess) -> tuple[float, float]:
    head_to_content, worst_gap = truth_of(server)
    return metrics["ttft_ms"] - metrics["ttfb_ms"] - head_to_content, metrics["itl_max_ms"] - worst_gap


def config(name: str, server: ServerProcess, model: str) -> ModelConfig:
    return ModelConfig(
        name=name, provider="openai-compatible", model=model, base_url=server.root_url + "/v1",
        params={"max_retries": 0},
    )  # fmt: skip


def start_cli() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [LLMWB, "run", "--model", "truth-cli", "--prompt", "go", "--json"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "LLMWB_HOME": HOME},
    )  # fmt: skip


def cli_metrics(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=RUN_TIMEOUT_S)
    last = json.loads(out.strip().splitlines()[-1])
    assert last.get("final_response"), f"the CLI run failed: {last.get('error')}"
    return last["metrics"]


async def wait_for(condition: Any, timeout: float = RUN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the run did not end")
        await asyncio.sleep(0.05)


async def app_case(case: str, store: Any) -> dict[str, Any]:
    """Run the case in the real app; the truth model's saved metrics."""
    app = create_app(Path(HOME))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if case == "compare":
            configs = [store.get_config("truth-app"), store.get_config("flood")]
            screen = ModelsCompareScreen(ChatRequest.from_prompt("go"), configs)
            app.push_screen(screen)
            await wait_for(lambda: len(screen.columns) == 2)
            await wait_for(lambda: all(c.status in ("ok", "error", "cancelled") for c in screen.columns))
        else:
            main = app.screen
            main.models.reload(select="truth-app")  # type: ignore[attr-defined]
            await wait_for(lambda: (c := main.models.selected_config) is not None and c.name == "truth-app")  # type: ignore[attr-defined]
            await pilot.press("ctrl+r")
            await wait_for(lambda: main.output.status in ("ok", "error", "cancelled"))  # type: ignore[attr-defined]
    run = next(r for r in store.list_runs(limit=5) if r.model_config_name == "truth-app")
    assert run.status == "ok", run.error
    return run.metrics | {"read_together": read_together(store, run.id)}


def read_together(store: Any, run_id: str) -> int:
    """Content frames that arrived in one read with the next: the simulator wrote them
    a gap apart, so the reader was late by more than a gap, and Linux, which merges
    queued packets and keeps the last one's stamp, gave all of them that stamp."""
    content = [f.offset_ms for f in store.get_frames(run_id) if '"content"' in f.data]
    return sum(1 for a, b in zip(content, content[1:]) if a == b)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hog(on: bool) -> list[subprocess.Popen[bytes]]:
    if not on:
        return []
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]


async def main(repeats: int, with_hog: bool, cases: list[str], readers: list[str], each: bool) -> None:
    app_server, cli_server, flood_server = ServerProcess(TRUTH), ServerProcess(TRUTH), ServerProcess(FLOOD)
    store = create_app(Path(HOME)).store
    store.save_config(config("truth-app", app_server, "truth"))
    store.save_config(config("truth-cli", cli_server, "truth"))
    store.save_config(config("flood", flood_server, "flood"))
    print(f"tui_truth: {TRUTH['timing']} × {WORDS} words; compare beside {FLOOD['generate']['tokens']:,} chunks flat out;"
          f" {repeats} repeats; {os.cpu_count()} cores")  # fmt: skip
    print(f"  {'case':<16} {'':>11}  {'TTFT−TTFB err p50/p95 ms':>26}  {'worst-gap err p50/p95 ms':>26}")
    try:
        for case in cases:
            for hogged in (False, True) if with_hog else (False,):
                found: dict[str, list[tuple[float, float]]] = {f"app·{r}": [] for r in readers} | {"cli": []}
                flood_rates: dict[str, list[float]] = {f"app·{r}": [] for r in readers}
                for _ in range(repeats):
                    hogs = hog(hogged)
                    try:
                        for reader in readers:
                            os.environ[READER_ENV] = reader
                            cli = start_cli()
                            metrics = await app_case(case, store)
                            found[f"app·{reader}"].append(errors(metrics, app_server))
                            if case == "compare":
                                flood_rates[f"app·{reader}"].append(written_rate(flood_server))
                            found["cli"].append(errors(cli_metrics(cli), cli_server))
                            if each:
                                app_ttft, app_gap = found[f"app·{reader}"][-1]
                                cli_ttft, cli_gap = found["cli"][-1]
                                print(f"    run  {case}{' + hog' if hogged else ''}  app·{reader} {app_ttft:.1f} / {app_gap:.1f}"
                                      f" ({metrics['read_together']} frames read with the next)"
                                      f"  cli {cli_ttft:.1f} / {cli_gap:.1f}", flush=True)  # fmt: skip
                    finally:
                        for process in hogs:
                            process.kill()
                for who, values in found.items():
                    ttft = [v[0] for v in values]
                    gap = [v[1] for v in values]
                    label = f"{case}{' + hog' if hogged else ''}"
                    rates = flood_rates.get(who)
                    print(
                        f"  {label:<16} {who:>11}  {pct(ttft, 0.5):>12.1f} / {pct(ttft, 0.95):<11.1f}"
                        f"  {pct(gap, 0.5):>12.1f} / {pct(gap, 0.95):<11.1f}"
                        + (f"  flood written at {pct(rates, 0.5):,.0f} chunks/s p50 (min {min(rates):,.0f})" if rates else "")
                    )
    finally:
        for server in (app_server, cli_server, flood_server):
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-hog", action="store_true", help="skip the cases with a CPU hog")
    parser.add_argument("--case", action="append", choices=("compare", "main"), help="only this case (repeatable)")
    parser.add_argument("--reader", choices=("process", "thread", "both"), default="process")
    parser.add_argument("--each", action="store_true", help="also print each run's errors (TTFT−TTFB / worst gap)")
    args = parser.parse_args()
    readers = ["process", "thread"] if args.reader == "both" else [args.reader]
    asyncio.run(main(args.repeats, not args.no_hog, args.case or ["compare", "main"], readers, args.each))
