"""`llmwb run --json` writes its lines in batches, but a reader piping it still sees each
line as soon as it streams, not when the run ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

LLMWB = str(Path(sys.executable).with_name("llmwb"))

# Four words, then the server goes quiet for ten minutes: the lines streamed before the
# stall can reach the reader only if the CLI writes them as they arrive.
STALLING = """\
name: live-stall
api: openai
description: four words, then a very long stall
text: "one two three four five six"
chunking: {mode: word}
timing: {first_token_ms: 0, gap_ms: 0}
fault: {stall_after_chunks: 4, stall_s: 600}
"""


def test_a_piped_reader_sees_the_lines_that_streamed_before_a_stall(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "live-stall.yaml").write_text(STALLING)
    env = {**os.environ, "LLMWB_HOME": str(tmp_path / "home"), "LLMWB_SCENARIO_DIR": str(scenarios)}
    env.pop("PYTHONUNBUFFERED", None)  # as a user's shell has it: a pipe is block-buffered unless flushed
    subprocess.run(
        [LLMWB, "models", "add", "stall", "--provider", "simulator", "--model", "live-stall"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    process = subprocess.Popen(
        [LLMWB, "run", "--model", "stall", "--prompt", "hi", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        # Blocks until the lines are written: a CLI that held them to the end would hang
        # here for the stall's ten minutes and fail on the test's timeout.
        streamed = [json.loads(process.stdout.readline()) for _ in range(4)]
        assert process.poll() is None  # still stalled: these lines came mid-run
        process.send_signal(signal.SIGTERM)
        rest, err = process.communicate(timeout=60)
    finally:
        process.kill()
    text = "".join(line["content"] for line in streamed)
    assert text.split() == ["one", "two", "three", "four"]
    assert process.returncode == 143, err
    last = json.loads(rest.splitlines()[-1])
    assert (last["done"], last["status"]) == (True, "cancelled")
    assert last["partial_response"]["content"] == text
