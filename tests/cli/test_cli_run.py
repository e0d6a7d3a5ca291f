"""`llmwb run` on the embedded simulator: output shapes, exit codes, what is saved."""

from __future__ import annotations

import json

import pytest

from core.store import Store


def runs(home) -> list:
    return Store().list_runs(limit=100)


def test_plain_run_prints_the_answer_and_a_metrics_line(llmwb, home):
    # echo streams the prompt back word by word at a real pace (tok/s needs a paced stream;
    # demo-fast's 225 chunks took 3 s for the same checks).
    result = llmwb("run", "--model", "echo", "--prompt", "Streaming lets a client show an answer\n")
    assert result.code == 0, result.err
    (run,) = runs(home)
    assert run.status == "ok"
    assert result.out == run.response["content"]  # it ends in a newline of its own: none added
    assert result.out == "Streaming lets a client show an answer\n"
    summary = result.err.strip().splitlines()[-1]
    assert summary.startswith("ttft ") and "tok/s" in summary and "$" in summary
    assert summary.endswith(f"run {run.id}")
    assert "(estimated)" not in summary  # the simulator reports usage


@pytest.mark.unpaced  # what is printed and kept, not when it arrived
def test_json_run_prints_the_event_protocol(llmwb, home):
    result = llmwb("run", "--model", "demo-fast", "--prompt", "hi", "--json")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == '{"content": "Stre", "done": false}'  # the original debug API's shape, byte for byte
    events = [json.loads(line) for line in lines]
    assert all(e == {"content": e["content"], "done": False} for e in events[:-1])
    final = events[-1]
    assert final["done"] is True and "status" not in final
    assert final["final_response"]["content"] == "".join(e["content"] for e in events[:-1])
    assert final["metrics"]["ttft_ms"] > 0 and final["metrics"]["cost_usd"] > 0
    assert final["run_id"] == runs(home)[0].id
    assert not any("wire" in e for e in events)
    assert result.err == ""


def test_json_keeps_non_ascii_as_is(llmwb):
    first = llmwb("run", "--model", "echo", "--prompt", "流式输出 很快", "--json").out.splitlines()[0]
    assert first == '{"content": "流式输出", "done": false}'


def test_wire_adds_raw_frames(llmwb):
    events = llmwb("run", "--model", "echo", "--prompt", "hello wire", "--json", "--wire").json_lines()
    frames = [e["wire"] for e in events if "wire" in e]
    assert frames and frames[0]["data"].startswith("data: ")
    assert frames[-1]["data"].strip() == "data: [DONE]"
    assert frames == sorted(frames, key=lambda f: f["offset_ms"])


def test_no_stream_gives_the_same_shape(llmwb, home):
    result = llmwb("run", "--model", "echo", "--prompt", "one two three", "--no-stream", "--json")
    assert result.code == 0
    content, final = result.json_lines()
    assert content == {"content": final["final_response"]["content"], "done": False}
    assert final["metrics"]["stream"] is False
    assert runs(home)[0].stream is False
    assert runs(home)[0].request["body"]["stream"] is False


@pytest.mark.unpaced  # what is printed and kept, not when it arrived
def test_reasoning_goes_to_stderr_in_a_marked_block(llmwb, home):
    result = llmwb("run", "--model", "demo-reasoning", "--prompt", "is 391 prime?")
    assert result.code == 0
    reasoning = runs(home)[0].response["reasoning"]
    assert reasoning and reasoning not in result.out
    assert result.err.startswith("[reasoning]\n" + reasoning)
    assert "reasoning)" in result.err.splitlines()[-1]  # "(N reasoning)" tokens in the summary


def test_params_and_timeout_reach_the_request(llmwb, home):
    result = llmwb(
        "run", "--model", "echo", "--prompt", "x", "--param", "temperature=0.2",
        "--param", 'stop=["\\n"]', "--param", "user=alice", "--param", "seed=7",
    )  # fmt: skip
    assert result.code == 0, result.err
    body = runs(home)[0].request["body"]
    assert (body["temperature"], body["stop"], body["user"], body["seed"]) == (0.2, ["\n"], "alice", 7)


def test_timeout_overrides_the_config(llmwb, home):
    llmwb("models", "add", "stall", "--provider", "simulator", "--model", "fault-stall", "--param", "max_retries=0")
    result = llmwb("run", "--model", "stall", "--prompt", "x", "--timeout", "0.3")
    assert result.code == 1
    assert result.err.startswith("error: timed out") and "[timeout]" in result.err
    run = runs(home)[0]
    assert run.error_type == "timeout"
    assert run.response["content"]  # what arrived before the stall is kept


