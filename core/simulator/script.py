"""From a scenario and a request to a protocol-neutral script of content steps.

Both wire modules (OpenAI, Anthropic) render the same `Plan`, so one scenario
says the same thing, in the same number of content frames, on either protocol.

Computed usage (when a scenario gives no counts): tokens are estimated as
characters / 4 rounded up — prompt from the text of the request's messages and
system prompt, completion from reasoning + text + tool arguments (at least 1),
reasoning_tokens from the reasoning alone, cached_tokens 0.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from core.simulator.scenario import Scenario, Timing

# Step kinds. Every step is one content-bearing frame on either protocol.
REASONING = 0
TEXT = 1
TOOL_START = 2  # OpenAI: first tool_calls delta (id, name, arguments ""); Anthropic: content_block_start tool_use
TOOL_ARGS = 3  # an arguments fragment

_WORD = re.compile(r"\s*\S+|\s+\Z")


@dataclass(slots=True, frozen=True)
class Step:
    kind: int
    text: str = ""
    tool_index: int = 0


@dataclass(slots=True)
class PlannedToolCall:
    index: int
    id: str
    name: str
    arguments: str


@dataclass(slots=True)
class ResolvedUsage:
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cached_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class Plan:
    reasoning: str
    text: str
    tool_calls: list[PlannedToolCall]
    steps: list[Step]
    finish_reason: str  # OpenAI's word: stop | length | tool_calls | content_filter
    usage: ResolvedUsage
    refusal: bool = False  # `text` is the model declining (see Scenario.refusal)


def cut_fixed(text: str, size: int) -> list[str]:
    """Cut by characters (so multi-byte characters straddle frame boundaries only as whole chars)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def cut_words(text: str) -> list[str]:
    """Cut before each word, keeping the leading whitespace with the word, as tokenizers do."""
    return _WORD.findall(text)


def _text_of_content(content: Any) -> str:
    """The text in an OpenAI or Anthropic message `content` (a string or a list of parts/blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return ""


def last_user_text(body: Mapping[str, Any]) -> str:
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, Mapping) and message.get("role") == "user":
                return _text_of_content(message.get("content"))
    return ""


def answers_tool_results(body: Mapping[str, Any]) -> bool:
    """Whether the request's last message hands back tool results (OpenAI: a `tool`
    message; Anthropic: a user message with `tool_result` blocks)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], Mapping):
        return False
    last = messages[-1]
    if last.get("role") == "tool":
        return True
    content = last.get("content")
    return isinstance(content, list) and any(
        isinstance(block, Mapping) and block.get("type") == "tool_result" for block in content
    )


def prompt_chars(body: Mapping[str, Any]) -> int:
    total = len(_text_of_content(body.get("system")))  # Anthropic's top-level system prompt
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, Mapping):
                total += len(_text_of_content(message.get("content")))
    return total


def _tokens(chars: int) -> int:
    return math.ceil(chars / 4)


def _tool_call_id(scenario_name: str, index: int, name: str, prefix: str) -> str:
    # Deterministic so snapshots and recorded runs compare equal across runs.
    digest = hashlib.sha1(f"{scenario_name}:{index}:{name}".encode()).hexdigest()[:24]
    return prefix + digest


def resolve_usage(scenario: Scenario, body: Mapping[str, Any], reasoning: str, text: str, arguments_chars: int) -> ResolvedUsage:
    given = scenario.usage
    completion = given.completion_tokens
    if completion is None:
        completion = max(1, _tokens(len(reasoning) + len(text) + arguments_chars))
    reasoning_tokens = given.reasoning_tokens
    if reasoning_tokens is None:
        reasoning_tokens = min(_tokens(len(reasoning)), completion)
    prompt = given.prompt_tokens
    if prompt is None:
        prompt = max(1, _tokens(prompt_chars(body)))
    cached = given.cached_tokens or 0
    return ResolvedUsage(prompt, completion, reasoning_tokens, min(cached, prompt))


