"""The tool a first start seeds: the demo scenarios call it with arguments its schema accepts,
and its canned result answers them, so a tool round trip works with no key and no network.
A file that already holds the user's own tools keeps them alone."""

from __future__ import annotations

import json

import pytest

from core.seed import demo_configs, ensure_seeded
from core.simulator.scenario import builtin_scenarios
from core.store.models import ToolDefinition

TOOL_DEMOS = ("demo-tools", "demo-claude", "demo-responses-tools")

JSON_TYPES = {"string": str, "object": dict, "number": (int, float), "integer": int, "boolean": bool, "array": list}


def schema_problems(schema: dict, arguments: dict) -> list[str]:
    """What a provider's schema check would refuse in `arguments` (the subset of JSON
    Schema the demo tool uses: an object's properties, their types, enums, required)."""
    if schema.get("type") != "object":
        return [f"parameters are a {schema.get('type')!r}, not an object"]
    properties = schema.get("properties", {})
    problems = [f"required {name!r} is not a property" for name in schema.get("required", []) if name not in properties]
    problems += [f"{name!r} missing" for name in schema.get("required", []) if name not in arguments]
    for name, value in arguments.items():
        rule = properties.get(name)
        if rule is None:
            continue  # extra arguments are allowed (no additionalProperties: false)
        if not isinstance(value, JSON_TYPES.get(rule.get("type"), ())):
            problems.append(f"{name!r} is not a {rule.get('type')!r}")
        if "enum" in rule and value not in rule["enum"]:
            problems.append(f"{name!r} = {value!r} is not one of {rule['enum']}")
    return problems


@pytest.mark.parametrize("scenario_name", TOOL_DEMOS)
def test_the_demo_scenarios_call_the_seeded_tool_as_its_schema_says(store, scenario_name: str) -> None:  # type: ignore[no-untyped-def]
    assert ensure_seeded(store) is True
    tools = {tool.name: tool for tool in store.list_tools()}
    calls = builtin_scenarios()[scenario_name].tool_calls
    assert calls
    for call in calls:
        tool = tools[call.name]
        assert schema_problems(tool.parameters, json.loads(call.arguments)) == [], call.arguments
        assert isinstance(json.loads(tool.canned_result or "null"), dict)  # a result the model can read
        assert tool.description
    # The scripted answer to the tool's result agrees with that result.
    result = json.loads(tools["get_weather"].canned_result or "{}")
    answer = builtin_scenarios()[scenario_name].after_tool_results or ""
    assert f"{result['temperature']} °C" in answer and result["conditions"] in answer


def test_the_seeded_schema_refuses_what_a_model_must_not_send(store) -> None:  # type: ignore[no-untyped-def]
    ensure_seeded(store)
    (tool,) = store.list_tools()
    assert schema_problems(tool.parameters, {"unit": "celsius"}) == ["'city' missing"]
    assert schema_problems(tool.parameters, {"city": "Paris", "unit": "kelvin"}) != []
    assert schema_problems(tool.parameters, {"city": 7}) != []
    assert schema_problems(tool.parameters, {"city": "Paris", "unit": "fahrenheit"}) == []


def test_a_file_with_the_users_own_tools_keeps_them_alone(store) -> None:  # type: ignore[no-untyped-def]
    store.save_tool(ToolDefinition(name="lookup", description="mine", parameters={"type": "object"}))
    assert ensure_seeded(store) is True
    assert [tool.name for tool in store.list_tools()] == ["lookup"]
    assert {config.name for config in store.list_configs()} == {config.name for config in demo_configs()}
