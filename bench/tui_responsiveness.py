"""Does the real workbench answer at once while it streams? Measured in a real terminal.

    .venv/bin/python bench/tui_responsiveness.py [--rounds 3] [--samples 12] [--no-hog] [--only switch,keys,quit]

The app is launched as a user launches it (`llmwb`, a fresh interpreter) on a
pseudo-terminal of 160×45; the bench types into it and reads what it draws. A
figure is the time from writing a key's bytes to the terminal until the bytes that
show its effect have come back out (the text the key makes appear, escape
sequences stripped), so it counts everything a user waits for: the key's parsing,
the event loop's backlog, the handler, the layout, the paint and the write.

Cases, each without and with a CPU hog (one busy process per core):
  switch  main screen, idle: ctrl+r → the output pane shows the new run ("streaming");
          ctrl+g between samples. Goal ≤ 50 ms.
  keys    several-models compare view, six simulator models streaming (two paced,
          three at 500 chunks/s, one at 1,000 chunks/s, rendered Markdown): F1 → the
          key list is drawn, Esc → the comparison is back, ctrl+n → the focused column's
          view changes (the wire view is drawn), Home / End on the focused column's answer → its first / newest
          line is drawn. Goal p95 ≤ 100 ms.
  quit    ctrl+q mid-stream, on the main screen (one fast stream) and in the compare
          view (six): until the terminal is restored (the alternate screen is left) and
          until the process has exited (the shell's prompt is back). Goal < 300 ms.
          Then the database is checked: every run saved, none left `running`, each
          cancelled one with its partial output and the reason.

Models are the embedded simulator's (scenarios written to LLMWB_SCENARIO_DIR), the
app's collector settings and start-up are its own. Figures print as p50 / p95 / max;
nothing is asserted. The machine's other load is whatever it is: say so with them.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import pty
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import fcntl
from bisect import bisect_right
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLS, ROWS = 160, 45
COMMAND = [str(Path(sys.executable).with_name("llmwb"))]
TIMEOUT_S = 15.0
clock = time.perf_counter  # CLOCK_MONOTONIC

# Escape sequences: CSI, OSC, DCS and two-byte ones. A sequence cut by a read is held back.
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1bP[^\x1b]*\x1b\\|\x1b[@-Z\\-_]")
_PARTIAL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|P[^\x1b]*)?$")

KEYS = {
    "ctrl+r": b"\x12", "ctrl+g": b"\x07", "ctrl+q": b"\x11", "ctrl+n": b"\x0e", "f1": b"\x1bOP",
    "f8": b"\x1b[19~", "escape": b"\x1b", "home": b"\x1b[H", "end": b"\x1b[F", "down": b"\x1b[B",
    "space": b" ", "tab": b"\t",
}  # fmt: skip

SCROLL_TOP = "SCROLLTOP first line of the answer"
WIRE_MARK = " ms  data:"  # a wire view line: arrival offset, then the SSE frame


def lines_text(tag: str, count: int) -> str:
    return "".join(f"{tag} line {i:05d}: lorem ipsum dolor sit amet, consectetur.\n\n" for i in range(count))


def scenarios() -> dict[str, dict[str, Any]]:
    """Six models for the comparison (names sort in picker order) and the main screen's."""
    def paced(name: str, gap_ms: float, text: str) -> dict[str, Any]:
        return {"name": name, "api": "openai", "text": text, "chunking": {"mode": "fixed", "size": 4},
                "timing": {"first_token_ms": 300, "gap_ms": gap_ms}}  # fmt: skip

    def fast(name: str, gap_ms: float, seed: int) -> dict[str, Any]:
        return {"name": name, "api": "openai", "generate": {"kind": "lorem_markdown", "tokens": 40_000, "seed": seed},
                "chunking": {"mode": "fixed", "size": 4}, "timing": {"first_token_ms": 50, "gap_ms": gap_ms}}  # fmt: skip

    return {
        "b1-paced": paced("b1-paced", 20, SCROLL_TOP + "\n\n" + lines_text("b1", 2000)),
        "b2-paced": paced("b2-paced", 50, lines_text("b2", 2000)),
        "b3-fast": fast("b3-fast", 2, 3),
        "b4-fast": fast("b4-fast", 2, 4),
        "b5-fast": fast("b5-fast", 2, 5),
        "b6-flood": fast("b6-flood", 1, 6),
    }


