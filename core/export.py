"""A saved run written out for someone else: JSON (everything, frames included),
Markdown (to paste into an issue), or `curl` (to replay it outside llmwb).

Pure functions from a run to text; the caller picks the file. Nothing here holds a
key: runs never store one, and curl refers to the config's key variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.request import ChatRequest
from core.store.models import ModelConfig, Run, RunFrame

FORMATS = {"json": "json", "markdown": "md", "curl": "sh"}  # format → file extension


def as_json(run: Run, frames: list[RunFrame]) -> str:
    data: dict[str, Any] = json.loads(run.model_dump_json())
    data["frames"] = [{"offset_ms": frame.offset_ms, "data": frame.data} for frame in frames]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def as_markdown(run: Run) -> str:
    request = ChatRequest.from_dict(run.request or {})
    response = run.response or {}
    metrics = run.metrics or {}
    lines = [
        f"# llmwb run {run.id}",
        "",
        f"- model: `{run.model_config_name}` ({run.provider} · `{run.model}`)",
        f"- when: {run.created_at.isoformat()}",
        f"- mode: {'stream' if run.stream else 'non-stream'}",
        f"- status: {run.status}" + (f" ({run.error_type})" if run.error_type else ""),
    ]
    if run.error:
        lines.append(f"- error: {run.error}")
    if request.params:
        lines.append(f"- params: `{json.dumps(request.params, ensure_ascii=False)}`")
    if request.tools:
        lines.append("- tools offered: " + ", ".join(f"`{tool.name}`" for tool in request.tools))
    if request.system:
        lines += ["", "## system", "", _fenced(request.system)]
    for message in (run.request or {}).get("messages") or []:
        lines += ["", f"## {message.get('role', '?')}", "", _fenced(_message_text(message))]
    if response.get("reasoning"):
        lines += ["", "## reasoning", "", _fenced(str(response["reasoning"]))]
    lines += ["", "## answer" if run.status == "ok" else "## partial answer", "", _fenced(str(response.get("content") or ""))]
    for call in response.get("tool_calls") or []:
        function = call.get("function") or call
        lines += ["", f"### tool call `{function.get('name', '?')}`", "", _fenced(_arguments_text(function), "json")]
    figures = [(key, value) for key, value in metrics.items() if value is not None]
    if figures:
        lines += ["", "## metrics", "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {key} | {value} |" for key, value in figures]
    return "\n".join(lines) + "\n"


def as_curl(run: Run, config: ModelConfig | None) -> str:
    """The run's request as curl, on its model config as it is now (the endpoint and
    key variable live there). A stand-in config when that one was deleted."""
    from core.curl import as_curl as request_as_curl

    if config is None:
        config = ModelConfig(name=run.model_config_name, provider=run.provider, model=run.model)
    return request_as_curl(config, ChatRequest.from_dict(run.request or {})) + "\n"


def export_run(run: Run, frames: list[RunFrame], config: ModelConfig | None, kind: str, folder: Path) -> Path:
    """Write the run in `kind` (json, markdown, curl) to `folder`; returns the file."""
    if kind not in FORMATS:
        raise ValueError(f"unknown export format {kind!r} (known: {', '.join(FORMATS)})")
    text = as_json(run, frames) if kind == "json" else as_markdown(run) if kind == "markdown" else as_curl(run, config)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-{run.id}.{FORMATS[kind]}"
    path.write_text(text, encoding="utf-8")
    return path


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        content = "\n".join(_part_text(part) for part in content if isinstance(part, dict))
    text = str(content or "")
    if message.get("tool_calls"):
        text += ("\n" if text else "") + json.dumps(message["tool_calls"], ensure_ascii=False, indent=2)
    return text


def _part_text(part: dict[str, Any]) -> str:
    """A content part's text; any other part (an image, a file) as the JSON it was sent as."""
    text = part.get("text")
    return text if isinstance(text, str) else json.dumps(part, ensure_ascii=False)


def _arguments_text(call: dict[str, Any]) -> str:
    """A tool call's arguments as the model sent them. A saved run keeps that text beside
    the parsed object (`arguments_raw`); `str()` of the object would be Python, not JSON."""
    raw = call.get("arguments_raw")
    if isinstance(raw, str):
        return raw
    arguments = call.get("arguments", "")
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def _fenced(text: str, language: str = "") -> str:
    fence = "```"
    while fence in text:  # a fence longer than any inside the text keeps it one block
        fence += "`"
    return f"{fence}{language}\n{text}\n{fence}"