def build_plan(scenario: Scenario, body: Mapping[str, Any], *, streamed: bool, tool_id_prefix: str) -> Plan:
    """What this response will say. `streamed=False` swaps in `nonstream_text` when given."""
    chunking = scenario.chunking
    if scenario.after_tool_results is not None and answers_tool_results(body):
        return _plan_answer(scenario, body, scenario.after_tool_results)
    if scenario.echo:
        text = last_user_text(body)
    elif not streamed and scenario.nonstream_text is not None:
        text = scenario.nonstream_text
    else:
        text = scenario.text
    reasoning = scenario.reasoning

    steps: list[Step] = [Step(REASONING, piece) for piece in cut_fixed(reasoning, chunking.size)]
    if chunking.mode == "list" and not scenario.echo and text == scenario.text and chunking.chunks:
        text_pieces = chunking.chunks
    elif chunking.mode == "word" or (scenario.echo and not scenario.chunking_given):
        text_pieces = cut_words(text)
    else:
        text_pieces = cut_fixed(text, chunking.size)
    steps.extend(Step(TEXT, piece) for piece in text_pieces if piece)

    tool_calls: list[PlannedToolCall] = []
    arguments_size = chunking.arguments_size or chunking.size
    for index, call in enumerate(scenario.tool_calls):
        call_id = call.id or _tool_call_id(scenario.name, index, call.name, tool_id_prefix)
        tool_calls.append(PlannedToolCall(index, call_id, call.name, call.arguments))
        steps.append(Step(TOOL_START, "", index))
        steps.extend(Step(TOOL_ARGS, piece, index) for piece in cut_fixed(call.arguments, arguments_size))

    arguments_chars = sum(len(call.arguments) for call in tool_calls)
    usage = resolve_usage(scenario, body, reasoning, text, arguments_chars)
    plan = Plan(reasoning, text, tool_calls, steps, scenario.resolved_finish_reason, usage, scenario.refusal)
    return cut_to_max_tokens(plan, body)


def content_gaps(timing: Timing) -> Iterator[float]:
    """Seconds between consecutive content frames; jitter drawn from Random(seed), fresh per call."""
    gap = timing.gap_ms / 1000.0
    jitter = timing.jitter_ms / 1000.0
    if jitter <= 0:
        while True:
            yield gap
    rng = random.Random(timing.seed)
    while True:
        yield max(0.0, gap + rng.uniform(-jitter, jitter))


def scripted_duration_s(timing: Timing, content_frames: int) -> float:
    """How long the streamed version takes from request to last content frame (no faults)."""
    total = timing.first_token_ms / 1000.0
    gaps = content_gaps(timing)
    for _ in range(max(0, content_frames - 1)):
        total += next(gaps)
    return total


def _plan_answer(scenario: Scenario, body: Mapping[str, Any], text: str) -> Plan:
    """A plain text reply (no reasoning, no tool calls) on the scenario's timing."""
    steps = [Step(TEXT, piece) for piece in cut_fixed(text, scenario.chunking.size) if piece]
    usage = resolve_usage(scenario, body, "", text, 0)
    return cut_to_max_tokens(Plan("", text, [], steps, "stop", usage), body)


def max_tokens_of(body: Mapping[str, Any]) -> int | None:
    """The request's output budget, whichever protocol's name it goes by."""
    for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def cut_to_max_tokens(plan: Plan, body: Mapping[str, Any]) -> Plan:
    """Honour the request's max_tokens as a server does: the output stops once the budget
    (tokens ≈ characters / 4, as the computed usage counts them) is spent, and the
    finish reason says `length`."""
    budget = max_tokens_of(body)
    if budget is None or plan.usage.completion_tokens <= budget:
        return plan
    chars_left = budget * 4
    kept: list[Step] = []
    for step in plan.steps:
        if chars_left <= 0:
            break
        piece = step.text[:chars_left]
        chars_left -= len(piece)
        if piece or step.kind == TOOL_START:
            kept.append(Step(step.kind, piece, step.tool_index))
    reasoning = "".join(step.text for step in kept if step.kind == REASONING)
    text = "".join(step.text for step in kept if step.kind == TEXT)
    started = {step.tool_index for step in kept if step.kind == TOOL_START}
    calls = [
        PlannedToolCall(call.index, call.id, call.name,
                        "".join(s.text for s in kept if s.kind == TOOL_ARGS and s.tool_index == call.index))
        for call in plan.tool_calls if call.index in started
    ]  # fmt: skip
    usage = ResolvedUsage(
        plan.usage.prompt_tokens, budget, min(plan.usage.reasoning_tokens, budget), plan.usage.cached_tokens
    )
    return Plan(reasoning, text, calls, kept, "length", usage, plan.refusal)
