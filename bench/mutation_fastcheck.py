"""Re-check survivors against new tests without pytest: one fork per mutant calls the test
functions directly, so a verdict costs the tests' own time, not pytest's start and collection
(~1 s a mutant where bench/mutation_recheck.py took ~30 s on a loaded 2-core machine).

    python bench/mutation_fastcheck.py WORK_DIR VERDICTS.json MODULE=TEST_MODULE[,TEST_MODULE]...

MODULE is the mutated file without `.py` (core/simulator/textgen); TEST_MODULE a dotted name
under tests/ (simulator.test_generated_markdown). The test files are copied into WORK_DIR's
copy first. Tests may be sync or async, take `@pytest.mark.parametrize` values, and a fresh
`SimulatorServer` as `server`; other fixtures are not provided (use bench/mutation_recheck.py).
Survivors (mutmut's 0) are read from WORK_DIR's `.meta` files (or META_DIR's, when another run
holds the verdicts); each verdict goes to VERDICTS.json (1 killed, 0 survived, 24 a hang past
MUTATION_HANG_S, default 60 s: counted killed, as mutmut does), which a second run resumes. Conftest autouse fixtures do
not run, so a verdict can only be milder than pytest's.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HANG_S = float(os.environ.get("MUTATION_HANG_S", "60"))  # a mutant that hangs the tests past this: killed
TIMEOUT = 24

Call = tuple[Callable[..., Any], list[dict[str, Any]]]


def test_calls(module_name: str) -> Iterator[Call]:
    module = importlib.import_module(module_name)
    for name, function in vars(module).items():
        if not name.startswith("test_") or not callable(function):
            continue
        cases: list[dict[str, Any]] = []
        for mark in getattr(function, "pytestmark", []):
            if mark.name == "parametrize":
                names = [n.strip() for n in mark.args[0].split(",")]
                cases = [dict(zip(names, values if len(names) > 1 else (values,))) for values in mark.args[1]]
        yield function, cases or [{}]


def run_all(calls: list[Call]) -> None:
    from core.simulator import SimulatorServer

    for function, cases in calls:
        for case in cases:
            if not inspect.iscoroutinefunction(function):
                function(**case)
                continue

            async def run(function: Callable[..., Any] = function, case: dict[str, Any] = case) -> None:
                if "server" in inspect.signature(function).parameters:
                    async with SimulatorServer() as server:
                        await function(server=server, **case)
                else:
                    await function(**case)

            asyncio.run(run())


def verdict(mutant: str, calls: list[Call]) -> int:
    pid = os.fork()
    if pid == 0:
        os.environ["MUTANT_UNDER_TEST"] = mutant
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        try:
            run_all(calls)
        except BaseException:  # noqa: BLE001 - any failure kills the mutant
            os._exit(1)
        os._exit(0)
    deadline = time.monotonic() + HANG_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return TIMEOUT
        time.sleep(0.05)


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    work, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    plan = {spec.split("=")[0]: spec.split("=")[1].split(",") for spec in sys.argv[3:]}
    mutants = work / "mutants"
    metas = Path(os.environ.get("META_DIR", mutants)).resolve()
    for test in {t for tests in plan.values() for t in tests}:
        relative = Path("tests", *test.split(".")).with_suffix(".py")
        shutil.copy(root / relative, mutants / relative)
    os.chdir(mutants)
    sys.path[:0] = [str(mutants), str(mutants / "tests"), str(mutants / "tests" / "core")]
    import core

    assert str(mutants) in (core.__file__ or ""), f"core imported from {core.__file__}, not the mutants"
    calls = {module: [c for test in tests for c in test_calls(test)] for module, tests in plan.items()}
    if verdict("", [c for cs in calls.values() for c in cs]) != 0:
        sys.exit("the new tests fail without any mutant: fix them first")
    verdicts: dict[str, int] = json.loads(out.read_text()) if out.exists() else {}
    for module, module_calls in calls.items():
        codes = json.loads((metas / f"{module}.py.meta").read_text())["exit_code_by_key"]
        for name in (n for n, code in codes.items() if code == 0 and n not in verdicts):
            verdicts[name] = verdict(name, module_calls)
            print(verdicts[name], name, flush=True)
            out.write_text(json.dumps(verdicts))


if __name__ == "__main__":
    main()
