"""The core's cost against a bare `openai` SDK loop, both as whole processes.

Starts `llmwb simulate --port 0` as its own process, then times, alternately:
  (a) sdk:   a script doing `async for chunk in stream` with the openai SDK,
             collecting the content, on scenario bench-20k (21,000 chunks);
  (b) llmwb: `llmwb run --model <config on that simulator> --prompt x --json > /dev/null`
             with a temporary LLMWB_HOME (the run is saved, frames included).
Prints the median wall time of each, the ratio llmwb/sdk (target <= 0.3; issue 9),
checks the last run was saved with all its chunks, and times `llmwb models list`
(target <= 0.25 s) and `python -c pass` (the interpreter's own start, for scale), in
the same run.

The children run in a user's usual environment: PYTHONDONTWRITEBYTECODE and
PYTHONUNBUFFERED are dropped if the calling shell sets them (with the first, llmwb's
own modules, installed editable, would be compiled from source on every start, which
no installed copy does; with the second, every write to a pipe is a system call).

    .venv/bin/python bench/core_overhead.py [--runs 5] [--scenario bench-20k]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATIO_TARGET = 0.3
LIST_TARGET_S = 0.25
BIN = Path(sys.executable).parent
LLMWB = str(BIN / "llmwb")

SDK_LOOP = """
import asyncio, sys
import openai

async def main():
    client = openai.AsyncOpenAI(api_key="not-needed", base_url=sys.argv[1], max_retries=0)
    stream = await client.chat.completions.create(
        model=sys.argv[2], messages=[{"role": "user", "content": "x"}], stream=True
    )
    parts = []
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    text = "".join(parts)
    assert text, "no content"

asyncio.run(main())
"""


def start_simulator(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [LLMWB, "simulate", "--port", "0", "--quiet"], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    banner = process.stdout.readline()  # "llmwb simulator on http://127.0.0.1:PORT  (...)"
    if "http://" not in banner:
        process.kill()
        raise SystemExit(f"simulator did not start: {banner!r}")
    root = banner.split(" on ", 1)[1].split()[0]
    return process, root


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+system) of one whole child process. CPU time
    is the steadier figure on a busy machine; wall time is what a user waits."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenario", default="bench-20k")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="llmwb-bench-") as home:
        env = {**os.environ, "LLMWB_HOME": home}
        for setting in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"):
            env.pop(setting, None)
        simulator, root = start_simulator(env)
        try:
            sdk_script = Path(home) / "sdk_loop.py"
            sdk_script.write_text(SDK_LOOP)
            subprocess.run(
                [LLMWB, "models", "add", "bench", "--provider", "openai-compatible", "--model", args.scenario,
                 "--base-url", f"{root}/v1", "--param", "max_retries=0"],
                env=env, stdout=subprocess.DEVNULL, check=True,
            )  # fmt: skip
            sdk_argv = [sys.executable, str(sdk_script), f"{root}/v1", args.scenario]
            llmwb_argv = [LLMWB, "run", "--model", "bench", "--prompt", "x", "--json"]
            list_argv, bare_argv = [LLMWB, "models", "list"], [sys.executable, "-c", "pass"]
            for argv in (sdk_argv, llmwb_argv, list_argv):  # warm-up: page cache, .pyc
                timed(argv, env)
            sdk_times, llmwb_times, list_times, bare_times = [], [], [], []
            for _ in range(args.runs):
                sdk_times.append(timed(sdk_argv, env))
                llmwb_times.append(timed(llmwb_argv, env))
                list_times.append(timed(list_argv, env))
                bare_times.append(timed(bare_argv, env))
            listed = subprocess.run(
                [LLMWB, "history", "list", "--json", "--limit", "1"], env=env, capture_output=True, text=True, check=True
            )
            run_id = json.loads(listed.stdout)[0]["id"]
            shown = subprocess.run(
                [LLMWB, "history", "show", run_id, "--json", "--frames"], env=env, capture_output=True, text=True, check=True
            )
            saved = json.loads(shown.stdout)
        finally:
            simulator.terminate()
            simulator.wait(timeout=10)

    print(f"scenario {args.scenario}, {args.runs} runs each, whole processes (medians)")
    print("                                    wall s    cpu s")
    medians = []
    for label, times in (("(a) bare openai SDK loop", sdk_times), ("(b) llmwb run --json >/dev/null", llmwb_times)):
        wall, cpu = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)
        medians.append((wall, cpu))
        print(f"  {label:<32} {wall:6.3f}   {cpu:6.3f}   (wall runs: {', '.join(f'{t[0]:.2f}' for t in times)})")
    (sdk_wall, sdk_cpu), (core_wall, core_cpu) = medians
    ratio = core_wall / sdk_wall
    print(f"  ratio llmwb / sdk: wall {ratio:.2f}, cpu {core_cpu / sdk_cpu:.2f}"
          f"  (target <= {RATIO_TARGET:.2f} wall: {'met' if ratio <= RATIO_TARGET else 'MISSED'})")
    list_wall = statistics.median(t[0] for t in list_times)
    bare_wall = statistics.median(t[0] for t in bare_times)
    print(f"  llmwb models list: {list_wall:.3f} s wall median, {statistics.median(t[1] for t in list_times):.3f} s cpu"
          f"  (target <= {LIST_TARGET_S} s: {'met' if list_wall <= LIST_TARGET_S else 'MISSED'})")
    print(f"  python -c pass:    {bare_wall:.3f} s wall median, {statistics.median(t[1] for t in bare_times):.3f} s cpu"
          f"  (models list = {list_wall / bare_wall:.1f}x the bare interpreter's start)")
    print(f"  load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    metrics = saved["metrics"]
    print(
        f"  last run saved: id {saved['id']}, status {saved['status']}, {metrics['chunks']} chunks, "
        f"{len(saved['frames'])} wire frames, {metrics['completion_tokens']} tokens ({metrics['usage_source']}), "
        f"{metrics['total_ms']:.0f} ms request-to-last-byte inside the run"
    )


if __name__ == "__main__":
    main()
