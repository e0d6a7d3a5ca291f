"""Re-check a module's surviving mutants against new tests only (bench/mutation.sh --recheck).

`mutmut run NAMES` would re-collect its per-test statistics over the whole selection
first (minutes on a loaded 2-core machine); new tests can only kill more mutants, so
running just those tests against each survivor gives the same verdicts for a fraction
of the cost. Like mutmut: pytest is imported and the tests collected once, then each
mutant runs in a forked child with MUTANT_UNDER_TEST set (mutmut's trampolines read it).
A killed survivor's verdict is written back to mutmut's `.meta` file as killed (1).

    python bench/mutation_recheck.py [--unchecked | --resume] [--only MODULE] [--rebuild MODULE:NAME]
                                     [--jobs N] [--log DIR] [--wall S] [--test-timeout S]
                                     [--sample N --seed S] WORK_DIR TEST_FILE...

--unchecked also runs the mutants a cut-short mutmut run never reached, and those no
selected test reached (mutmut's 33, "no tests"); one that survives every test given is
then recorded as survived (0); --resume runs only those with no verdict yet (a stopped
--unchecked run, resumed with the same tests). --only MODULE (core/simulator/server.py) checks that
module's mutants alone, when the work dir holds several.

Tests that start processes which outlive a test (the reader pool: core.readerpool) must
not run in this process: only each mutant's fork runs them, so no fork inherits a started
forker or idle workers whose reading threads did not survive the fork (mutmut itself runs
its statistics and clean run in the process it forks from). --rebuild core.readerpool:pool
calls `pool.__init__()` again in each fork, under the mutant: a module-level object built at
import ran the original code. --jobs runs N forks at a time; --log keeps each mutant's pytest
output (which test failed, and why) in DIR/<mutant>.txt; --wall kills a fork still running
after S seconds (recorded as a timeout, 24, which mutation.sh counts killed: re-run those
alone before believing them); --test-timeout is pytest-timeout's bound per test (60 s): a
test it stops fails, which kills the mutant (the log says "Timeout"). --sample N checks only
N of the mutants it would check, drawn at random with --seed (a sample, not a score).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

TIMEOUT = 24  # as mutmut records a mutant that hung the tests


def survivors(mutants: Path, unchecked: bool, only: str | None, resume: bool = False) -> dict[Path, list[str]]:
    wanted = {None, 33} if resume else {0, None, 33} if unchecked else {0}
    found: dict[Path, list[str]] = {}
    metas = [mutants / f"{only}.meta"] if only else sorted(mutants.rglob("*.py.meta"))
    for meta in metas:
        names = [name for name, code in json.loads(meta.read_text())["exit_code_by_key"].items() if code in wanted]
        if names:
            found[meta] = names
    return found


def start_one(name: str, pytest_args: list[str], rebuild: str | None, log: Path | None) -> int:
    import pytest

    pid = os.fork()
    if pid == 0:
        # A process group of its own: a mutant that hands the tests pid 0 for a process (the
        # reader forker's pid sent back by the child) makes `os.kill(pid, SIGKILL)` signal the
        # whole group, which then held this checker too and ended the run.
        os.setpgid(0, 0)
        os.environ["MUTANT_UNDER_TEST"] = name
        sys.stdout.flush()
        out = os.open(log / f"{name or 'clean'}.txt" if log else os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        if rebuild:
            module, _, attribute = rebuild.partition(":")
            getattr(importlib.import_module(module), attribute).__init__()
        os._exit(int(pytest.main(pytest_args)))
    return pid


def run_all(names: list[str], jobs: int, wall: float, start: Callable[[str], int]) -> Iterator[tuple[str, int]]:
    """Each name with its fork's exit code, `jobs` forks at a time; a fork past `wall`
    seconds is killed (TIMEOUT)."""
    running: dict[int, tuple[str, float]] = {}
    queue = list(names)
    while queue or running:
        while queue and len(running) < jobs:
            name = queue.pop(0)
            running[start(name)] = (name, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for late, (name, began) in list(running.items()):
                if time.monotonic() - began > wall:
                    os.kill(late, signal.SIGKILL)
            time.sleep(0.05)
            continue
        name, began = running.pop(pid)
        late = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL and time.monotonic() - began > wall
        yield name, TIMEOUT if late else os.waitstatus_to_exitcode(status)


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser()
    parser.add_argument("--unchecked", action="store_true")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--only")
    parser.add_argument("--rebuild")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--log", type=Path)
    parser.add_argument("--wall", type=float, default=float("inf"))
    parser.add_argument("--test-timeout", type=float, default=60.0)
    parser.add_argument("--sample", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("work", type=Path)
    parser.add_argument("tests", nargs=argparse.REMAINDER)  # test files, then any pytest arguments
    options = parser.parse_args()
    tests = options.tests
    work = options.work.resolve()
    log = options.log.resolve() if options.log else None
    if log:
        log.mkdir(parents=True, exist_ok=True)
    mutants = work / "mutants"
    for test in (t for t in tests if t.endswith(".py")):  # the new tests, into the copy the mutants run from
        (mutants / test).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / test, mutants / test)
    os.chdir(mutants)
    sys.path.insert(0, str(mutants))
    import pytest

    args = ["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-o", f"timeout={options.test_timeout:g}", "--rootdir=.", *tests]
    with open(os.devnull, "w") as quiet:
        saved = sys.stdout
        sys.stdout = quiet
        try:  # import everything once, before the forks
            pytest.main(["--collect-only", "-q", "--rootdir=.", *tests])
        finally:
            sys.stdout = saved
    import core

    assert str(mutants) in (core.__file__ or ""), f"core imported from {core.__file__}, not the mutants"

    def start(name: str) -> int:
        return start_one(name, args, options.rebuild, log)

    if dict(run_all([""], 1, options.wall, start))[""] != 0:
        sys.exit("the new tests fail without any mutant: fix them first")
    found = survivors(mutants, options.unchecked, options.only, options.resume)
    if options.sample is not None:  # a random sample, drawn the same way every time for a seed
        pool = sorted((str(meta), name) for meta, names in found.items() for name in names)
        drawn = set(random.Random(options.seed).sample(pool, min(options.sample, len(pool))))
        found = {meta: [n for n in names if (str(meta), n) in drawn] for meta, names in found.items()}
    for meta, names in found.items():
        data = json.loads(meta.read_text())
        for name, code in run_all(names, options.jobs, options.wall, start):
            verdict = {1: "killed", 0: "survived", TIMEOUT: "timeout"}.get(code, f"exit {code}")
            print(f"{verdict:9} {name}", flush=True)
            if code in (0, 1, TIMEOUT):
                data["exit_code_by_key"][name] = code
            meta.write_text(json.dumps(data))


if __name__ == "__main__":
    main()