def prepare_home(home: Path, scenario_dir: Path) -> None:
    """Only the bench's models in a fresh database (b1-paced is the first: selected)."""
    os.environ["LLMWB_HOME"] = str(home)
    from core.seed import ensure_seeded
    from core.store import Store
    from core.store.models import ModelConfig

    scenario_dir.mkdir(parents=True, exist_ok=True)
    for name, scenario in scenarios().items():
        (scenario_dir / f"{name}.json").write_text(json.dumps(scenario))
    store = Store(home / "llmwb.db")
    ensure_seeded(store)
    for config in store.list_configs():
        store.remove_config(config.name)
    for name in scenarios():
        store.save_config(ModelConfig(name=name, provider="simulator", model=name, params={"max_retries": 0}))
    store.engine.dispose()


def _end_of(needle: str, text: str, start: int) -> int:
    found = text.find(needle, start)
    return found + len(needle) if found >= 0 else -1


class Needle:
    """What a key makes appear, when it is not one fixed string: a line of b1's answer
    numbered above `after` (`end_in` gives where the first one drawn ends, or -1)."""

    def __init__(self, after: int) -> None:
        self.after = after

    def end_in(self, text: str, start: int) -> int:
        for match in re.finditer(r"b1 line (\d{5})", text[start:]):
            if int(match.group(1)) > self.after:
                return start + match.end()
        return -1

    def __repr__(self) -> str:
        return f"a b1 line above {self.after:05d}"


