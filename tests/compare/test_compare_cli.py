"""`llmwb compare` on simulator models: table, --json, exit codes."""

from __future__ import annotations

import json
import logging

import pytest

from tui import logsetup
from tui.cli import main


@pytest.fixture
def cli(sim_store, capsys):  # type: ignore[no-untyped-def]
    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(["compare", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield invoke
    # main() pointed the root logger at this test's temp home: leave no handler behind.
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, (logsetup._LlmwbFileHandler, logsetup._NoLogFile)):
            root.removeHandler(handler)
            handler.close()


def test_one_model_both_ways_prints_table_and_diff(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("--models", "demo-diff", "--prompt", "hi")
    assert code == 0, err
    header, streamed, plain = out.splitlines()[:3]
    assert header.split()[:5] == ["model", "mode", "status", "ttft", "total"]
    assert streamed.split()[:3] == ["demo-diff", "stream", "ok"]
    assert plain.split()[:3] == ["demo-diff", "nonstream", "ok"]
    assert "*" in streamed  # streaming wins first-text time
    assert "demo-diff: stream vs nonstream: outputs differ" in out
    assert "+Paris is the capital of France. It lies on the Seine and has roughly 2.1 million inhabitants." in out


def test_identical_outputs_are_reported(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("--models", "echo", "--prompt", "say this back", "--modes", "stream,nonstream", "--concurrent")
    assert code == 0
    assert "echo: stream vs nonstream: outputs identical" in out


@pytest.mark.unpaced  # the verdicts, not the figures
def test_json_verdict_for_each_model_run_both_ways(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("--models", "echo,demo-diff", "--prompt", "hi", "--modes", "stream,nonstream", "--json")
    assert code == 0
    summary = json.loads(out.splitlines()[-1])
    verdicts = summary["stream_vs_nonstream"]
    assert verdicts["echo"] == {"identical": True, "diff": []}
    assert verdicts["demo-diff"]["identical"] is False and verdicts["demo-diff"]["diff"][0] == "--- stream"


def test_json_one_object_per_run_then_summary(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("--models", "echo,demo-diff", "--prompt", "hi", "--json", "--param", "temperature=0.2")
    assert code == 0
    *runs, summary = [json.loads(line) for line in out.splitlines()]
    shown = [(r["model"], r["mode"], r["status"]) for r in runs]
    assert shown == [("echo", "stream", "ok"), ("demo-diff", "stream", "ok")]
    for run in runs:
        assert run["final_response"]["content"] and run["metrics"]["ttft_ms"] is not None and run["error"] is None
    assert [row["label"] for row in summary["summary"]] == ["echo", "demo-diff"]
    assert set(summary["best"]) <= {"ttft_ms", "total_ms", "decode_tps", "cost_usd"} and summary["best"]
    assert summary["group_id"].startswith("g")


def test_a_failing_model_exits_1_and_the_others_complete(cli, sim_store) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("--models", "fault-429,echo", "--prompt", "hi", "--json", "--concurrent")
    assert code == 1
    *runs, summary = [json.loads(line) for line in out.splitlines()]
    by_model = {r["model"]: r for r in runs}
    assert by_model["fault-429"]["status"] == "error" and by_model["fault-429"]["http_status"] == 429
    assert "partial_response" in by_model["fault-429"] and "429" in by_model["fault-429"]["error"]
    assert by_model["echo"]["status"] == "ok" and by_model["echo"]["final_response"]["content"] == "hi"
    assert "fault-429 (stream)" in err and "429" in err
    saved = sim_store.runs_in_group(summary["group_id"])
    assert sorted(r.status for r in saved) == ["error", "ok"]


def test_a_failing_model_in_the_table(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("--models", "echo,fault-429", "--prompt", "hi")
    assert code == 1
    failed = next(line for line in out.splitlines() if line.startswith("fault-429"))
    assert "error" in failed and "429" in failed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--models", "nope", "--prompt", "hi"], "no model config named 'nope'"),
        (["--models", ",", "--prompt", "hi"], "at least one model"),
        (["--models", "echo", "--prompt", "hi", "--modes", "stream,sideways"], "unknown mode 'sideways'"),
        (["--models", "echo", "--prompt", "hi", "--param", "oops"], "KEY=VALUE"),
    ],
)
def test_bad_usage_exits_2_and_runs_nothing(cli, sim_store, argv, message) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(*argv)
    assert code == 2 and message in err and out == ""
    assert sim_store.list_runs() == []


def test_prompt_from_file(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("from a file", encoding="utf-8")
    code, out, _ = cli("--models", "echo", "--prompt-file", str(prompt), "--modes", "nonstream", "--json")
    assert code == 0
    assert json.loads(out.splitlines()[0])["final_response"]["content"] == "from a file"
