"""Anthropic Messages requests: the provider-neutral request translated into the
Messages API's body — system, content blocks (signed thinking sent back, tool_use,
tool_result), tools, tool_choice, and the params that differ from OpenAI's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from core.providers import base
from core.providers.base import ProviderError
from core.request import ChatRequest, Message, ToolSpec

if TYPE_CHECKING:  # the table class loads SQLModel; `llmwb run` reads configs without it
    from core.store.models import ModelConfig

# Anthropic requires max_tokens; this is what a run gets when neither the config nor
# the request sets it (plus the thinking budget, which counts inside max_tokens).
DEFAULT_MAX_TOKENS = 4096
# Config params that configure the client (or llmwb's caps) rather than go in the request body.
CLIENT_OPTIONS = base.CLIENT_OPTIONS
# OpenAI chat parameters the Messages API has no equivalent for: reported, never dropped silently.
OPENAI_ONLY_PARAMS = (
    "seed", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs", "logit_bias",
    "n", "response_format", "stream_options",
)  # fmt: skip

_TOOL_CHOICES = {"auto": "auto", "none": "none", "required": "any", "any": "any"}


def _tool_input(call_id: str, arguments: str) -> dict[str, Any]:
    """A tool call's raw arguments as the object Anthropic wants back as `input`."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise ProviderError(
            f"cannot send tool call {call_id} back: its arguments are not a JSON object "
            f"(Anthropic needs one): {arguments[:80]!r}",
            base.BAD_REQUEST,
        )
    return value


def _assistant_blocks(message: Message) -> list[dict[str, Any]]:
    # Signed thinking goes first, verbatim: Anthropic rejects a tool-use turn whose
    # thinking was changed or dropped while thinking is on.
    blocks: list[dict[str, Any]] = []
    for block in message.thinking:
        if block.redacted_data is not None:
            blocks.append({"type": "redacted_thinking", "data": block.redacted_data})
        else:
            blocks.append({"type": "thinking", "thinking": block.thinking, "signature": block.signature or ""})
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        arguments = _tool_input(call.id, call.arguments)
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": arguments})
    return blocks


def messages_to_anthropic(messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            result = {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
            previous = out[-1] if out else None
            # Consecutive tool results answer one assistant turn: one user message holds them all.
            if previous and previous["role"] == "user" and isinstance(previous["content"], list) and all(
                b.get("type") == "tool_result" for b in previous["content"]
            ):
                previous["content"].append(result)
            else:
                out.append({"role": "user", "content": [result]})
        elif message.role == "assistant" and (message.tool_calls or message.thinking):
            out.append({"role": "assistant", "content": _assistant_blocks(message)})
        else:
            out.append({"role": message.role, "content": message.content})
    return out


def tools_to_anthropic(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        entry: dict[str, Any] = {"name": tool.name, "input_schema": tool.parameters}
        if tool.description:
            entry["description"] = tool.description
        out.append(entry)
    return out


def tool_choice_to_anthropic(choice: str | None) -> dict[str, Any] | None:
    if choice in (None, ""):
        return None
    if choice in _TOOL_CHOICES:
        return {"type": _TOOL_CHOICES[choice]}
    return {"type": "tool", "name": choice}


def _thinking_config(params: dict[str, Any]) -> dict[str, Any] | None:
    budget = params.pop("thinking_budget", None)
    thinking = params.pop("thinking", None)
    if budget is not None:
        thinking = {"budget_tokens": budget}
    if thinking is None:
        return None
    if not isinstance(thinking, dict):
        raise ProviderError(
            f'thinking must be an object such as {{"budget_tokens": 2048}}, got {thinking!r}', base.BAD_REQUEST
        )
    budget = thinking.get("budget_tokens")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise ProviderError(f"the thinking budget must be a positive integer, got {budget!r}", base.BAD_REQUEST)
    # A budget alone means extended thinking on; an explicit type (adaptive, disabled) is kept.
    return {"type": "enabled", **thinking}


def build_body(config: ModelConfig, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    params = {k: v for k, v in {**config.params, **request.params}.items() if k not in CLIENT_OPTIONS}
    for name in OPENAI_ONLY_PARAMS:
        if name in params:
            raise ProviderError(f"the Anthropic Messages API has no parameter {name!r}", base.UNSUPPORTED)
    thinking = _thinking_config(params)
    stop = params.pop("stop", None)
    if stop is not None:
        params["stop_sequences"] = [stop] if isinstance(stop, str) else stop
    max_tokens = params.pop("max_tokens", None)
    if max_tokens is None:
        max_tokens = DEFAULT_MAX_TOKENS + ((thinking or {}).get("budget_tokens") or 0)
    body: dict[str, Any] = {"model": config.model, "max_tokens": max_tokens}
    if request.system:
        body["system"] = request.system
    body["messages"] = messages_to_anthropic(request.messages)
    if thinking is not None:
        body["thinking"] = thinking
    body.update(params)  # temperature, top_p, top_k, metadata and anything newer pass through
    if request.tools:
        body["tools"] = tools_to_anthropic(request.tools)
        choice = tool_choice_to_anthropic(request.tool_choice)
        if choice is not None:
            body["tool_choice"] = choice
    body["stream"] = stream
    return body
