"""`llmwb tools add/list/show/remove` as a user types them."""

from __future__ import annotations

import json

from tool_support import WEATHER_SCHEMA

from tui.cli import EXIT_OK, EXIT_USAGE, main


def _user_tools(capsys) -> list[dict]:
    """`tools list --json` without the demo tool a fresh database is seeded with."""
    assert main(["tools", "list", "--json"]) == EXIT_OK
    return [t for t in json.loads(capsys.readouterr().out) if t["name"] != "get_weather"]


def test_add_list_show_remove(tmp_path, capsys):
    schema = tmp_path / "weather.json"
    schema.write_text(json.dumps(WEATHER_SCHEMA))
    assert main(["tools", "add", "city_weather", "--schema", str(schema), "--description", "Weather", "--result", "sunny"]) == EXIT_OK
    assert capsys.readouterr().out == "added tool city_weather (city, unit)\n"

    assert main(["tools", "list"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "ARGUMENTS", "CANNED", "RESULT", "DESCRIPTION"]
    assert lines[1].split() == ["city_weather", "city,", "unit", "yes", "Weather"]

    assert _user_tools(capsys) == [
        {"name": "city_weather", "description": "Weather", "parameters": WEATHER_SCHEMA, "result": "sunny"}
    ]

    assert main(["tools", "show", "city_weather"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == WEATHER_SCHEMA

    assert main(["tools", "remove", "city_weather"]) == EXIT_OK
    assert capsys.readouterr().out == "removed city_weather\n"
    assert _user_tools(capsys) == []


def test_bad_input_is_a_usage_error_and_saves_nothing(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "object",\n "properties": {"a": }}')
    assert main(["tools", "add", "f", "--schema", str(broken)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == f"llmwb tools: {broken}: parameters are not valid JSON: Expecting value at line 2, column 22\n"

    not_object = tmp_path / "s.json"
    not_object.write_text('{"type": "string"}')
    assert main(["tools", "add", "f", "--schema", str(not_object)]) == EXIT_USAGE
    assert 'must be an object schema ("type": "object")' in capsys.readouterr().err

    assert main(["tools", "add", "f", "--schema", str(tmp_path / "missing.json")]) == EXIT_USAGE
    assert "cannot read" in capsys.readouterr().err
    assert main(["tools", "remove", "f"]) == EXIT_USAGE
    assert main(["tools", "show", "f"]) == EXIT_USAGE
    assert "no tool named 'f'" in capsys.readouterr().err
    assert _user_tools(capsys) == []


def test_adding_an_existing_name_needs_replace(tmp_path, capsys):
    schema = tmp_path / "s.json"
    schema.write_text('{"type": "object"}')
    assert main(["tools", "add", "f", "--schema", str(schema)]) == EXIT_OK
    assert main(["tools", "add", "f", "--schema", str(schema)]) == EXIT_USAGE
    assert "already exists (use --replace" in capsys.readouterr().err
    schema.write_text(json.dumps(WEATHER_SCHEMA))
    assert main(["tools", "add", "f", "--schema", str(schema), "--replace"]) == EXIT_OK
    assert "replaced tool f (city, unit)" in capsys.readouterr().out
    assert main(["tools", "show", "f"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == WEATHER_SCHEMA
