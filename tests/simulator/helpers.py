"""Helpers shared by the simulator tests."""

from __future__ import annotations

import asyncio
from typing import Any

from core.simulator import RecordedExchange, Scenario, SimulatorServer, scenario_from_dict
from core.simulator.scenario import Timing


def add(server: SimulatorServer, **fields: Any) -> Scenario:
    """Add a scenario written inline, as a user would write it in YAML."""
    scenario = scenario_from_dict(fields)
    server.add_scenario(scenario)
    return scenario


def instant(server: SimulatorServer, name: str) -> Scenario:
    """A built-in scenario with its delays removed, so shape tests stay fast."""
    scenario = server.scenarios[name]
    scenario.timing = Timing(first_token_ms=0, gap_ms=0)
    return scenario


async def finished(exchange: RecordedExchange, timeout: float = 5.0) -> RecordedExchange:
    await asyncio.wait_for(exchange.finished.wait(), timeout)
    return exchange


def user(text: str = "hello") -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


async def collect_openai_stream(stream: Any) -> dict[str, Any]:
    """Assemble a chat.completions stream the way a client would."""
    result: dict[str, Any] = {"text": "", "reasoning": "", "tools": {}, "finish_reason": None, "usage": None, "chunks": []}
    async for chunk in stream:
        result["chunks"].append(chunk)
        if chunk.usage is not None:
            result["usage"] = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            result["text"] += delta.content or ""
            result["reasoning"] += (delta.model_extra or {}).get("reasoning_content") or ""
            for call in delta.tool_calls or []:
                entry = result["tools"].setdefault(call.index, {"id": None, "name": None, "arguments": ""})
                if call.id:
                    entry["id"] = call.id
                if call.function is not None:
                    entry["name"] = call.function.name or entry["name"]
                    entry["arguments"] += call.function.arguments or ""
            if choice.finish_reason:
                result["finish_reason"] = choice.finish_reason
    return result
