"""core.export: a saved run as JSON, Markdown or curl, written to a file."""

from __future__ import annotations

import json

from core.export import export_run
from core.request import ChatRequest
from core.store.models import ModelConfig, Run, RunFrame


def saved() -> tuple[Run, list[RunFrame]]:
    run = Run(
        model_config_name="demo-fast", provider="simulator", model="demo-fast", status="ok",
        request=ChatRequest.from_prompt("What is ```TTFT```?", params={"temperature": 0.2}).to_dict(),
        response={"content": "Time to first token.", "finish_reason": "stop"},
        metrics={"ttft_ms": 152.0, "total_ms": 900.0},
    )  # fmt: skip
    return run, [RunFrame(run_id=run.id, seq=0, offset_ms=152.0, data='data: {"x": 1}')]


def test_json_keeps_the_run_and_its_frames(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run, frames = saved()
    path = export_run(run, frames, None, "json", tmp_path)
    data = json.loads(path.read_text())
    assert path.name == f"run-{run.id}.json"
    assert data["id"] == run.id and data["response"]["content"] == "Time to first token."
    assert data["frames"] == [{"offset_ms": 152.0, "data": 'data: {"x": 1}'}]


def test_markdown_reads_as_a_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run, frames = saved()
    text = export_run(run, frames, None, "markdown", tmp_path).read_text()
    assert text.startswith(f"# llmwb run {run.id}")
    assert "````\nWhat is ```TTFT```?\n````" in text  # a fence longer than the one inside
    assert "## answer" in text and "| ttft_ms | 152.0 |" in text


def test_curl_uses_the_config_and_never_a_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run, frames = saved()
    config = ModelConfig(name="demo-fast", provider="openai", model="gpt-x", api_key_env="OPENAI_API_KEY")
    text = export_run(run, frames, config, "curl", tmp_path).read_text()
    assert text.startswith("curl -N ") and "$OPENAI_API_KEY" in text and '"temperature": 0.2' in text
