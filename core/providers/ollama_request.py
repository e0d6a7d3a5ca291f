"""Ollama /api/chat requests: the provider-neutral request in Ollama's native shape.

Sampling parameters go under `options` (`max_tokens` becomes `num_predict`);
`format`, `keep_alive` and `think` stay at the top level; OpenAI's
`response_format` becomes `format` and `reasoning_effort` becomes `think`.
OpenAI-only parameters with no Ollama equivalent are reported, never dropped
silently; any other name passes through at the top level (newer Ollama fields).
Tool calls go back with their arguments as objects, tool results with the
name of the tool they answer (what Ollama matches them by).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from core.providers import base
from core.providers.base import CLIENT_OPTIONS, ProviderError
from core.providers.openai_chat import tools_to_openai
from core.request import ChatRequest, Message

if TYPE_CHECKING:  # the table class loads SQLModel; `llmwb run` reads configs without it
    from core.store.models import ModelConfig

DEFAULT_MAX_RETRIES = 2  # the SDKs' default, so every provider kind retries alike

# Ollama's model options (api.Options in its source): these go under `options`.
OPTION_NAMES = frozenset(
    {
        "num_keep", "seed", "num_predict", "top_k", "top_p", "min_p", "typical_p", "repeat_last_n",
        "temperature", "repeat_penalty", "presence_penalty", "frequency_penalty", "stop", "num_ctx",
        "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread", "mirostat", "mirostat_tau",
        "mirostat_eta", "tfs_z", "penalize_newline", "numa", "low_vram", "use_mlock",
    }
)  # fmt: skip
# Renamed on the way: OpenAI's name -> Ollama's option.
OPTION_ALIASES = {"max_tokens": "num_predict", "max_completion_tokens": "num_predict"}
NO_EQUIVALENT = (
    "n", "logit_bias", "user", "service_tier", "parallel_tool_calls", "stream_options", "store",
    "metadata", "prediction", "modalities", "audio", "thinking", "thinking_budget",
)  # fmt: skip


def max_retries(config: ModelConfig, request: ChatRequest) -> int:
    value = {**config.params, **request.params}.get("max_retries", DEFAULT_MAX_RETRIES)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProviderError(f"param max_retries must be a whole number >= 0, got {value!r}", base.BAD_REQUEST)
    return value


def _format_of(response_format: Any) -> Any:
    """OpenAI's response_format as Ollama's `format`: "json" or a JSON schema."""
    if isinstance(response_format, dict):
        kind = response_format.get("type")
        if kind == "json_object":
            return "json"
        if kind == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema")
            if isinstance(schema, dict):
                return schema
        if kind == "text":
            return None
    raise ProviderError(
        f"response_format {response_format!r} has no Ollama equivalent "
        '(use {"type": "json_object"}, {"type": "json_schema", ...}, or the param format)',
        base.UNSUPPORTED,
    )


def _arguments_object(call_id: str, arguments: str) -> dict[str, Any]:
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise ProviderError(
            f"cannot send tool call {call_id} back: its arguments are not a JSON object "
            f"(Ollama needs one): {arguments[:80]!r}",
            base.BAD_REQUEST,
        )
    return value


def messages_to_ollama(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    tool_names: dict[str, str] = {}  # call id -> tool name, for the results that answer them
    for message in messages:
        if message.role == "tool":
            entry: dict[str, Any] = {"role": "tool", "content": message.content}
            name = tool_names.get(message.tool_call_id or "")
            if name:
                entry["tool_name"] = name
            if message.tool_call_id:
                entry["tool_call_id"] = message.tool_call_id
            out.append(entry)
            continue
        entry = {"role": message.role, "content": message.content}
        thinking = "".join(block.thinking for block in message.thinking)
        if thinking:
            entry["thinking"] = thinking
        if message.tool_calls:
            calls = []
            for call in message.tool_calls:
                tool_names[call.id] = call.name
                function = {"name": call.name, "arguments": _arguments_object(call.id, call.arguments)}
                calls.append({"id": call.id, "function": function})
            entry["tool_calls"] = calls
        out.append(entry)
    return out


def _split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(options, top-level fields) from the flat params a config or run gives."""
    for name in NO_EQUIVALENT:
        if name in params:
            raise ProviderError(f"Ollama's /api/chat has no parameter {name!r}", base.UNSUPPORTED)
    options: dict[str, Any] = {}
    given_options = params.pop("options", None)
    if given_options is not None:
        if not isinstance(given_options, dict):
            raise ProviderError(f"param options must be an object, got {given_options!r}", base.BAD_REQUEST)
        options.update(given_options)
    top: dict[str, Any] = {}
    for name, value in params.items():
        option = OPTION_ALIASES.get(name, name)
        if option in OPTION_NAMES:
            options[option] = [value] if option == "stop" and isinstance(value, str) else value
        elif name == "response_format":
            format_ = _format_of(value)
            if format_ is not None:
                top["format"] = format_
        elif name == "reasoning_effort":
            top["think"] = value
        else:  # format, keep_alive, think, logprobs, … and anything newer
            top[name] = value
    return options, top


def build_body(config: ModelConfig, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    params = {k: v for k, v in {**config.params, **request.params}.items() if k not in CLIENT_OPTIONS}
    options, top = _split_params(params)
    body: dict[str, Any] = {"model": config.model, "messages": messages_to_ollama(request.system, request.messages)}
    choice = request.tool_choice or "auto"
    if request.tools and choice != "none":
        if choice != "auto":
            raise ProviderError(
                f"Ollama's /api/chat has no tool_choice: it always decides itself (got {choice!r})", base.UNSUPPORTED
            )
        body["tools"] = tools_to_openai(request.tools)
    body.update(top)
    if options:
        body["options"] = options
    body["stream"] = stream
    return body
