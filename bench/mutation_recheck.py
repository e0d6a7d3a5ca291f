"""Re-check a module's surviving mutants against new tests only (bench/mutation.sh --recheck).

`mutmut run NAMES` would re-collect its per-test statistics over the whole selection
first (minutes on a loaded 2-core machine); new tests can only kill more mutants, so
running just those tests against each survivor gives the same verdicts for a fraction
of the cost. Like mutmut: pytest is imported and the tests collected once, then each
mutant runs in a forked child with MUTANT_UNDER_TEST set (mutmut's trampolines read it).
A killed survivor's verdict is written back to mutmut's `.meta` file as killed (1).

    python bench/mutation_recheck.py [--unchecked] [--only MODULE] WORK_DIR TEST_FILE...

--unchecked also runs the mutants a cut-short mutmut run never reached, and those no
selected test reached (mutmut's 33, "no tests"); one that survives every test given is
then recorded as survived (0). --only MODULE (core/simulator/server.py) checks that
module's mutants alone, when the work dir holds several.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path


def survivors(mutants: Path, unchecked: bool, only: str | None) -> dict[Path, list[str]]:
    wanted = {0, None, 33} if unchecked else {0}
    found: dict[Path, list[str]] = {}
    metas = [mutants / f"{only}.meta"] if only else sorted(mutants.rglob("*.py.meta"))
    for meta in metas:
        names = [name for name, code in json.loads(meta.read_text())["exit_code_by_key"].items() if code in wanted]
        if names:
            found[meta] = names
    return found


def run_one(name: str, pytest_args: list[str]) -> int:
    import pytest

    pid = os.fork()
    if pid == 0:
        os.environ["MUTANT_UNDER_TEST"] = name
        sys.stdout.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os._exit(int(pytest.main(pytest_args)))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    arguments = sys.argv[1:]
    unchecked = arguments[0] == "--unchecked"
    if unchecked:
        arguments = arguments[1:]
    only = arguments[1] if arguments[0] == "--only" else None
    if only:
        arguments = arguments[2:]
    work, tests = Path(arguments[0]).resolve(), arguments[1:]
    mutants = work / "mutants"
    for test in (t for t in tests if t.endswith(".py")):  # the new tests, into the copy the mutants run from
        (mutants / test).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / test, mutants / test)
    os.chdir(mutants)
    sys.path.insert(0, str(mutants))
    import pytest

    args = ["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-o", "timeout=60", "--rootdir=.", *tests]
    with open(os.devnull, "w") as quiet:
        saved = sys.stdout
        sys.stdout = quiet
        try:  # import everything once, before the forks
            pytest.main(["--collect-only", "-q", "--rootdir=.", *tests])
        finally:
            sys.stdout = saved
    import core

    assert str(mutants) in (core.__file__ or ""), f"core imported from {core.__file__}, not the mutants"
    if run_one("", args) != 0:
        sys.exit("the new tests fail without any mutant: fix them first")
    for meta, names in survivors(mutants, unchecked, only).items():
        data = json.loads(meta.read_text())
        for name in names:
            code = run_one(name, args)
            verdict = "killed" if code == 1 else "survived" if code == 0 else f"exit {code}"
            print(f"{verdict:9} {name}", flush=True)
            if code in (0, 1):
                data["exit_code_by_key"][name] = code
            meta.write_text(json.dumps(data))


if __name__ == "__main__":
    main()
