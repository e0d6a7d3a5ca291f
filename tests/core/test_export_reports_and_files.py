"""A saved run exported as a user pastes it into an issue or replays it: the whole Markdown
report, the JSON file, curl for a run whose config was deleted, and the files themselves."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from runkit import openai_config, run_to_end, scripted

from core.export import as_markdown, export_run
from core.request import ChatRequest, Message, ToolCall, ToolSpec
from core.store.models import Run, RunFrame

WHEN = datetime(2026, 11, 26, 20, 15, tzinfo=timezone.utc)
ARGS = '{"city": "Zürich", "days": [1, 2]}'
WIRE_ARGS = '{"city":"Zürich",\n "days":[1,2]}'  # as a model spaces it, which the report keeps


def failed_tool_run() -> Run:
    request = ChatRequest(
        messages=[
            Message(role="user", content="Weather in Zürich?"),
            Message(role="assistant", content="Let me look.", tool_calls=[ToolCall(id="call_1", name="get_weather", arguments=ARGS)]),
            Message(role="tool", content='{"temperature": 18}', tool_call_id="call_1"),
            Message(role="assistant", tool_calls=[ToolCall(id="call_2", name="get_time", arguments="{}")]),
        ],
        params={"temperature": 0.2, "stop": ["«end»"]}, stream=False, system="Answer in\nshort sentences.",
        tools=[ToolSpec(name="get_weather"), ToolSpec(name="get_time")],
    ).to_dict()  # fmt: skip
    # A message with content parts (an imported conversation): text parts joined, others as sent.
    request["messages"].append({"role": "user", "content": [{"type": "text", "text": "part one"}, {"type": "image"}, "loose"]})
    return Run(
        id="r-1", created_at=WHEN, model_config_name="mine", provider="openai", model="gpt-x", stream=False,
        status="error", error="stream cut after 3 chunks", error_type="network", request=request,
        response={
            "content": "It is", "reasoning": "Look it up.",
            "tool_calls": [{"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": '{"tz": "CET"}'}},
                           {"id": "c3", "arguments": {"unit": "°C"}}, {"name": "no_arguments"}],
        },
        metrics={"ttft_ms": 152.5, "total_ms": None, "output_tokens": 3},
    )  # fmt: skip


FAILED_TOOL_REPORT = """\
# llmwb run r-1

- model: `mine` (openai · `gpt-x`)
- when: 2026-11-26T20:15:00+00:00
- mode: non-stream
- status: error (network)
- error: stream cut after 3 chunks
- params: `{"temperature": 0.2, "stop": ["«end»"]}`
- tools offered: `get_weather`, `get_time`

## system

```
Answer in
short sentences.
```

## user

```
Weather in Zürich?
```

## assistant

```
Let me look.
[
  {
    "id": "call_1",
    "name": "get_weather",
    "arguments": "{\\"city\\": \\"Zürich\\", \\"days\\": [1, 2]}"
  }
]
```

## tool

```
{"temperature": 18}
```

## assistant

```
[
  {
    "id": "call_2",
    "name": "get_time",
    "arguments": "{}"
  }
]
```

## user

```
part one
{"type": "image"}
```

## reasoning

```
Look it up.
```

## partial answer

```
It is
```

### tool call `get_time`

```json
{"tz": "CET"}
```

### tool call `?`

```json
{"unit": "°C"}
```

### tool call `no_arguments`

```json

```

## metrics

| metric | value |
| --- | --- |
| ttft_ms | 152.5 |
| output_tokens | 3 |
"""


def test_the_markdown_report_of_a_failed_tool_run_reads_in_full() -> None:
    assert as_markdown(failed_tool_run()) == FAILED_TOOL_REPORT


def test_a_plain_streamed_answer_has_no_empty_sections() -> None:
    run = Run(id="r-2", created_at=WHEN, model_config_name="demo-fast", provider="simulator", model="demo-fast",
              status="ok", request=ChatRequest.from_prompt("hi").to_dict(), response={"content": None, "reasoning": ""},
              metrics={"ttft_ms": None})  # fmt: skip
    assert as_markdown(run) == (
        "# llmwb run r-2\n\n- model: `demo-fast` (simulator · `demo-fast`)\n- when: 2026-11-26T20:15:00+00:00\n"
        "- mode: stream\n- status: ok\n\n## user\n\n```\nhi\n```\n\n## answer\n\n```\n\n```\n"
    )


async def test_a_tool_call_from_the_wire_shows_its_arguments_as_json(simulator) -> None:  # type: ignore[no-untyped-def]
    simulator.add_scenario(scripted("weather", text="", tool_calls=[{"id": "call_A", "name": "get_weather", "arguments": WIRE_ARGS}]))
    outcome = await run_to_end(openai_config(simulator.root_url, "weather"), "Weather in Zürich?")
    run = Run(model_config_name="weather", provider="openai-compatible", model="weather", status="ok",
              request=ChatRequest.from_prompt("Weather in Zürich?").to_dict(), response=outcome.response)  # fmt: skip
    # As the model sent it: JSON a reader can paste, not Python's repr of the parsed object.
    assert f"### tool call `get_weather`\n\n```json\n{WIRE_ARGS}\n```" in as_markdown(run)


def test_the_json_file_keeps_everything_readably(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = failed_tool_run()
    frames = [RunFrame(run_id="r-1", seq=0, offset_ms=1.5, data='data: {"a": "Zürich"}')]
    path = export_run(run, frames, None, "json", tmp_path)
    text = path.read_bytes().decode("utf-8")
    assert path.name == "run-r-1.json" and text.endswith("}\n")
    assert '\n  "model": "gpt-x",\n' in text  # one field a line, two spaces a level
    assert "Weather in Zürich?" in text  # as typed, not \\u escapes
    data = json.loads(text)
    assert data["frames"] == [{"offset_ms": 1.5, "data": 'data: {"a": "Zürich"}'}]
    assert data["error"] == "stream cut after 3 chunks" and data["request"]["params"]["stop"] == ["«end»"]


def test_files_go_to_a_new_folder_named_by_run_and_format(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = failed_tool_run()
    folder = tmp_path / "exports" / "today"
    paths = [export_run(run, [], None, kind, folder) for kind in ("markdown", "curl", "json")]
    assert [p.name for p in paths] == ["run-r-1.md", "run-r-1.sh", "run-r-1.json"]
    assert paths[0].read_bytes().decode("utf-8") == FAILED_TOOL_REPORT
    with pytest.raises(ValueError, match=r"^unknown export format 'pdf' \(known: json, markdown, curl\)$"):
        export_run(run, [], None, "pdf", folder)


def test_curl_for_a_run_whose_config_was_deleted_uses_the_runs_provider_and_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = Run(id="r-3", model_config_name="gone", provider="anthropic", model="claude-x", status="ok",
              request=ChatRequest.from_prompt("hi", stream=False).to_dict())  # fmt: skip
    text = export_run(run, [], None, "curl", tmp_path).read_text(encoding="utf-8")
    assert text.startswith("curl https://api.anthropic.com/v1/messages \\\n")
    assert '"model": "claude-x"' in text and "x-api-key" not in text
    assert text.endswith("'\n") and not text.endswith("\n\n")
