"""How long each test lane takes, and what it costs the machine.

    python bench/suite_lanes.py                       # the three lanes, once each, this tree
    python bench/suite_lanes.py --lanes fast notui --repeats 2 --trees . ../base
                                                     # alternating two trees, as pairs
    python bench/suite_lanes.py --lanes fast --variants "" "-p no:warm_workers"
                                                     # one tree, with and without extra pytest args

Per run it prints the wall time, the CPU of pytest and of everything it started (a cpuacct
cgroup holds them when this runs as root with cgroup v1, so reader processes and servers
that leave pytest's process tree are counted too; otherwise only the processes pytest
waited for), that CPU divided by the cores (the wall time the lane cannot beat, however its
tests are shared out), and when the workers began their first test and ended their last
(what starting and collecting cost before any test ran). Nothing here is a test: figures
are compared within one run, alternating, with the load printed beside each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LANES = {
    "fast": ["-m", "not tui and not process"],
    "notui": ["-m", "not tui"],
    "whole": [],
}
CPUACCT = Path("/sys/fs/cgroup/cpuacct")
PLUGIN = "lane_timeline"  # bench/lane_timeline.py, loaded into pytest and its workers


class CpuMeter:
    """CPU of a command and all it starts: a cgroup where one can be made, else rusage."""

    def __init__(self) -> None:
        self.group: Path | None = None
        if os.geteuid() == 0 and (CPUACCT / "cpuacct.usage").exists():
            group = CPUACCT / f"llmwb-bench-lanes-{os.getpid()}"
            try:
                group.mkdir()
            except OSError:
                return
            self.group = group

    def run(self, argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, float, float]:
        """(exit code, wall s, CPU s) of `argv`."""
        before, group_before = self._children_cpu(), self._group_cpu()
        started = time.monotonic()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   preexec_fn=self._join if self.group else None)  # fmt: skip
        output, _ = process.communicate()
        wall = time.monotonic() - started
        if self.group is not None:
            cpu = self._group_cpu() - group_before
        else:
            cpu = self._children_cpu() - before
        lines = output.decode(errors="replace").strip().splitlines() or ["(no output)"]
        for line in [line for line in lines if line.startswith(("FAILED", "ERROR"))] + lines[-1:]:
            print(f"    {line}")
        return process.returncode, wall, cpu

    def _join(self) -> None:  # in the child, before exec: it and all it starts are counted
        assert self.group is not None
        (self.group / "cgroup.procs").write_text(str(os.getpid()))

    def _group_cpu(self) -> float:
        return int((self.group / "cpuacct.usage").read_text()) / 1e9 if self.group else 0.0

    @staticmethod
    def _children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def close(self) -> None:
        if self.group is not None:
            try:
                self.group.rmdir()
            except OSError:
                pass  # a process left behind in it: the next run makes its own

    def describe(self) -> str:
        if self.group is not None:
            return "CPU: everything the run started (a cpuacct cgroup)"
        return "CPU: pytest and the processes it waited for (no cgroup: not root or no cgroup v1)"


def timeline(directory: Path) -> str:
    """When the workers began their first test and ended their last, from the run's start."""
    spans = [json.loads(path.read_text()) for path in directory.glob("*.json")]
    if not spans:
        return ""
    firsts, lasts = sorted(first for first, _ in spans), sorted(last for _, last in spans)
    return (f", first tests began at {firsts[0]:.1f}–{firsts[-1]:.1f} s,"
            f" last ended at {lasts[0]:.1f}–{lasts[-1]:.1f} s")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lanes", nargs="+", choices=sorted(LANES), default=["fast", "notui", "whole"])
    parser.add_argument("--trees", nargs="+", type=Path, default=[Path(__file__).resolve().parents[1]])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", default="4", help="pytest -n (the README's lanes use 4)")
    parser.add_argument("--variants", nargs="+", default=[""], help="extra pytest args, each run in turn")
    args = parser.parse_args()

    meter = CpuMeter()
    cores = os.cpu_count() or 1
    print(f"{cores} cores; {meter.describe()}")
    failed = False
    try:
        for lane in args.lanes:
            for repeat in range(args.repeats):
                for tree, variant in [(tree.resolve(), variant) for tree in args.trees for variant in args.variants]:
                    with tempfile.TemporaryDirectory(prefix="lane-timeline-") as marks:
                        env = {**os.environ, "LANE_TIMELINE_DIR": marks, "LANE_TIMELINE_T0": repr(time.time()),
                               "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent),
                                                                          os.environ.get("PYTHONPATH")]))}  # fmt: skip
                        argv = [str(tree / ".venv/bin/pytest"), "-q", "-rfE", "-p", "no:cacheprovider", "-p", PLUGIN,
                                "-n", args.workers, *LANES[lane], *shlex.split(variant)]  # fmt: skip
                        load = os.getloadavg()[0]
                        print(f"{lane} #{repeat + 1} {tree} {variant} (load {load:.1f})")
                        code, wall, cpu = meter.run(argv, tree, env)
                        failed |= code != 0
                        print(f"    wall {wall:.1f} s, CPU {cpu:.1f} s, CPU/cores {cpu / cores:.1f} s{timeline(Path(marks))}, "
                              f"exit {code}, load after {os.getloadavg()[0]:.1f}")  # fmt: skip
    finally:
        meter.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
