"""Fixtures every test directory may use: a store in a temp LLMWB_HOME, and a
scripted simulator on 127.0.0.1 (port 0); and the pace of the embedded simulator."""

from __future__ import annotations

import gc
import itertools
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from _pytest.mark.expression import Expression, ParseError
from databases import copy_database
from whole_modules import WholeModuleWorkStealing

from core.paths import DB_FILE
from core.providers.http import import_sdks
from core.simulator import embedded
from core.simulator.scenario import BUILTIN_DIR

if TYPE_CHECKING:
    from core.store import Store

# The SDKs as llmwb loads them (core.providers.http): without their aiohttp transport, which
# llmwb never uses. Imported whole, it cost each test process ~0.6 s of CPU (aiohttp, and the
# two TLS contexts it builds on import) the first time a test imported an SDK.
import_sdks()


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    """The suite is hermetic: a developer's own LLMWB_* settings (home, scenario dir, lock
    wait, reader) must not change what any test, or any `llmwb` process it starts, sees."""
    for name in [name for name in os.environ if name.startswith("LLMWB_")]:
        del os.environ[name]
    # Collecting imports the test modules and what they import (SQLAlchemy, an SDK, Textual):
    # with the default threshold (700) the young generation was collected thousands of
    # times meanwhile, ~0.2 s of each worker's CPU. Raised now; pytest_collection_finish
    # then freezes what collection made.
    gc.set_threshold(*_TEST_GC_THRESHOLDS)
    # With PYTHONDONTWRITEBYTECODE set (some shells and CI images set it), nothing is ever
    # cached: each xdist worker rewrote every test module again, and each of the ~100
    # `llmwb` processes the suite starts compiled core/ and tui/ from source — seconds of
    # CPU each time. The caches go to __pycache__ (git-ignored) as Python's default does.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    # The tests' temp dirs (tmp_path, each test's LLMWB_HOME) on a tmpfs where there is one:
    # on this machine's disk a first start's database took 40-60 ms, mostly waiting for fsync
    # (5-6 ms on a tmpfs), and the suite makes hundreds. No test is about durability. Read by
    # pytest when it makes its base temp dir (xdist: in the controller, which gives each
    # worker a dir under its own); --basetemp, or the variable, still wins.
    if config.option.basetemp is None and _roomy_tmpfs(_SHARED_MEMORY):
        os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", _SHARED_MEMORY)


_TEST_GC_THRESHOLDS = (50_000, 20, 100)  # tui.app.settle_gc's
_SHARED_MEMORY = "/dev/shm"
# A run of the whole suite leaves ~50 MB, and pytest keeps the last three runs' dirs: a
# container's /dev/shm (Docker's is 64 MB) is too small, and the disk is used instead.
_TMPFS_ROOM_BYTES = 1 << 30


def _roomy_tmpfs(path: str) -> bool:
    """Whether `path` is a writable tmpfs mount point (Linux: /proc/self/mounts) with room."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            is_tmpfs = any(line.split()[1:3] == [path, "tmpfs"] for line in mounts)
        room = os.statvfs(path)
    except OSError:
        return False
    return is_tmpfs and room.f_bavail * room.f_frsize >= _TMPFS_ROOM_BYTES and os.access(path, os.W_OK | os.X_OK)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config, log):  # type: ignore[no-untyped-def]
    """`--dist worksteal` (pyproject), keeping tests/serve/'s modules whole (tests/whole_modules.py)."""
    if config.getvalue("dist") != "worksteal":
        return None
    return WholeModuleWorkStealing(config, log)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The collector as the app sets it once started (tui.app.settle_gc; tests build the app
    without run_app, which calls it): what collection imported (Textual, the SDKs, the test
    modules) is frozen, no longer walked by every full collection, and the young generation
    is collected every 50,000 allocations instead of 700. In tests/tui/test_history.py the
    collector's CPU went from 4.6-5.1 s to 0.9-1.4 s (2,080 collections to 233)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_TEST_GC_THRESHOLDS)
    if "textual.css.stylesheet" in sys.modules:  # collected tests build Textual apps
        _share_parsed_css(sys.modules["textual.css.stylesheet"].Stylesheet)
    if "textual._wait" in sys.modules:
        _quicker_idle_checks(sys.modules["textual._wait"])


def _quicker_idle_checks(wait_module: object) -> None:
    """Pilot waits for the app to be idle twice per key pressed (and in every pause): it
    sleeps in 20 ms steps until one step used under 5 % of it as CPU, so a key cost at
    least 40 ms of waiting — 17 of the 35 s of tests/tui/test_app.py. The same 5 % test
    over 10 ms steps: a key's three waits (two idle checks, the first busy with the key)
    still span more than a frame (60 fps: 16.7 ms), so the refresh a key asked for is still
    drawn before `press` returns; `pause()` draws a pending one itself."""
    wait_module.SLEEP_GRANULARITY = 0.01  # type: ignore[attr-defined]
    wait_module.SLEEP_IDLE = wait_module.SLEEP_GRANULARITY / 20.0  # type: ignore[attr-defined]