def test_rate_limit_fails_with_exit_1_and_is_saved(llmwb, home):
    llmwb("models", "add", "limited", "--provider", "simulator", "--model", "fault-429", "--param", "max_retries=0")
    result = llmwb("run", "--model", "limited", "--prompt", "x", "--json")
    assert result.code == 1
    final = result.json_lines()[-1]
    assert final["done"] is True and final["status"] == "error"
    assert (final["error_type"], final["http_status"], final["retry_after"]) == ("rate_limit", 429, "7")
    assert runs(home)[0].status == "error"
    plain = llmwb("run", "--model", "limited", "--prompt", "x")
    assert plain.code == 1
    assert plain.err.startswith("error: ") and "[rate_limit, HTTP 429]" in plain.err
    assert plain.err.count("retry after 7 s") == 1  # said once, in the message
    assert len(plain.err.strip().splitlines()) == 1


def test_stream_cut_keeps_the_partial_output(llmwb, home):
    llmwb("models", "add", "drop", "--provider", "simulator", "--model", "fault-drop", "--param", "max_retries=0")
    result = llmwb("run", "--model", "drop", "--prompt", "x")
    assert result.code == 1
    run = runs(home)[0]
    assert run.error_type == "stream_cut"
    assert run.response["content"] and result.out == run.response["content"] + "\n"


@pytest.mark.unpaced  # what is printed and kept, not when it arrived
def test_tool_calls_print_when_complete_and_continue(llmwb, home, tmp_path):
    config = tmp_path / "tools.yaml"
    config.write_text(
        "tools:\n  - name: get_weather\n    parameters: {type: object, properties: {city: {type: string}}}\n"
        "    result: '{\"temp_c\": 18}'\n"
    )
    llmwb("models", "import", str(config))
    first = llmwb("run", "--model", "demo-tools", "--prompt", "weather?", "--tool", "get_weather", "--tool-choice", "auto")
    assert first.code == 0, first.err
    assert first.out.splitlines() == [
        'tool call call_paris: get_weather({"city": "Paris", "unit": "celsius"})',
        'tool call call_tokyo: get_weather({"city": "Tokyo", "unit": "celsius"})',
    ]
    run_id = runs(home)[0].id
    assert f"llmwb run --continue {run_id}" in first.err

    second = llmwb("run", "--continue", run_id, "--tool-result", "call_paris=sunny", "--json")
    assert second.code == 0, second.err
    follow_up = runs(home)[0]
    assert follow_up.parent_run_id == run_id
    tool_messages = [m for m in follow_up.request["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tool_messages] == [
        ("call_paris", "sunny"), ("call_tokyo", '{"temp_c": 18}'),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "nope", "--prompt", "x"], "no model config named 'nope'"),
        (["--model", "echo"], "exactly one of --prompt"),
        (["--model", "echo", "--prompt", "x", "--prompt-file", "f"], "exactly one of --prompt"),
        (["--prompt", "x"], "--model NAME is required"),
        (["--model", "echo", "--prompt", "x", "--param", "temperature"], "--param expects KEY=VALUE"),
        (["--model", "echo", "--prompt", "x", "--param", "=1"], "--param expects KEY=VALUE"),
        (["--model", "echo", "--prompt", "x", "--tool", "nosuch"], "no tool named 'nosuch'"),
        (["--model", "echo", "--prompt", "x", "--tool-choice", "auto"], "--tool-choice needs at least one --tool"),
        (["--model", "echo", "--prompt", "x", "--timeout", "0"], "--timeout must be a positive"),
        (["--model", "echo", "--prompt-file", "/nonexistent/prompt.txt"], "cannot read --prompt-file"),
        (["--continue", "nosuchrun"], "no run 'nosuchrun'"),
        (["--model", "echo", "--prompt", "x", "--tool-result", "a=b"], "--tool-result needs --continue"),
        (["--model", "echo", "--prompt", "x", "--timeout", "soon"], "invalid float value"),
    ],
)
def test_bad_usage_exits_2_and_saves_nothing(llmwb, home, argv, message):
    result = llmwb("run", *argv)
    assert result.code == 2
    assert message in result.err
    assert result.out == ""
    assert runs(home) == []


def test_unknown_provider_kind_in_the_store_is_bad_usage(llmwb, store, home):
    from core.store.models import ModelConfig

    store.save_config(ModelConfig(name="odd", provider="gemini", model="m"))
    result = llmwb("run", "--model", "odd", "--prompt", "x")
    assert result.code == 2 and "unknown provider kind 'gemini'" in result.err
    assert runs(home) == []


def test_prompt_file(llmwb, home, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("from a file")
    result = llmwb("run", "--model", "echo", "--prompt-file", str(prompt), "--system", "be brief")
    assert result.code == 0
    assert result.out == "from a file\n"
    request = runs(home)[0].request
    assert request["system"] == "be brief" and request["messages"][0]["content"] == "from a file"


def test_prompt_from_stdin(llmwb, home, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("piped in"))
    result = llmwb("run", "--model", "echo", "--prompt-file", "-")
    assert (result.code, result.out) == (0, "piped in\n")
