"""The prompt editor: params rules, inline validation, request building, restoring."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Switch, TextArea

from core.request import ChatRequest, ToolSpec
from core.store import Store
from core.store.models import ToolDefinition
from tui.widgets.prompt import PromptEditor, PromptError
from tui.widgets.prompt.draft import DRAFT_FILE, Draft, load_draft, save_draft
from tui.widgets.prompt.params import build_params, parse_extra_json, split_params

# --- the rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"temperature": "0.7"}, {"temperature": 0.7}),
        ({"top_p": "1", "max_tokens": "256", "seed": "-3"}, {"top_p": 1.0, "max_tokens": 256, "seed": -3}),
        ({"stop": "END"}, {"stop": "END"}),
        ({"stop": '["\\n\\n", "###"]'}, {"stop": ["\n\n", "###"]}),
        ({"temperature": "  "}, {}),
    ],
)
def test_fields_become_typed_params(fields: dict[str, str], expected: dict) -> None:
    assert build_params(fields, "") == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"temperature": "hot"}, "temperature must be a number"),
        ({"temperature": "2.5"}, "between 0 and 2"),
        ({"top_p": "-0.1"}, "between 0 and 1"),
        ({"max_tokens": "0"}, "at least 1"),
        ({"max_tokens": "1.5"}, "whole number"),
        ({"stop": '["a", 1]'}, "list of strings"),
        ({"stop": '["a"'}, "invalid JSON list"),
    ],
)
def test_bad_fields_say_what_is_wrong(fields: dict[str, str], message: str) -> None:
    with pytest.raises(PromptError, match=message):
        build_params(fields, "")


def test_extra_json_must_be_an_object_and_not_repeat_a_field() -> None:
    assert parse_extra_json('{"presence_penalty": 0.5}') == {"presence_penalty": 0.5}
    with pytest.raises(PromptError, match="line 1, column"):
        parse_extra_json('{"a": }')
    with pytest.raises(PromptError, match="must be an object"):
        parse_extra_json("[1, 2]")
    with pytest.raises(PromptError, match="both in its field and in the params JSON"):
        build_params({"temperature": "0.1"}, '{"temperature": 0.2}')


def test_split_params_is_the_inverse_of_build_params() -> None:
    params = {"temperature": 0.2, "stop": ["a", "b"], "max_tokens": 10, "response_format": {"type": "json_object"}}
    fields, extra = split_params(params)
    assert build_params(fields, extra) == params


def test_a_damaged_draft_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / DRAFT_FILE
    path.write_text("{not json")
    assert load_draft(path) == Draft()
    save_draft(path, Draft(prompt="kept", fields={"seed": "oops"}))
    assert load_draft(path).fields == {"seed": "oops"}  # invalid text survives as typed


# --- the widget -----------------------------------------------------------------------


class EditorHost(App[None]):
    def __init__(self, store: Store, data_dir: Path | None) -> None:
        super().__init__()
        self.store = store
        self._data_dir = data_dir

    def compose(self) -> ComposeResult:
        yield PromptEditor(self._data_dir, id="editor")


@pytest.fixture
def store_with_tool(store: Store) -> Store:
    store.save_tool(
        ToolDefinition(
            name="get_weather",
            description="Weather for a city",
            parameters={"type": "object", "properties": {"city": {"type": "string"}}},
        )
    )
    return store


async def test_editor_builds_the_request_as_typed(store_with_tool: Store) -> None:
    app = EditorHost(store_with_tool, None)
    async with app.run_test(size=(100, 50)) as pilot:
        editor = app.query_one(PromptEditor)
        app.query_one("#system", TextArea).load_text("Be brief.")
        app.query_one("#prompt", TextArea).load_text("Weather in Paris?")
        editor.action_toggle_params()  # F4 on the main screen
        app.query_one("#param-max_tokens", Input).value = "64"
        app.query_one("#tools").select("get_weather")  # type: ignore[attr-defined]
        app.query_one("#tool-choice").value = "required"  # type: ignore[attr-defined]
        app.query_one("#stream", Switch).value = False
        await pilot.pause()
        request = editor.build_request()
        assert request.system == "Be brief."
        assert request.last_user_text == "Weather in Paris?"
        assert request.params == {"max_tokens": 64}
        assert [tool.name for tool in request.tools] == ["get_weather"]
        assert request.tools[0].parameters["properties"]["city"] == {"type": "string"}
        assert (request.tool_choice, request.stream) == ("required", False)


async def test_invalid_field_is_marked_as_typed_and_build_refuses(store: Store) -> None:
    app = EditorHost(store, None)
    async with app.run_test(size=(100, 50)) as pilot:
        editor = app.query_one(PromptEditor)
        editor.action_toggle_params()  # F4 on the main screen
        await pilot.pause()
        temperature = app.query_one("#param-temperature", Input)
        temperature.focus()
        await pilot.press("9")
        assert temperature.has_class("-invalid")
        assert "between 0 and 2" in str(app.query_one("#param-errors").render())
        assert "invalid" in str(app.query_one("#params").title)
        with pytest.raises(PromptError, match="temperature"):
            editor.build_request()
        await pilot.press("backspace", "1")
        assert not temperature.has_class("-invalid")
        assert editor.build_request().params == {"temperature": 1.0}


async def test_empty_prompt_is_refused(store: Store) -> None:
    app = EditorHost(store, None)
    async with app.run_test() as pilot:
        app.query_one("#prompt", TextArea).load_text("   \n")
        await pilot.pause()
        with pytest.raises(PromptError, match="prompt is empty"):
            app.query_one(PromptEditor).build_request()


async def test_load_request_round_trips_including_a_deleted_tool(store: Store) -> None:
    request = ChatRequest.from_prompt(
        "hi",
        system="sys",
        params={"temperature": 0.5, "stop": ["x"], "logprobs": True},
        tools=[ToolSpec(name="gone_tool", description="no longer stored")],
        tool_choice="gone_tool",
        stream=False,
    )
    app = EditorHost(store, None)
    async with app.run_test(size=(100, 50)) as pilot:
        editor = app.query_one(PromptEditor)
        editor.load_request(request)
        await pilot.pause()
        rebuilt = editor.build_request()
        assert rebuilt.to_dict() == request.to_dict()


async def test_draft_is_saved_on_exit_and_restored(store: Store, tmp_path: Path) -> None:
    app = EditorHost(store, tmp_path)
    async with app.run_test() as pilot:
        app.query_one("#prompt", TextArea).load_text("remember me")
        app.query_one("#param-seed", Input).value = "not a number"
        await pilot.pause()
    assert load_draft(tmp_path / DRAFT_FILE).prompt == "remember me"
    again = EditorHost(store, tmp_path)
    async with again.run_test() as pilot:
        await pilot.pause()
        assert again.query_one("#prompt", TextArea).text == "remember me"
        assert again.query_one("#param-seed", Input).value == "not a number"
        assert again.query_one("#param-seed", Input).has_class("-invalid")
