"""`llmwb history list/show`."""

from __future__ import annotations

import json

import pytest


@pytest.mark.unpaced  # what is listed and shown, not when it arrived
def test_list_and_show(llmwb, home):
    assert llmwb("history", "list").out.startswith("ID")  # empty: just the header
    llmwb("run", "--model", "echo", "--prompt", "first words of a rather long prompt that goes on and on")
    llmwb("models", "add", "limited", "--provider", "simulator", "--model", "fault-429", "--param", "max_retries=0")
    llmwb("run", "--model", "limited", "--prompt", "second")

    table = llmwb("history", "list").out.splitlines()
    assert table[0].split() == ["ID", "WHEN", "MODEL", "STATUS", "MODE", "TTFT", "TOTAL", "TOKENS", "COST", "PROMPT"]
    assert "limited" in table[1] and "error" in table[1] and "second" in table[1]  # newest first
    assert "echo" in table[2] and " ok " in table[2] and " stream " in table[2] and "first words of a rather long prompt that …" in table[2]

    listed = json.loads(llmwb("history", "list", "--json").out)
    assert [r["status"] for r in listed] == ["error", "ok"]
    assert listed[1]["prompt"] == "first words of a rather long prompt that goes on and on"  # whole, for scripts
    assert listed[1]["ttft_ms"] > 0 and listed[1]["total_tokens"] > 0 and listed[1]["cost_usd"] > 0
    assert len(json.loads(llmwb("history", "list", "--json", "--limit", "1").out)) == 1

    ok_id, error_id = listed[1]["id"], listed[0]["id"]
    shown = llmwb("history", "show", ok_id)
    assert shown.code == 0
    assert f"run {ok_id}" in shown.out
    assert "user: first words of a rather long prompt" in shown.out
    assert "── response ──\nfirst words of a rather long prompt that goes on and on\n" in shown.out
    assert "── metrics ──\nttft " in shown.out

    failed = llmwb("history", "show", error_id).out
    assert "error: " in failed and "[rate_limit, HTTP 429]" in failed and "── partial response ──" in failed


@pytest.mark.unpaced  # what is listed and shown, not when it arrived
def test_show_frames_and_json(llmwb, home):
    llmwb("run", "--model", "echo", "--prompt", "alpha beta")
    (run,) = json.loads(llmwb("history", "list", "--json").out)
    with_frames = llmwb("history", "show", run["id"], "--frames").out
    frame_lines = with_frames.split("wire frames (")[1].splitlines()[1:]
    assert frame_lines and all(line.startswith("+") and " ms  data: " in line for line in frame_lines)
    assert frame_lines[-1].endswith("data: [DONE]")

    data = json.loads(llmwb("history", "show", run["id"], "--json", "--frames").out)
    assert data["id"] == run["id"] and data["status"] == "ok"
    assert data["response"]["content"] == "alpha beta"
    assert data["request"]["messages"][0]["content"] == "alpha beta"
    assert data["metrics"]["completion_tokens"] > 0
    assert [f["seq"] for f in data["frames"]] == list(range(len(data["frames"])))
    assert "frames" not in json.loads(llmwb("history", "show", run["id"], "--json").out)


def test_show_unknown_id_is_bad_usage(llmwb):
    result = llmwb("history", "show", "nosuchrun")
    assert result.code == 2 and "no run with id 'nosuchrun'" in result.err
