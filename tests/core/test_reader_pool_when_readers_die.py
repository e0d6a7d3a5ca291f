"""The reader pool (core.readerpool) and its readers when processes die or hang: a forker
that died is started again for the run, one that hangs up before answering is tried once
more and the run says why, a dead spare is never handed a run, readers past MAX_IDLE exit
(runs started together included), a forker that never answers does not keep the app from
exiting, a reader whose save still waits after the app left exits by itself, and what fails
in a reader before any run is in the app's log. Each death or hang is made at a known point
(a signal after the pool's last look, a fake forker that hangs up once it has the request or
never answers, a lock held until the reader is gone): no moment is left to timing."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from core import readerpool, readerproc
from core.events import Failed, Finished, TextDelta
from core.providers.base import INTERRUPTED
from core.readerpool import MAX_IDLE, SPARES, Pool
from core.readerproc import ReaderRunHandle, start_run_in_reader
from core.request import ChatRequest
from core.runner import RunOptions
from core.store.models import new_run_id

from procs import alive, children, parent
from runkit import every_event_of, openai_config, scripted
from test_io_thread import threaded_simulator
from test_reader_processes_beside_the_app import STALLED
from waiting import DEADLINE_S, poll


async def test_a_forker_that_died_just_before_a_fork_request_is_started_again_and_the_run_streams(store, monkeypatch) -> None:
    """The forker can die (OOM killer, a signal) after the pool last saw it alive and before
    its next fork request: the request then fails on the dead socket. The pool starts a new
    forker once and the run gets its reader, instead of ending with "could not start"."""
    pool = Pool()
    first = pool.fork()  # the forker is up
    dead = parent(first.pid)
    send_fds = socket.send_fds

    def died_then_sent(*args: Any) -> int:
        monkeypatch.setattr(socket, "send_fds", send_fds)  # once
        os.kill(dead, signal.SIGKILL)
        poll(lambda: not alive(dead), "the killed forker to end")
        return send_fds(*args)

    monkeypatch.setattr(socket, "send_fds", died_then_sent)
    try:
        worker = pool.fork()
        assert alive(worker.pid) and parent(worker.pid) not in (dead, os.getpid()), "not forked by a new forker"
        with threaded_simulator() as (server, _loop):
            server.add_scenario(scripted("short", text="a short answer"))
            handle = ReaderRunHandle(
                openai_config(server.root_url, "short"), ChatRequest.from_prompt("go"), RunOptions(store=store, run_id=new_run_id())
            )
            handle._track()
            handle.attach(worker)
            events = await every_event_of(handle, "the run on the new forker's reader")
        assert isinstance(events[-1], Finished) and events[-1].final_response["content"] == "a short answer"
    finally:
        pool.close()  # the first reader too


# A forker that takes the fork request (all of it: a request left unread would reset the
# socket instead of ending it), then hangs up without answering and lingers, as a dying
# process does for a moment after its files are closed (a broken install) — here until the
# test's process ends, or the test ends it (each one's pid goes to the file given).
HANGING_UP_FORKER = """#!/bin/sh
exec {python} -S -c '
import os, sys, time
fd = int(os.environ["LLMWB_READER_FD"])
with open(sys.argv[1], "a") as pids:
    pids.write(f"{{os.getpid()}}\\n")
os.read(fd, 64)
os.close(fd)
app = os.getppid()
for _ in range(6000):
    if os.getppid() != app:
        break
    time.sleep(0.1)' {pids}
"""


async def test_a_forker_that_hangs_up_before_answering_is_tried_twice_then_the_run_says_why(
    store, monkeypatch, tmp_path: Path, caplog
) -> None:
    """The forker ends its socket before it forks: the pool starts a new one once (not in a
    loop, and whether or not the first has exited yet), then the run ends with the reason,
    and is saved; the spare asked for beside it fails too, and the app's log says so."""
    pids = tmp_path / "forkers"
    interpreter = tmp_path / "python"
    interpreter.write_text(HANGING_UP_FORKER.format(python=sys.executable, pids=pids))
    interpreter.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(interpreter))
    pool = Pool()
    try:
        try:
            pool.fork()
        except ConnectionResetError as error:
            assert str(error) == "the reader forker ended"
        else:
            raise AssertionError("a reader was forked by a forker that hangs up")
        assert len(pids.read_text().split()) == 2  # the first, and one more
        monkeypatch.setattr(readerproc, "pool", Pool())  # the run's own, whose forker is not started yet
        request = ChatRequest.from_prompt("hi")
        handle = start_run_in_reader(openai_config("http://127.0.0.1:9", "absent"), request, RunOptions(store=store))
        events = await every_event_of(handle, "the run whose reader could not be started")
        (failed,) = events
        assert isinstance(failed, Failed) and failed.error_type == INTERRUPTED
        assert failed.error == "could not start a reader process for the run: the reader forker ended"
        assert store.get_run(handle.run_id).error == failed.error
        spare = poll(
            lambda: next((r for r in caplog.records if r.module == "readerpool" and r.levelno == logging.ERROR), None),
            "the spare's failure in the app's log",
        )
        assert spare.getMessage() == "could not start a reader process" and spare.exc_info[0] is ConnectionResetError
    finally:
        pool.close()
        readerproc.pool.close()
        for pid in pids.read_text().split() if pids.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


