"""What a frame of the six-stream comparison costs the UI thread, in CPU: before/after, in one run.

    .venv/bin/python bench/tui_frame_cost.py [--source TREE ...] [--pairs 2] [--window 10] [--spy DIR]

The real `llmwb` on bench/tui_responsiveness.py's pseudo-terminal and models (six
simulator streams in the compare view). A probe wraps Textual's screen update (the
layout and paint of one frame) and records each frame's CPU time on the UI thread
(`time.thread_time`, so other processes' load does not count) into a file the bench
reads; the UI thread's whole CPU comes from /proc. Per tree, alternating (A B A B…):

  streams   a window with no key pressed: frames a second, CPU per frame p50 / p95,
            layouts among them, and the UI thread's CPU per second of wall time
  keys      F1, Esc, ctrl+n (wire view), ctrl+n ×2 (back), Home, End, as the
            responsiveness bench presses them: the CPU of the frames drawn from the
            key until its effect was drawn (the key's own frame, plus any stream frame
            it waited behind), and the wall time (the load is in it; the CPU is not)

CPU figures are the ones to compare on a shared machine; the load average is printed
with each pass. `--spy DIR` also records a py-spy profile of the UI thread during the
streams window (`DIR/<tree>-<pass>.txt`, collapsed stacks).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tui_responsiveness as resp  # noqa: E402

PROBE = r"""
import os, sys, time
sys.path.insert(0, {source!r})
from textual.screen import Screen
_out = open(os.environ["LLMWB_FRAME_PROBE"], "a", buffering=1)
_depth = [0, 0]
def _probe(name):
    original = getattr(Screen, name)
    def probed(self, *args, **kwargs):
        if _depth[0]:
            return original(self, *args, **kwargs)
        layout = int(name == "_refresh_layout" or self._layout_required or self._scroll_required)
        wall, cpu = time.perf_counter(), time.thread_time()
        _depth[0] += 1
        try:
            return original(self, *args, **kwargs)
        finally:
            _depth[0] -= 1
            _out.write(f"{{wall:.6f}} {{time.perf_counter() - wall:.6f}} {{time.thread_time() - cpu:.6f}} {{layout}} {{type(self).__name__}}\n")
    setattr(Screen, name, probed)
# A frame: the update timer's layout and paint, or a layout / paint called directly (a screen pushed).
for _name in ("_on_timer_update", "_refresh_layout", "_compositor_refresh"):
    _probe(_name)
if os.environ.get("LLMWB_FRAME_CLASSES"):  # CPU of each widget class's render_lines, summed
    import json
    from collections import Counter
    from textual.widget import Widget
    _by_class, _calls, _dumped = Counter(), Counter(), [time.perf_counter()]
    def _wrap(cls):
        original = cls.__dict__["render_lines"]
        def render_lines(self, crop):
            if _depth[1]:  # a subclass's render_lines calling its base's: counted once
                return original(self, crop)
            cpu = time.thread_time()
            _depth[1] += 1
            try:
                return original(self, crop)
            finally:
                _depth[1] -= 1
                name = type(self).__name__ + ("#" + self.id if self.id else "")
                _by_class[name] += time.thread_time() - cpu
                _calls[name] += 1
                now = time.perf_counter()
                if now - _dumped[0] > 1.0:
                    _dumped[0] = now
                    with open(os.environ["LLMWB_FRAME_CLASSES"], "w") as f:
                        json.dump({{"at": now, "cpu": _by_class, "calls": _calls}}, f)
        cls.render_lines = render_lines
    def _all(cls):
        yield cls
        for sub in cls.__subclasses__():
            yield from _all(sub)
    # Every widget class defined (the app imports most of its screens lazily), then each
    # render_lines override wrapped.
    import tui.app, tui.screens.main, tui.screens.compare_models, tui.widgets.output.markdown_stream
    for _cls in set(_all(Widget)):
        if "render_lines" in _cls.__dict__:
            _wrap(_cls)
if os.environ.get("LLMWB_FRAME_EXTRA"):  # more probes of your own, from this file
    exec(open(os.environ["LLMWB_FRAME_EXTRA"]).read())