def _share_parsed_css(stylesheet_class: type) -> None:
    """Every app a test builds parses the same CSS again (its own, every widget's default
    CSS, at each screen pushed and each theme change): ~60 ms of CPU an app. Textual keeps
    what it parsed per stylesheet; here one process keeps it across apps, keyed as Textual
    keys it plus the variables (the theme's colours) the CSS was parsed with, so a theme
    change still parses anew. CSS that fails to parse is never kept and fails every time."""
    parse_rules = stylesheet_class._parse_rules
    parsed: dict[tuple[object, ...], list[object]] = {}

    def shared_parse_rules(  # type: ignore[no-untyped-def]
        self, css: str, read_from: object, is_default_rules: bool = False, tie_breaker: int = 0, scope: str = ""
    ):
        key = (css, read_from, is_default_rules, tie_breaker, scope, tuple(sorted(self._variables.items())))
        rules = parsed.get(key)
        if rules is None:
            rules = parsed[key] = parse_rules(self, css, read_from, is_default_rules, tie_breaker, scope)
        return rules

    stylesheet_class._parse_rules = shared_parse_rules  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def fresh_database_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file as a first start leaves it (every migration applied, nothing saved),
    made once per process by Store itself. (Store, and SQLModel with it, is imported when a
    test first asks: the xdist controller, which runs no test, never loads it.)"""
    from core.store import Store

    template = Store(tmp_path_factory.mktemp("fresh-database") / DB_FILE)
    template.close()  # the last connection folds the WAL into the file: the file is all of it
    return template.path


@pytest.fixture
def store(tmp_path, monkeypatch, fresh_database_file: Path) -> Store:
    """A Store in its own temp LLMWB_HOME (never the user's data dir), on a copy of a fresh
    database file: running the migrations again for every test cost ~11 ms of CPU each
    (tests of first starts and migrations make their own files)."""
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    copy_database(fresh_database_file, tmp_path)
    from core.store import Store

    return Store()


@pytest.fixture
async def simulator() -> AsyncIterator:
    """A started SimulatorServer with the built-in scenarios; `add_scenario` to script more."""
    from core.simulator import SimulatorServer

    server = SimulatorServer(host="127.0.0.1", port=0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# Directories and modules whose tests drive a Textual app: marked `tui`; those that start
# `llmwb`, its reader processes, its HTTP server or a browser as real processes: marked
# `process` (a cold start costs about a second of CPU each: a reader's forker imports an SDK,
# SQLAlchemy and the runner before its first fork). `pytest -m "not tui and not process"` is
# the fast lane (core, providers, simulator, the CLI in-process); `pytest -m "not tui"` adds
# the processes. Tests of other modules that start one are marked `process` where they are.
_TUI_TEST_PATHS = (
    "tests/tui/", "tests/compare/test_compare_screens.py", "tests/compare/test_compare_snapshots.py",
    "tests/compare/test_column_keys.py", "tests/compare/test_streams_under_a_modal.py",
    "tests/robustness/test_app_robust.py", "tests/robustness/test_quit.py",
)  # fmt: skip
_PROCESS_TEST_PATHS = (
    "tests/serve/", "tests/robustness/test_signals.py", "tests/cli/test_cli_process.py",
    "tests/cli/test_cli_json_live.py", "tests/cli/test_cli_import_cost.py",
    "tests/simulator/test_sim_embedded_cli.py", "tests/test_import_contract.py",
    "tests/core/test_reader_pool_when_readers_die.py", "tests/core/test_reader_process.py",
    "tests/core/test_reader_takes_the_app_s_word.py", "tests/core/test_reader_died_keeps_its_figures.py",
)  # fmt: skip


def _lane_markers(config, path: Path) -> set[str]:  # type: ignore[no-untyped-def]
    """The markers every test under `path` gets from its path alone."""
    root = str(config.rootpath)
    name = str(path)[len(root) + 1 :] if str(path).startswith(root) else str(path)
    if path.is_dir():
        name += "/"
    markers = set()
    if name.startswith(_TUI_TEST_PATHS):
        markers.add("tui")
    if name.startswith(_PROCESS_TEST_PATHS):
        markers.add("process")
    return markers


def pytest_collection_modifyitems(config, items) -> None:  # type: ignore[no-untyped-def]
    for item in items:
        for marker in _lane_markers(config, item.path):
            item.add_marker(getattr(pytest.mark, marker))
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.tui)


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:  # type: ignore[no-untyped-def]
    """The fast lane (`-m "not tui and not process"`) does not import the modules whose every
    test it would deselect: importing the Textual app and its screens, and collecting their
    tests, cost each xdist worker seconds of CPU before the first test ran."""
    markers = _lane_markers(config, collection_path)
    expression = config.option.markexpr
    if not markers or not expression:
        return None
    return True if _never_selects(expression, markers) else None


def _never_selects(expression: str, markers: set[str]) -> bool:
    """Whether `-m expression` deselects every test that carries `markers`, whatever other
    markers it has: it is false under every true/false choice for the other names in it."""
    try:
        compiled = Expression.compile(expression)
    except ParseError:
        return False  # pytest reports it
    names: set[str] = set()
    while True:
        known = sorted(names)
        if len(known) > 8:
            return False  # too many to try every choice: collect as usual
        for choice in itertools.product((False, True), repeat=len(known)):
            chosen = dict(zip(known, choice))

            def matcher(name: str, /, **kwargs: object) -> bool:
                if name in markers and not kwargs:
                    return True
                key = f"{name}{sorted(kwargs.items())}" if kwargs else name
                names.add(key)
                return chosen.get(key, False)

            if compiled.evaluate(matcher):
                return False
        if len(names) == len(known):
            return True


# --- the embedded simulator's pace -------------------------------------------
# The `tui` tests drive the app on its demo models, which the embedded simulator answers at
# a human pace (demo-fast: 150 ms, then 225 chunks 15 ms apart). None of them measures that
# pace (their timings are masked or come from scripted events), so they get copies of the
# built-in scenarios with the same text, chunks, faults and usage but no delays, through
# LLMWB_SCENARIO_DIR (a later file of the same name wins); so do tests marked `unpaced`
# (database files, retention: what is stored is under test, not when it arrived). Tests
# marked `quick` get copies paced QUICK_SHARE as slow: figures derived from the script (an
# Ollama server's load and decode times) stay non-zero, and the answer still streams, in a
# twentieth of the time. Every other test keeps the real pace: the simulator, CLI and core
# tests check timings against it.
NO_DELAY = {"first_token_ms": 0, "gap_ms": 0}
QUICK_SHARE = 1 / 20
_PACED_FIELDS = ("first_token_ms", "gap_ms", "jitter_ms")
_embedded_pace: tuple[object, str] | None = None  # (the embedded server, the pace it was started with)


def _paced_copies(folder: Path, timing_of) -> Path:  # type: ignore[no-untyped-def]
    """Copies of every built-in scenario with a timing, each with `timing_of(its timing)`."""
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        fields = yaml.safe_load(path.read_text(encoding="utf-8"))
        if fields.get("timing") and fields["timing"] != NO_DELAY:
            (folder / path.name).write_text(yaml.safe_dump({**fields, "timing": timing_of(fields["timing"])}), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def no_delay_scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copies of every built-in scenario with a timing, without its delays."""
    return _paced_copies(tmp_path_factory.mktemp("no-delay-scenarios"), lambda timing: NO_DELAY)


@pytest.fixture(scope="session")
def quick_scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copies of every built-in scenario with a timing, its delays QUICK_SHARE as long."""
    return _paced_copies(
        tmp_path_factory.mktemp("quick-scenarios"),
        lambda timing: {key: value * QUICK_SHARE if key in _PACED_FIELDS else value for key, value in timing.items()},
    )


_PACE_DIRS = {"none": "no_delay_scenario_dir", "quick": "quick_scenario_dir"}


def _pace_of(node: pytest.Item) -> str:
    if any(node.get_closest_marker(name) is not None for name in ("tui", "unpaced")):
        return "none"
    return "quick" if node.get_closest_marker("quick") is not None else "real"


@pytest.fixture(autouse=True)
def _embedded_simulator_pace(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Give each test the embedded simulator its lane expects: one process (an xdist
    worker) runs every lane, and the embedded server lives as long as the process."""
    global _embedded_pace
    pace = _pace_of(request.node)
    running = embedded.embedded_server()
    # One this fixture did not see start (a test's own code) runs at the real pace.
    started_at = _embedded_pace[1] if _embedded_pace is not None and _embedded_pace[0] is running else "real"
    if running is not None and started_at != pace:
        embedded.shutdown_embedded()  # the next use starts one at the pace this test expects
    if pace in _PACE_DIRS:
        folder = request.getfixturevalue(_PACE_DIRS[pace])
        monkeypatch.setenv(embedded.SCENARIO_DIR_ENV, os.pathsep.join(filter(None, (os.environ.get(embedded.SCENARIO_DIR_ENV), str(folder)))))
    yield
    running = embedded.embedded_server()
    _embedded_pace = (running, pace) if running is not None else None
