"""A run whose reader process is killed mid-stream (core.readerproc): what the user then sees
and what history keeps are a finished run's — the answer's HTTP status, the prompt's token
estimate, an answer marked as ended by an error, the app as the run's owner — and the live
elapsed time shown while it streamed was time since the run began."""

from __future__ import annotations

import os
import signal

from core.events import Failed, TextDelta
from core.metrics import clock
from core.readerproc import start_run_in_reader
from core.request import ChatRequest
from core.runner import RunOptions

from test_io_thread import threaded_simulator
from test_reader_process import slow_config


async def test_a_killed_reader_s_run_keeps_its_status_prompt_estimate_and_owner(store) -> None:
    began = clock()
    with threaded_simulator() as (server, _loop):
        request = ChatRequest.from_prompt("what is the weather like in Paris this afternoon?")
        options = RunOptions(store=store, wire_frames=True, phases=True)  # as the app starts its runs
        handle = start_run_in_reader(slow_config(server), request, options)
        events, text, live = [], "", None
        async for event in handle.events():
            events.append(event)
            if isinstance(event, TextDelta):
                text += event.content
                if text.count("w") == 3 and handle.reader_pid is not None:
                    live = handle.live()
                    os.kill(handle.reader_pid, signal.SIGKILL)
    ended = clock()
    last = events[-1]
    assert isinstance(last, Failed) and last.http_status == 200
    assert last.partial_response["finish_reason"] == "error" and last.partial_response["content"] == text
    assert last.metrics["prompt_tokens"] > 0  # estimated from the prompt, as for any answered run
    row = store.get_run(handle.run_id)
    assert row.http_status == 200 and row.metrics["prompt_tokens"] == last.metrics["prompt_tokens"]
    assert row.owner_pid == os.getpid()
    assert live is not None and 0 < live["elapsed_ms"] <= (ended - began) * 1000.0
