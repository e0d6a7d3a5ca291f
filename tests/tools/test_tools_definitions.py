"""Tool definitions are checked before they are saved; unknown names are reported."""

from __future__ import annotations

import pytest
from tool_support import WEATHER_SCHEMA

from core.request import ToolSpec
from core.tools import ToolError, specs_for, validate_tool_definition


def test_valid_definition_from_dict_or_json_text():
    tool = validate_tool_definition("get_weather", "weather", WEATHER_SCHEMA, canned_result="sunny")
    assert (tool.name, tool.parameters, tool.canned_result) == ("get_weather", WEATHER_SCHEMA, "sunny")
    from_text = validate_tool_definition("get-weather_2", "", '{"type": "object"}')
    assert from_text.parameters == {"type": "object"}


def test_invalid_json_names_line_and_column():
    with pytest.raises(ToolError) as caught:
        validate_tool_definition("f", "", '{\n  "type": "object",\n  "properties": {,}\n}')
    assert str(caught.value) == "parameters are not valid JSON: Expecting property name enclosed in double quotes at line 3, column 18"


@pytest.mark.parametrize(
    ("name", "schema", "message"),
    [
        ("has space", {"type": "object"}, "invalid tool name 'has space'"),
        ("x" * 65, {"type": "object"}, "invalid tool name"),
        ("", {"type": "object"}, "invalid tool name"),
        ("f", "[1, 2]", "must be a JSON object schema, got a JSON list"),
        ("f", {"type": "string"}, "must be an object schema (\"type\": \"object\"), got \"type\": 'string'"),
        ("f", {"properties": {}}, '"type": "object" is missing'),
        ("f", {"type": "object", "properties": []}, '"properties" must be an object'),
        ("f", {"type": "object", "properties": {"a": "string"}}, '"properties.a" must be a schema object'),
        ("f", {"type": "object", "properties": {"a": {}}, "required": "a"}, '"required" must be a list'),
        ("f", {"type": "object", "properties": {"a": {}}, "required": ["b"]}, "not in \"properties\": b"),
    ],
)
def test_bad_definitions_say_what_is_wrong(name, schema, message):
    with pytest.raises(ToolError) as caught:
        validate_tool_definition(name, "", schema)
    assert message in str(caught.value)


def test_specs_for_saved_tools_and_unknown_names(store):
    store.save_tool(validate_tool_definition("get_weather", "weather", WEATHER_SCHEMA))
    store.save_tool(validate_tool_definition("get_time", "", {"type": "object"}))
    assert specs_for(store, ["get_weather"]) == [ToolSpec("get_weather", "weather", WEATHER_SCHEMA)]
    with pytest.raises(ToolError) as caught:
        specs_for(store, ["get_weather", "get_wether"])
    assert str(caught.value) == "no tool named 'get_wether' (known: get_time, get_weather)"