class Terminal:
    """The app on a pseudo-terminal; a thread reads all it writes, stamped on arrival."""

    def __init__(self, home: Path, scenario_dir: Path) -> None:
        env = {**os.environ, "LLMWB_HOME": str(home), "LLMWB_SCENARIO_DIR": str(scenario_dir),
               "TERM": "xterm-256color", "COLORTERM": "truecolor", "COLUMNS": str(COLS), "LINES": str(ROWS)}  # fmt: skip
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(COMMAND[0], COMMAND, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self._cond = threading.Condition()
        self.text = ""  # everything drawn, escape sequences stripped
        self._starts: list[int] = []  # offset in `text` where each read's text begins
        self._times: list[float] = []  # when that read returned
        self.raw_marks: dict[bytes, float] = {}  # first time a watched raw sequence came out
        self.watch_raw: tuple[bytes, ...] = (b"\x1b[?1049l",)  # the alternate screen is left
        self.exited_at: float | None = None
        self.closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        held = ""
        tail = b""
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                chunk = b""
            now = clock()
            if not chunk:
                with self._cond:
                    self.closed = True
                    self._cond.notify_all()
                return
            window = tail + chunk
            for needle in self.watch_raw:
                if needle not in self.raw_marks and needle in window:
                    self.raw_marks[needle] = now
            tail = window[-16:]
            text = held + decoder.decode(chunk)
            partial = _PARTIAL.search(text[-256:])
            held = text[len(text) - 256 + partial.start():] if partial and len(text) > 256 else (
                text[partial.start():] if partial else "")
            text = text[: len(text) - len(held)]
            clean = _ESCAPE.sub("", text)
            with self._cond:
                self._starts.append(len(self.text))
                self._times.append(now)
                self.text += clean
                self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.text)

    def send(self, key: str) -> tuple[int, float]:
        """Write a key's bytes; (offset of what is drawn from now on, when it was written)."""
        offset = self.mark()
        os.write(self.fd, KEYS.get(key, key.encode()))
        return offset, clock()

    def wait_for(self, needle: str | Needle, since: int, timeout: float = TIMEOUT_S) -> float:
        """When `needle` was first drawn after offset `since` (the read that completed it)."""
        find = needle.end_in if isinstance(needle, Needle) else lambda text, start: _end_of(needle, text, start)
        deadline = clock() + timeout
        with self._cond:
            while True:
                end = find(self.text, since)
                if end >= 0:
                    index = bisect_right(self._starts, end - 1) - 1
                    return self._times[index]
                left = deadline - clock()
                if left <= 0 or self.closed:
                    raise TimeoutError(f"{needle!r} not drawn; last: {self.text[-300:]!r}")
                self._cond.wait(left)

    def latency(self, key: str, needle: str | Needle, timeout: float = TIMEOUT_S) -> float:
        """ms from writing `key` to `needle` being drawn (inf: not drawn within `timeout`)."""
        since, sent = self.send(key)
        try:
            return (self.wait_for(needle, since, timeout) - sent) * 1000
        except TimeoutError:
            if self.closed:
                raise
            return float("inf")

    def quit(self) -> tuple[float, float]:
        """ctrl+q: ms until the alternate screen is left, and until the process exited."""
        _, sent = self.send("ctrl+q")
        _, status = os.waitpid(self.pid, 0)
        exited = clock()
        self._reader.join(5)
        restored = self.raw_marks.get(b"\x1b[?1049l", float("nan"))
        os.close(self.fd)
        self.pid = 0
        return (restored - sent) * 1000, (exited - sent) * 1000

    def kill(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = 0


def pause(seconds: float) -> None:
    time.sleep(seconds)  # a bench pacing its keys, like a user: not a synchronisation


def start_app(home: Path, scenario_dir: Path) -> Terminal:
    term = Terminal(home, scenario_dir)
    term.wait_for("No run yet", 0, timeout=30)
    # One run first: the SDK imports (a thread after the first frame) and the simulator's
    # start are start-up costs, not what a key waits for later.
    since, _ = term.send("ctrl+r")
    term.wait_for("SCROLLTOP", since, timeout=60)
    since, _ = term.send("ctrl+g")
    term.wait_for("cancelled", since)
    pause(0.5)
    return term


def case_switch(home: Path, scenario_dir: Path, samples: int) -> dict[str, list[float]]:
    term = start_app(home, scenario_dir)
    switch: list[float] = []
    idle_f1: list[float] = []
    try:
        for _ in range(samples):  # the same keys as in the comparison, nothing streaming: the baseline
            idle_f1.append(term.latency("f1", "Keys — F1 or Esc closes"))
            pause(0.2)
            term.latency("escape", "Prompt")  # the prompt box's title, drawn again
            pause(0.2)
        for _ in range(samples):
            switch.append(term.latency("ctrl+r", "streaming"))
            pause(0.15)
            term.latency("ctrl+g", "cancelled")
            pause(0.3)
    finally:
        term.kill()
    return {"idle main screen: F1 → keys shown": idle_f1, "ctrl+r → panes show the new run": switch}


def open_compare(term: Terminal) -> None:
    since, _ = term.send("f8")
    term.wait_for("selected", since)  # the picker's count line
    for count in range(2, 7):
        term.send("down")
        pause(0.1)
        since, _ = term.send("space")
        term.wait_for(f"{count} of 6 selected", since)
    since, _ = term.send("c")
    term.wait_for("Compare 6 models", since)


def case_keys(home: Path, scenario_dir: Path, samples: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    term = start_app(home, scenario_dir)
    figures: dict[str, list[float]] = {k: [] for k in ("F1 → keys shown", "Esc → comparison back", "ctrl+n → wire view",
                                                       "Home → first line", "End → newest line")}  # fmt: skip
    quits: dict[str, list[float]] = {}
    try:
        open_compare(term)
        pause(2.0)  # every stream flowing; b1's first line scrolled away
        for _ in range(samples):
            figures["F1 → keys shown"].append(term.latency("f1", "Keys — F1 or Esc closes"))
            pause(0.2)
            figures["Esc → comparison back"].append(term.latency("escape", "Compare 6 models"))
            pause(0.2)
            term.send("ctrl+n")  # to plain: looks like rendered for b1's text, so not timed
            pause(0.3)
            figures["ctrl+n → wire view"].append(term.latency("ctrl+n", WIRE_MARK, MISS_S))
            pause(0.2)
            term.send("ctrl+n")  # back to rendered
            pause(0.3)
            home = term.latency("home", SCROLL_TOP, MISS_S)
            figures["Home → first line"].append(home)
            pause(0.2)
            if home != float("inf"):  # else the view still follows: End would time the stream
                newest = newest_b1_line(term)
                figures["End → newest line"].append(term.latency("end", newest, MISS_S))
            pause(0.3)
        restored, exited = term.quit()
        quits = {"compare: ctrl+q → terminal restored": [restored], "compare: ctrl+q → process exited": [exited]}
    finally:
        term.kill()
    return figures, quits


def newest_b1_line(term: Terminal) -> Needle:
    """Any line of b1's answer newer than the newest drawn before Home froze the view:
    End must draw the newest lines. (Not the one line after that newest: keys hold the
    streams' frames back, so b1 may have streamed more lines since than its column
    shows, and End rightly draws the newest — that line is then above the window. It
    made End look "not drawn within 3 s" in 2-3 of 20 presses.)"""
    pause(0.4)  # b1 writes a line every ~0.3 s
    numbers = re.findall(r"b1 line (\d{5})", term.text[-200_000:])
    return Needle(after=int(max(numbers)))


def case_quit_main(home: Path, scenario_dir: Path) -> dict[str, list[float]]:
    term = start_app(home, scenario_dir)
    try:
        for _ in range(3):  # b1-paced is selected: move to b3-fast
            term.send("down")
        pause(0.3)
        term.latency("ctrl+r", "streaming")
        pause(1.5)
        restored, exited = term.quit()
    finally:
        term.kill()
    return {"main: ctrl+q → terminal restored": [restored], "main: ctrl+q → process exited": [exited]}


def saved_runs(home: Path) -> list[tuple[str, str, str, int]]:
    """(model, status, error, characters of output) of every run in the database."""
    conn = sqlite3.connect(home / "llmwb.db")
    try:
        rows = conn.execute("SELECT model_config_name, status, coalesce(error, ''), response FROM run").fetchall()
    finally:
        conn.close()
    return [(name, status, error, len((json.loads(resp or "{}") or {}).get("content") or "")) for name, status, error, resp in rows]


def check_saved(home: Path, label: str) -> str:
    """The runs as saved. The app ends once its reader processes hold their runs; they
    save them just after (up to SAVE_GRACE_S is waited for, and said)."""
    started = clock()
    runs = saved_runs(home)
    while any(r[1] == "running" for r in runs) and clock() - started < SAVE_GRACE_S:
        pause(0.02)
        runs = saved_runs(home)
    waited_ms = (clock() - started) * 1000
    running = [r for r in runs if r[1] == "running"]
    cancelled = [r for r in runs if r[1] == "cancelled"]
    empty = [r[0] for r in cancelled if r[3] == 0]
    reasons = sorted({r[2] for r in cancelled})
    return (f"{label}: {len(runs)} runs saved ({waited_ms:.0f} ms after the check began), {len(running)} left "
            f"running, {len(cancelled)} cancelled ({len(empty)} without output), reasons {reasons}")  # fmt: skip


SAVE_GRACE_S = 10.0
MISS_S = 3.0  # a key whose effect is not drawn by then does nothing here (counted as missed)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


class Hog:
    """One busy process per core."""

    def __enter__(self) -> "Hog":
        code = "while True: pass"
        self.processes = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(os.cpu_count() or 2)]
        return self

    def __exit__(self, *_: object) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


def run_cases(args: argparse.Namespace, base: Path) -> tuple[dict[str, list[float]], list[str]]:
    figures: dict[str, list[float]] = {}
    notes: list[str] = []

    def add(new: dict[str, list[float]]) -> None:
        for key, values in new.items():
            figures.setdefault(key, []).extend(values)

    for round_ in range(args.rounds):
        home = Path(tempfile.mkdtemp(dir=base))
        scenario_dir = home / "scenarios"
        prepare_home(home, scenario_dir)
        if "switch" in args.only and round_ == 0:
            add(case_switch(home, scenario_dir, args.samples))
        if "keys" in args.only:
            keys, quits = case_keys(home, scenario_dir, args.samples if round_ == 0 else max(args.samples // 3, 2))
            add(keys)
            add(quits)
            notes.append(check_saved(home, f"after compare quit, round {round_ + 1}"))
        if "quit" in args.only:
            home2 = Path(tempfile.mkdtemp(dir=base))
            prepare_home(home2, home2 / "scenarios")
            add(case_quit_main(home2, home2 / "scenarios"))
            notes.append(check_saved(home2, f"after main quit, round {round_ + 1}"))
    return figures, notes


def report(title: str, figures: dict[str, list[float]], notes: list[str]) -> None:
    print(f"\n{title}")
    for name, values in figures.items():
        answered = [v for v in values if v != float("inf")]
        missed = f", {len(values) - len(answered)} not answered in {MISS_S:.0f} s" if len(answered) < len(values) else ""
        if not answered:
            print(f"  {name:<40} never answered (n={len(values)}: the key does nothing here)")
            continue
        print(f"  {name:<40} p50 {pct(answered, 0.5):7.1f} ms  p95 {pct(answered, 0.95):7.1f} ms  "
              f"max {max(answered):7.1f} ms  (n={len(answered)}{missed})")  # fmt: skip
    for note in notes:
        print(f"  {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="app launches per case (each quit is one sample)")
    parser.add_argument("--samples", type=int, default=12, help="key samples in the first round")
    parser.add_argument("--no-hog", action="store_true", help="skip the loaded runs")
    parser.add_argument("--hog-only", action="store_true", help="only the loaded runs")
    parser.add_argument("--only", default="switch,keys,quit")
    parser.add_argument("--source", type=Path, help="run the llmwb of this source tree instead (e.g. an older commit's, for before/after)")
    args = parser.parse_args()
    if args.source is not None:
        code = f"import sys; sys.path.insert(0, {str(args.source.resolve())!r}); from tui.cli import main; sys.exit(main())"
        COMMAND[:] = [sys.executable, "-c", code]
    args.only = set(args.only.split(","))
    base = Path(tempfile.mkdtemp(prefix="llmwb-resp-"))
    print(f"tui_responsiveness: {COLS}×{ROWS} pty, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"app: {args.source or 'this tree'}")
    if not args.hog_only:
        figures, notes = run_cases(args, base)
        report("no hog", figures, notes)
    if not args.no_hog:
        with Hog():
            figures, notes = run_cases(args, base)
        report(f"CPU hog on {os.cpu_count()} cores", figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
