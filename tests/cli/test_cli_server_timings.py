"""The CLI shows a local server's own timings beside llmwb's: `run`, `history show`,
`compare` (demo-ollama speaks Ollama's native API on the embedded simulator)."""

from __future__ import annotations

import pytest

from core.store import Store


# The server's figures come from the script (tests/ollama checks them against it), not from
# the wall clock: a quicker copy of demo-ollama reports them in a twentieth of the time.
@pytest.mark.quick
def test_run_prints_what_the_server_says_under_the_metrics_line(llmwb, home):
    result = llmwb("run", "--model", "demo-ollama", "--prompt", "hi")
    assert result.code == 0, result.err
    (run,) = Store().list_runs(limit=5)
    assert result.out == run.response["content"]
    metrics_line, server_line = result.err.strip().splitlines()[-2:]
    assert metrics_line.startswith("ttft ") and metrics_line.endswith(f"run {run.id}")
    assert server_line.startswith("server says: load ") and "decode " in server_line and "tok/s" in server_line
    assert run.response["server_timings"]["decode_tokens"] == run.metrics["completion_tokens"]


@pytest.mark.quick
def test_json_run_carries_server_timings_in_the_final_response_only(llmwb, home):
    final = llmwb("run", "--model", "demo-ollama", "--prompt", "hi", "--json").json_lines()[-1]
    timings = final["final_response"]["server_timings"]
    assert timings["source"] == "ollama" and timings["load_ms"] > 0 and timings["decode_tps"] > 0
    assert not any(key.startswith(("load", "server")) for key in final["metrics"])


@pytest.mark.unpaced  # where the figures show; their values: the two tests above
def test_history_show_has_a_server_says_section(llmwb, home):
    llmwb("run", "--model", "demo-ollama", "--prompt", "hi")
    (run,) = Store().list_runs(limit=5)
    shown = llmwb("history", "show", run.id).out
    section = shown.split("── server says (ollama) ──\n")[1]
    assert section.startswith("load ") and " tok in " in section and "total " in section


@pytest.mark.unpaced  # where the figures show; their values: the two tests above
def test_compare_names_the_server_figures_of_the_run_that_has_them(llmwb, home):
    result = llmwb("compare", "--models", "demo-ollama,echo", "--prompt", "hi")
    assert result.code == 0, result.err
    said = [line for line in result.out.splitlines() if line.startswith("server says for ")]
    assert len(said) == 1 and said[0].startswith("server says for demo-ollama (stream): load ")