async def test_a_spare_that_died_while_waiting_is_not_handed_the_next_run(store, monkeypatch) -> None:
    """The spare waiting for the next run was killed (OOM killer, a signal) and its socket
    has ended: the next run must stream in a live reader, not end with the spare's death."""
    pool = Pool()
    monkeypatch.setattr(readerproc, "pool", pool)
    monkeypatch.setattr(readerpool, "pool", pool)  # the one a reader is released to after its run
    try:
        pool.top_up()
        (spare,) = poll(lambda: pool._idle, "the spare to be forked")  # the one asked for: no other is
        os.kill(spare.pid, signal.SIGKILL)
        assert spare.ended.wait(DEADLINE_S), "the killed spare's socket never ended"
        with threaded_simulator() as (server, _loop):
            server.add_scenario(scripted("short", text="a short answer"))
            config = openai_config(server.root_url, "short")
            handle = start_run_in_reader(config, ChatRequest.from_prompt("go"), RunOptions(store=store))
            events = await every_event_of(handle, "the run after the spare died")
        assert isinstance(events[-1], Finished), events[-1]
        assert events[-1].final_response["content"] == "a short answer" and handle.reader_pid != spare.pid
    finally:
        pool.close()


def test_readers_whose_runs_ended_past_max_idle_exit_and_the_others_wait() -> None:
    """Runs that ended together leave MAX_IDLE readers waiting for the next runs; the one
    past them exits (each reader is an interpreter with the SDKs loaded)."""
    pool = Pool()
    try:
        readers = [pool.fork() for _ in range(MAX_IDLE + 1)]
        for reader in readers:
            pool.release(reader)  # as the thread reading each one does when its run is saved
        *kept, past = readers
        assert past.ended.wait(DEADLINE_S), "the reader past MAX_IDLE never exited"
        poll(lambda: not alive(past.pid), "the reader past MAX_IDLE to end")
        assert all(alive(reader.pid) and not reader.ended.is_set() for reader in kept)  # waiting for the next runs
    finally:
        pool.close()


async def test_runs_started_together_leave_no_more_readers_than_the_spare_and_max_idle(store, monkeypatch) -> None:
    """A comparison starts its columns' runs at once, while the spare the first one asked for
    is still being forked: the others must not ask for more spares. Once the runs are over, the
    readers left are at most the spare and MAX_IDLE (each an interpreter with the SDKs loaded)."""
    pool = Pool()
    monkeypatch.setattr(readerproc, "pool", pool)
    monkeypatch.setattr(readerpool, "pool", pool)  # the one a reader is released to after its run
    try:
        with threaded_simulator() as (server, _loop):
            server.add_scenario(scripted("short", text="a short answer"))
            config = openai_config(server.root_url, "short")
            handles = [start_run_in_reader(config, ChatRequest.from_prompt("go"), RunOptions(store=store)) for _ in range(3)]
            for handle in handles:
                events = await every_event_of(handle, "a run of the comparison")
                assert isinstance(events[-1], Finished), events[-1]
                assert await handle.wait(DEADLINE_S), "the reader never said the run was over"
        forker = pool._forker._process
        assert forker is not None
        poll(lambda: sum(map(alive, children(forker.pid))) <= SPARES + MAX_IDLE, "the readers past the spare and MAX_IDLE to exit")
    finally:
        pool.close()


# A reader forker that hangs: it takes fork requests and never answers (its pid noted in the
# file given, for the test to end it).
HUNG_FORKER = """#!/bin/sh
echo $$ >> {pids}
exec sleep 600
"""
# An app whose runs wait for that forker: then it ends, as the app does (its main thread returns).
HUNG_FORKER_APP = """
import os, sys, time
sys.executable = sys.argv[1]  # the interpreter a reader forker is started with
from core.readerproc import start_run_in_reader
from core.request import ChatRequest
from core.store.models import ModelConfig

config = ModelConfig(name="m", provider="openai-compatible", model="m", base_url="http://127.0.0.1:9/v1")
# No reader idle: one is asked for on a thread, and a spare on another, both started here on
# the main thread (the app's UI thread), as for a run that takes the last idle reader.
start_run_in_reader(config, ChatRequest.from_prompt("go"))
deadline = time.monotonic() + 60
while not os.path.exists(sys.argv[2]):  # the forker started: a thread waits on it
    assert time.monotonic() < deadline, "no reader forker was started"
    time.sleep(0.01)
"""


