"""What a reader process (core.readerchild) takes from the app at each run, though it may
have started long before: the app's environment as it is now, the scenario folders its
own embedded simulator answers from among them."""

from __future__ import annotations

import os
from pathlib import Path

from core.events import Finished, TextDelta, WireFrame
from core.paths import DB_FILE
from core.readerpool import Pool
from core.readerproc import ReaderRunHandle, start_run_in_reader
from core.request import ChatRequest
from core.runner import RunOptions
from core.simulator.embedded import SCENARIO_DIR_ENV
from core.store import Store
from core.store.models import ModelConfig, new_run_id

from databases import copy_database
from runkit import every_event_of, openai_config, scripted
from test_io_thread import threaded_simulator
from waiting import DEADLINE_S, poll

# Enough chunks, written without delay, that the stream outlasts a reader's wait between sends.
FLAT_OUT_WORDS = 2000
LATER = "name: named-later\napi: openai\ntext: from a folder named after the reader started\ntiming: {first_token_ms: 0, gap_ms: 0}\n"


def _listening(pid: int) -> bool:
    """The process holds a listening TCP socket (its embedded simulator is up)."""
    fds = Path(f"/proc/{pid}/fd")
    inodes = set()
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                return True
    return False


async def test_a_scenario_folder_named_after_the_reader_started_is_what_its_simulator_answers_from(
    store, tmp_path: Path, monkeypatch
) -> None:
    """A reader waiting ready has started the default model's simulator on the scenario
    folders the app had then. A run on a scenario from a folder named since must get its
    answer, not "no such model" from the simulator started before."""
    pool = Pool()  # a forker of its own: its reader surely started before the folder was named
    try:
        worker = pool.fork()
        poll(lambda: _listening(worker.pid), "the waiting reader's simulator to listen")
        (tmp_path / "named-later.yaml").write_text(LATER, encoding="utf-8")
        folders = (os.environ.get(SCENARIO_DIR_ENV), str(tmp_path))
        monkeypatch.setenv(SCENARIO_DIR_ENV, os.pathsep.join(filter(None, folders)))
        config = ModelConfig(name="named-later", provider="simulator", model="named-later")
        handle = ReaderRunHandle(config, ChatRequest.from_prompt("go"), RunOptions(store=store, run_id=new_run_id()))
        handle._track()
        handle.attach(worker)
        events = await every_event_of(handle, "the run in the reader")
    finally:
        pool.close()
    last = events[-1]
    assert isinstance(last, Finished), last
    assert last.final_response["content"] == "from a folder named after the reader started"
    assert store.get_run(handle.run_id).status == "ok"


async def test_every_chunk_of_a_flat_out_stream_reaches_the_app_once_and_in_order(store) -> None:
    """A reader holds what arrives while it waits to send again (at most one message per
    SEND_INTERVAL_S) and sends it with the next: nothing held may be dropped or sent twice."""
    text = " ".join(f"w{i}" for i in range(FLAT_OUT_WORDS))
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("flat-out", text=text, chunking={"mode": "word"}))
        options = RunOptions(store=store, wire_frames=True)
        handle = start_run_in_reader(openai_config(server.root_url, "flat-out"), ChatRequest.from_prompt("go"), options)
        events = await every_event_of(handle, "the flat-out run in the reader")
    last = events[-1]
    assert isinstance(last, Finished), last
    deltas = [event.content for event in events if isinstance(event, TextDelta)]
    assert "".join(deltas) == text and len(deltas) == last.metrics["chunks"] == FLAT_OUT_WORDS
    frames = [event for event in events if isinstance(event, WireFrame)]
    assert [frame.offset_ms for frame in frames] == sorted(frame.offset_ms for frame in frames)
    assert len(frames) == len(store.get_frames(handle.run_id))  # what the reader saved, the app was shown


async def test_a_run_in_a_reader_is_saved_in_the_app_s_database_when_it_is_not_the_default_one(
    store, tmp_path: Path, fresh_database_file: Path
) -> None:
    """`llmwb --data-dir DIR`: the app's database is not the one LLMWB_HOME names. The reader
    saves each run where the app reads its history, not in the default database."""
    elsewhere = tmp_path / "elsewhere"
    copy_database(fresh_database_file, elsewhere)
    chosen = Store(elsewhere / DB_FILE)
    assert chosen.path != store.path  # `store` is the default one (LLMWB_HOME's)
    with threaded_simulator() as (server, _loop):
        server.add_scenario(scripted("short", text="a short answer"))
        handle = start_run_in_reader(openai_config(server.root_url, "short"), ChatRequest.from_prompt("go"), RunOptions(store=chosen))
        events = await every_event_of(handle, "the run saved in the chosen database")
        assert await handle.wait(DEADLINE_S), "the reader never said the run was over"
    assert isinstance(events[-1], Finished), events[-1]
    row = chosen.get_run(handle.run_id)
    assert row is not None and row.status == "ok" and row.response["content"] == "a short answer"
    assert store.get_run(handle.run_id) is None
