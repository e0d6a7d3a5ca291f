"""The request side of OpenAI's Responses API (`POST /v1/responses`): the neutral
request as `input` items, `instructions`, flat function tools, and the parameters
whose names differ from chat completions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.providers import base
from core.providers.base import ProviderError
from core.request import ChatRequest, Message, ToolSpec

if TYPE_CHECKING:  # the table class loads SQLModel; `llmwb run` reads configs without it
    from core.store.models import ModelConfig

CLIENT_OPTIONS = {"max_retries"}  # configure the SDK client, never sent

# Chat-completions names a config may carry, and their Responses equivalents.
_RENAMED = {"max_tokens": "max_output_tokens", "max_completion_tokens": "max_output_tokens"}
# Chat-completions parameters the Responses API has no place for: said, not dropped.
_NOT_IN_RESPONSES = {"n", "stop", "logprobs", "seed", "response_format"}


def message_items(message: Message) -> list[dict[str, Any]]:
    """One neutral message as Responses `input` items. An assistant turn that called
    tools is echoed as its `function_call` items (without the server's item ids, which
    would ask for the reasoning items that came with them); a tool result is a
    `function_call_output`."""
    if message.role == "tool":
        return [{"type": "function_call_output", "call_id": message.tool_call_id, "output": message.content}]
    items: list[dict[str, Any]] = []
    if message.content or not message.tool_calls:
        items.append({"role": message.role, "content": message.content})
    for call in message.tool_calls:
        items.append({"type": "function_call", "call_id": call.id, "name": call.name, "arguments": call.arguments})
    return items


def tools_to_responses(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    # strict off: Responses makes function tools strict by default, which refuses any
    # schema with optional properties — most hand-written ones.
    return [
        {"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters, "strict": False}
        for t in tools
    ]


def tool_choice_to_responses(choice: str | None) -> Any:
    if choice in (None, ""):
        return None
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "name": choice}


def _translate_params(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    unsupported = sorted(set(params) & _NOT_IN_RESPONSES)
    if unsupported:
        raise ProviderError(
            f"the Responses API has no parameter {', '.join(unsupported)} (use the openai chat kind for it)",
            base.UNSUPPORTED,
        )
    reasoning: dict[str, Any] = {}
    for key, value in params.items():
        if key in CLIENT_OPTIONS:
            continue
        if key == "reasoning_effort":  # the chat-completions spelling
            reasoning["effort"] = value
        elif key == "reasoning_summary":
            reasoning["summary"] = value
        elif key == "reasoning" and isinstance(value, dict):
            reasoning.update(value)
        else:
            out[_RENAMED.get(key, key)] = value
    if reasoning:
        out["reasoning"] = reasoning
    return out


def build_body(config: ModelConfig, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    items = [item for message in request.messages for item in message_items(message)]
    body: dict[str, Any] = {"model": config.model, "input": items}
    if request.system:
        body["instructions"] = request.system
    body.update(_translate_params({**config.params, **request.params}))
    if request.tools:
        body["tools"] = tools_to_responses(request.tools)
        choice = tool_choice_to_responses(request.tool_choice)
        if choice is not None:
            body["tool_choice"] = choice
    body["stream"] = stream
    return body