def test_an_app_whose_reader_forker_hangs_still_exits(tmp_path: Path) -> None:
    """The app's runs wait for a reader from a forker that never answers (hung): quitting the
    app must still end it. The threads waiting on the forker (the spare's, the run's) must not
    be among those Python waits for at exit."""
    pids = tmp_path / "forkers"
    interpreter = tmp_path / "python"
    interpreter.write_text(HUNG_FORKER.format(pids=pids))
    interpreter.chmod(0o755)
    env = {**os.environ, "LLMWB_HOME": str(tmp_path)}
    app = subprocess.Popen([sys.executable, "-c", HUNG_FORKER_APP, str(interpreter), str(pids)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, text=True)  # fmt: skip
    try:
        try:
            _out, err = app.communicate(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            raise AssertionError("the app never ended: something waiting on the hung forker keeps it alive") from None
        assert app.returncode == 0 and "Traceback" not in err, err  # nor a traceback on the terminal at exit
    finally:
        app.kill()
        app.wait()
        for pid in pids.read_text().split() if pids.exists() else []:
            os.kill(int(pid), signal.SIGKILL)


# The reader forker as an interpreter started with it would run it, but with the time a run's
# save gets once the app is gone (EXIT_AFTER_EOF_S, 30 s) cut to a moment: the test below
# would otherwise take 30 s.
QUICK_GIVE_UP = """#!/bin/sh
exec {python} -c 'import core.readerchild as child; child.EXIT_AFTER_EOF_S = 0.2; child.main()'
"""


async def test_a_reader_whose_save_still_waits_on_a_lock_after_the_app_left_exits_by_itself(store, monkeypatch, tmp_path: Path) -> None:
    """The app quit mid-run while another process held the database's lock, and saves may wait
    long for it (LLMWB_LOCK_WAIT, 600 s here): the reader, its run cancelled, would wait that
    long to save it. It gives the save EXIT_AFTER_EOF_S, then exits: a reader outlives the app
    by no more than that. The lock is held until the reader has gone."""
    interpreter = tmp_path / "python"
    interpreter.write_text(QUICK_GIVE_UP.format(python=sys.executable))
    interpreter.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(interpreter))
    monkeypatch.setenv("LLMWB_LOCK_WAIT", "600")  # the reader takes the app's environment at the run's start
    pool = Pool()
    monkeypatch.setattr(readerproc, "pool", pool)
    monkeypatch.setattr(readerpool, "pool", pool)
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("stalled", **STALLED))
        handle = start_run_in_reader(openai_config(server.root_url, "stalled"), ChatRequest.from_prompt("go"), RunOptions(store=store))
        blocker = sqlite3.connect(store.path, isolation_level=None)
        try:
            events = []
            async for event in handle.events():
                events.append(event)
                if isinstance(event, TextDelta) and sum(isinstance(e, TextDelta) for e in events) == 1:
                    reader = handle.reader_pid
                    assert reader is not None
                    blocker.execute("BEGIN IMMEDIATE")  # another process writing: the run's save must wait
                    pool.close()  # the app's exit: the reader's socket ends, its run is cancelled
                    poll(lambda: not alive(reader), "the reader to exit while its save still waits on the lock")
                    blocker.rollback()
        finally:
            blocker.close()
    assert isinstance(events[-1], Failed), events[-1]  # the app, still here, saves what reached it


# The reader forker with its preload and its workers' embedded simulator failing (a broken
# install: an SDK that does not import, a simulator that cannot start).
BROKEN_PRELOAD = """#!/bin/sh
exec {python} -c '
import core.readerchild as child
def broken():
    raise RuntimeError("a broken install")
child._preload = child._start_simulator = broken
child.main()'
"""


def test_what_fails_in_a_reader_before_any_run_is_in_the_app_s_log_and_readers_still_come_up(tmp_path: Path, monkeypatch) -> None:
    """The forker's preload and a spare's embedded simulator start ahead of any run, where no
    run can report their failure: the app's log has each, with its traceback. The readers
    still come up (a run then meets the trouble itself and reports it)."""
    interpreter = tmp_path / "python"
    interpreter.write_text(BROKEN_PRELOAD.format(python=sys.executable))
    interpreter.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(interpreter))
    log_file = tmp_path / "llmwb.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    logging.getLogger("llmwb").addHandler(handler)
    pool = Pool()  # a forker of its own, started while the app has a log file
    try:
        pool.top_up()
        (spare,) = poll(lambda: pool._idle, "a spare forked despite the failures")
        forker = parent(spare.pid)
        preload = rf"^\S+ \S+ ERROR reader\[{forker}\] reader forker: preloading failed\nTraceback .*\nRuntimeError: a broken install$"
        simulator = rf"^\S+ \S+ ERROR reader\[{spare.pid}\] reader process: could not start the simulator\nTraceback .*\nRuntimeError: a broken install$"
        poll(lambda: f" ERROR reader[{spare.pid}] " in log_file.read_text(), "the spare's failure in the app's log")
        logged = log_file.read_text()  # the forker's came before it forked
        assert re.search(preload, logged, re.M | re.S) and re.search(simulator, logged, re.M | re.S), logged
        assert alive(spare.pid)
    finally:
        pool.close()
        logging.getLogger("llmwb").removeHandler(handler)
        handler.close()