from tui.cli import console_main
console_main()
"""

SPY = Path("/tmp/spyenv/bin/py-spy")


def thread_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the process's main thread, the UI loop's."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def frames(probe: Path, start: float, end: float) -> list[tuple[float, float, float, int, str]]:
    rows = []
    for line in probe.read_text().splitlines():
        at, wall, cpu, layout, screen = line.split()
        if start <= float(at) <= end:
            rows.append((float(at), float(wall), float(cpu), int(layout), screen))
    return rows


def ms(values: list[float], q: float) -> str:
    return f"{resp.pct(values, q) * 1000:5.1f}" if values else "   - "


def one_pass(source: Path, window: float, samples: int, spy: Path | None, label: str) -> dict[str, str]:
    base = Path(tempfile.mkdtemp(prefix="llmwb-frame-"))
    home = base / "home"
    scenario_dir = home / "scenarios"
    resp.prepare_home(home, scenario_dir)
    probe = base / "frames.txt"
    os.environ["LLMWB_FRAME_PROBE"] = str(probe)
    resp.COMMAND[:] = [sys.executable, "-c", PROBE.format(source=str(source.resolve()))]
    load = os.getloadavg()[0]
    term = resp.start_app(home, scenario_dir)
    out: dict[str, str] = {"load": f"{load:.1f}"}
    try:
        resp.open_compare(term)
        resp.pause(2.0)
        spying = None
        if spy is not None:
            spy.mkdir(parents=True, exist_ok=True)
            spying = subprocess.Popen(
                [str(SPY), "record", "--pid", str(term.pid), "--rate", "250", "--format", "raw", "--nonblocking",
                 "--duration", str(int(window)), "--output", str(spy / f"{label}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        classes = os.environ.get("LLMWB_FRAME_CLASSES")
        before = json.loads(Path(classes).read_text()) if classes else None
        start, cpu0 = time.perf_counter(), thread_cpu(term.pid)
        resp.pause(window)
        end, cpu1 = time.perf_counter(), thread_cpu(term.pid)
        if classes and before:
            after = json.loads(Path(classes).read_text())
            spent = {k: v - before["cpu"].get(k, 0.0) for k, v in after["cpu"].items()}
            calls = {k: v - before["calls"].get(k, 0) for k, v in after["calls"].items()}
            print(f"  {label}: render_lines CPU by widget class over {after['at'] - before['at']:.1f} s (ms, calls, ms a call)")
            for name, cpu in sorted(spent.items(), key=lambda kv: -kv[1])[:15]:
                if calls[name]:
                    print(f"    {cpu * 1000:8.1f} {calls[name]:6d} {cpu / calls[name] * 1000:7.3f}  {name}")
        if spying is not None:
            spying.wait()
        rows = [r for r in frames(probe, start, end) if r[4] == "ModelsCompareScreen"]
        cpus = [r[2] for r in rows]
        out["frames/s"] = f"{len(rows) / (end - start):.1f}"
        out["frame CPU p50/p95 ms"] = f"{ms(cpus, 0.5)} / {ms(cpus, 0.95)}"
        out["layouts"] = f"{sum(r[3] for r in rows)}/{len(rows)}"
        out["UI CPU per s"] = f"{(cpu1 - cpu0) / (end - start) * 1000:.0f} ms"
        keys: dict[str, tuple[list[float], list[float]]] = {}

        def timed(name: str, key: str, needle: str) -> None:
            since, sent = term.send(key)
            try:
                drawn = term.wait_for(needle, since, resp.MISS_S)
            except TimeoutError:
                drawn = float("inf")
            time.sleep(0.05)  # the probe's line for the last frame
            cpu = sum(r[2] for r in frames(probe, sent, drawn if drawn != float("inf") else sent + resp.MISS_S))
            walls, cpus_ = keys.setdefault(name, ([], []))
            walls.append((drawn - sent))
            cpus_.append(cpu)

        for _ in range(samples):
            timed("F1", "f1", "Keys — F1 or Esc closes")
            resp.pause(0.2)
            timed("Esc", "escape", "Compare 6 models")
            resp.pause(0.2)
            term.send("ctrl+n")
            resp.pause(0.3)
            timed("ctrl+n", "ctrl+n", resp.WIRE_MARK)
            resp.pause(0.2)
            term.send("ctrl+n")
            resp.pause(0.3)
            timed("Home", "home", resp.SCROLL_TOP)
            resp.pause(0.5)
            term.send("end")
            resp.pause(0.3)
        for name, (walls, cpus_) in keys.items():
            answered = [w for w in walls if w != float("inf")]
            out[f"{name} CPU p50/p95 ms"] = f"{ms(cpus_, 0.5)} / {ms(cpus_, 0.95)}"
            out[f"{name} wall p50/p95 ms"] = f"{ms(answered, 0.5)} / {ms(answered, 0.95)}" + (
                f" ({len(walls) - len(answered)} missed)" if len(answered) < len(walls) else "")
        restored, exited = term.quit()
        out["quit → exited ms"] = f"{exited:.0f}"
    finally:
        term.kill()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, action="append", help="a source tree (repeat: alternated)")
    parser.add_argument("--pairs", type=int, default=2, help="passes of each tree")
    parser.add_argument("--window", type=float, default=10.0, help="seconds of streams without keys")
    parser.add_argument("--samples", type=int, default=6, help="presses of each key per pass")
    parser.add_argument("--spy", type=Path, help="record py-spy profiles into this directory")
    args = parser.parse_args()
    sources = args.source or [resp.ROOT]
    print(f"tui_frame_cost: {resp.COLS}×{resp.ROWS} pty, {os.cpu_count()} cores, trees: "
          + ", ".join(f"{chr(65 + i)}={s}" for i, s in enumerate(sources)))  # fmt: skip
    results: list[tuple[str, dict[str, str]]] = []
    for round_ in range(args.pairs):
        for i, source in enumerate(sources):
            label = f"{chr(65 + i)}{round_ + 1}"
            results.append((label, one_pass(source, args.window, args.samples, args.spy, label)))
            print(f"  {label} done (load {results[-1][1]['load']})", flush=True)
    names = list(dict.fromkeys(k for _, r in results for k in r))
    print(f"\n  {'':<24}" + "".join(f"{label:>22}" for label, _ in results))
    for name in names:
        print(f"  {name:<24}" + "".join(f"{r.get(name, '-'):>22}" for _, r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
