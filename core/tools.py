"""Tool definitions (validated before they are saved) and the tool-result turn.

A tool call is debugged in two runs: the first ends in tool calls; the second
sends the same conversation plus the assistant's calls and a result for each.
`continuation_request` builds that second request from the saved first run,
whichever provider it ran on; each adapter then puts it in its own wire shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.request import ChatRequest, Message, ThinkingBlock, ToolCall, ToolSpec
from core.store.models import ModelConfig, ToolDefinition
from core.validation import MAX_DEPTH, json_value_problem

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class ToolError(Exception):
    """A tool definition or tool-result turn that cannot be used; the message says why."""


def _parse_schema(parameters: dict[str, Any] | str) -> Any:
    if not isinstance(parameters, str):
        return parameters
    try:
        return json.loads(parameters)
    except json.JSONDecodeError as exc:
        raise ToolError(f"parameters are not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise ToolError(f"parameters nest deeper than {MAX_DEPTH} levels") from None


def validate_tool_definition(
    name: str, description: str, parameters: dict[str, Any] | str, *, canned_result: str | None = None
) -> ToolDefinition:
    """A ToolDefinition, or ToolError naming the first thing wrong with the input.

    `parameters` is the JSON schema of the arguments, as a dict or as JSON text."""
    if not TOOL_NAME.match(name):
        raise ToolError(f"invalid tool name {name!r}: use 1-64 letters, digits, '_' or '-'")
    schema = _parse_schema(parameters)
    if not isinstance(schema, dict):
        raise ToolError(f"parameters must be a JSON object schema, got a JSON {type(schema).__name__}")
    problem = json_value_problem(schema)  # depth, NaN, huge numbers: what would fail once sent
    if problem:
        raise ToolError(f"parameters {problem}")
    if "type" not in schema:
        raise ToolError('parameters must be an object schema: "type": "object" is missing')
    if schema["type"] != "object":
        raise ToolError(f'parameters must be an object schema ("type": "object"), got "type": {schema["type"]!r}')
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise ToolError('"properties" must be an object mapping each argument name to its schema')
    for key, value in properties.items():
        if not isinstance(value, dict):
            raise ToolError(f'"properties.{key}" must be a schema object, got {value!r}')
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(item, str) for item in required):
        raise ToolError('"required" must be a list of argument names')
    unknown = [item for item in required if item not in properties]
    if unknown:
        raise ToolError(f'"required" names argument(s) not in "properties": {", ".join(unknown)}')
    return ToolDefinition(name=name, description=description, parameters=schema, canned_result=canned_result)


def specs_for(store: Any, names: list[str]) -> list[ToolSpec]:
    """The saved tools with these names, ready for a request."""
    specs = []
    for name in names:
        tool = store.get_tool(name)
        if tool is None:
            known = ", ".join(t.name for t in store.list_tools()) or "none saved yet"
            raise ToolError(f"no tool named {name!r} (known: {known})")
        specs.append(ToolSpec(name=tool.name, description=tool.description, parameters=tool.parameters))
    return specs


def _thinking_blocks(response: dict[str, Any]) -> list[ThinkingBlock]:
    blocks = []
    for entry in response.get("thinking_blocks") or ():
        if entry.get("redacted_data") is not None:
            blocks.append(ThinkingBlock(redacted_data=entry["redacted_data"]))
        else:
            blocks.append(ThinkingBlock(thinking=entry.get("thinking", ""), signature=entry.get("signature")))
    return blocks


def continuation_request(store: Any, run_id: str, results: dict[str, str]) -> tuple[ModelConfig, ChatRequest]:
    """The model config of run `run_id` and the request that answers its tool calls.

    `results` maps a call id to the text the tool returned; a call without one gets
    its tool's canned result. Run it with RunOptions(parent_run_id=run_id)."""
    run = store.get_run(run_id)
    if run is None:
        raise ToolError(f"no run {run_id!r} in history")
    response = run.response or {}
    if run.status != "ok" or response.get("finish_reason") != "tool_calls":
        ended = f"status {run.status}" if run.status != "ok" else f"finish_reason {response.get('finish_reason')}"
        raise ToolError(f"run {run_id} did not end in tool calls ({ended}): nothing to answer")
    calls = response.get("tool_calls") or []
    call_ids = [call.get("id") for call in calls]
    if not calls or None in call_ids:
        raise ToolError(f"run {run_id} has tool calls without ids: they cannot be answered")
    unknown = sorted(set(results) - set(call_ids))
    if unknown:
        raise ToolError(f"run {run_id} has no tool call {', '.join(unknown)} (its calls: {', '.join(call_ids)})")
    config = store.get_config(run.model_config_name)
    if config is None:
        raise ToolError(f"model config {run.model_config_name!r} of run {run_id} no longer exists")

    answers = []
    for call in calls:
        result = results.get(call["id"])
        if result is None:
            tool = store.get_tool(call["name"]) if call.get("name") else None
            result = tool.canned_result if tool is not None else None
        if result is None:
            raise ToolError(
                f"no result for tool call {call['id']} ({call.get('name')}): "
                "give one, or set a canned result on the tool"
            )
        answers.append(Message(role="tool", content=result, tool_call_id=call["id"]))

    original = ChatRequest.from_dict(run.request)
    assistant = Message(
        role="assistant",
        content=response.get("content") or "",
        tool_calls=[ToolCall(c["id"], c.get("name") or "", c.get("arguments_raw", "")) for c in calls],
        thinking=_thinking_blocks(response),
    )
    follow_up = ChatRequest(
        messages=[*original.messages, assistant, *answers],
        system=original.system,
        params=original.params,
        tools=original.tools,
        tool_choice=original.tool_choice,
        stream=original.stream,
    )
    return config, follow_up
