"""The models pane: list, add/edit/duplicate/delete through the form, test connection."""

from __future__ import annotations

import socket

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.pilot import Pilot
from textual.widgets import Button, Footer, Input, OptionList, Select, Static, TextArea

from core.store import Store
from core.store.models import ModelConfig
from tui.widgets.models import ModelList
from tui.widgets.models import fields
from tui.widgets.models.confirm_delete import ConfirmDeleteScreen
from tui.widgets.models.connection_test import ConnectionTestScreen
from tui.widgets.models.model_form import ModelFormScreen
from tui.widgets.models.model_list import unique_copy_name


class ModelsHost(App[None]):
    """The models pane alone, in a left column as narrow as the main screen's at 80×24."""

    CSS = "ModelList { width: 28; }"

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.selected: list[str | None] = []
        self.changes = 0

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield ModelList()
            yield Static("prompt and output live here", id="rest")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ModelList).focus()

    def on_model_list_selected(self, message: ModelList.Selected) -> None:
        self.selected.append(message.config.name if message.config else None)

    def on_model_list_changed(self, _message: ModelList.Changed) -> None:
        self.changes += 1


def add_config(store: Store, name: str, provider: str = "simulator", **extra) -> ModelConfig:  # type: ignore[no-untyped-def]
    return store.save_config(ModelConfig(name=name, provider=provider, model=extra.pop("model", name), **extra))


@pytest.fixture
def three_models(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """One config per key status: set, missing, not needed."""
    monkeypatch.setenv("LLMWB_TEST_SET_KEY", "sk-secret-value")
    monkeypatch.delenv("LLMWB_TEST_MISSING_KEY", raising=False)
    add_config(store, "claude", "anthropic", model="claude-sonnet-4-5", api_key_env="LLMWB_TEST_MISSING_KEY")
    add_config(store, "demo-fast", price_input=0.15, price_output=0.6)
    add_config(store, "gpt", "openai", model="gpt-4o-mini", api_key_env="LLMWB_TEST_SET_KEY")
    return store


def option_texts(widget: OptionList) -> list[str]:
    return [str(widget.get_option_at_index(i).prompt) for i in range(widget.option_count)]


def form_input(app: App, field_id: str) -> Input:
    return app.screen.query_one(f"#{field_id}", Input)


def error_text(app: App, field_id: str) -> str:
    line = app.screen.query_one(f"#{field_id}-error", Static)
    return str(line.render()) if line.display else ""


async def type_into(pilot: Pilot, field: Input, text: str) -> None:
    """Type `text` key by key into an emptied field (slow: keep it short; set `value` for the rest)."""
    field.focus()
    field.value = ""
    await pilot.press(*text)
    await pilot.pause()


# --- the list -------------------------------------------------------------------------


async def test_list_shows_name_provider_and_key_status_without_the_key(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        texts = option_texts(app.query_one(ModelList))
        assert texts == [
            "claude\nanthropic ✗ key missing",
            "demo-fast\nsimulator ○ not needed",
            "gpt\nopenai ✓ key set",
        ]
        assert "sk-secret-value" not in app.export_screenshot()


async def test_selected_is_posted_after_load_and_on_each_highlight_change(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.selected == ["claude"]
        await pilot.press("down")
        await pilot.pause()
        assert app.selected == ["claude", "demo-fast"]
        assert app.query_one(ModelList).selected_config.name == "demo-fast"


async def test_empty_store_says_how_to_add_and_selects_nothing(store: Store) -> None:
    app = ModelsHost(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        models = app.query_one(ModelList)
        assert option_texts(models) == ["No models yet: press a to add one."]
        assert models.selected_config is None
        assert app.selected == [None]
        await pilot.press("e")  # nothing to edit: a warning, no form
        await pilot.pause()
        assert not isinstance(app.screen, ModelFormScreen)


# --- add / edit / duplicate / delete ----------------------------------------------------


async def test_add_refuses_a_taken_name_then_saves_once_fixed(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ModelFormScreen)
        form_input(app, "model").value = "gpt-4.1-mini"
        await type_into(pilot, form_input(app, "name"), "gpt")
        assert error_text(app, "name") == "a model named 'gpt' already exists"
        assert app.screen.query_one("#save", Button).disabled

        await pilot.press("ctrl+s")  # refused: the form stays, the store is unchanged
        await pilot.pause()
        assert isinstance(app.screen, ModelFormScreen)
        assert app.screen.focused is form_input(app, "name")
        assert three_models.get_config("gpt").model == "gpt-4o-mini"

        form_input(app, "name").value = "gpt-mini"
        form_input(app, "price-output").value = "1.6"
        await pilot.pause()
        assert error_text(app, "name") == ""
        assert not app.screen.query_one("#save", Button).disabled
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert not isinstance(app.screen, ModelFormScreen)
        saved = three_models.get_config("gpt-mini")
        assert (saved.provider, saved.model, saved.price_output, saved.base_url) == ("openai", "gpt-4.1-mini", 1.6, None)
        models = app.query_one(ModelList)
        assert models.selected_config.name == "gpt-mini"
        assert "gpt-mini\nopenai ✗ key missing" in option_texts(models)
        assert app.changes == 1
        assert app.selected[-1] == "gpt-mini"


async def test_a_name_taken_elsewhere_while_the_form_is_open_keeps_the_form(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form_input(app, "name").value = "racer"
        form_input(app, "model").value = "gpt-4o"
        add_config(three_models, "racer", model="demo-fast")  # as `llmwb models add` would, meanwhile
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ModelFormScreen)
        assert error_text(app, "name") == "a model named 'racer' already exists"
        assert form_input(app, "model").value == "gpt-4o"
        assert three_models.get_config("racer").model == "demo-fast"


async def test_escape_cancels_the_form_without_saving(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form_input(app, "name").value = "never-saved"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ModelFormScreen)
        assert three_models.get_config("never-saved") is None
        assert app.changes == 0


async def test_edit_renames_and_changes_a_price_in_place(three_models: Store) -> None:
    original = three_models.get_config("demo-fast")
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ModelFormScreen)
        assert form_input(app, "name").value == "demo-fast"
        assert form_input(app, "price-input").value == "0.15"
        assert error_text(app, "name") == ""  # its own name is not a clash
        await type_into(pilot, form_input(app, "name"), "fast")
        await type_into(pilot, form_input(app, "price-input"), "0.2")
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert three_models.get_config("demo-fast") is None
        renamed = three_models.get_config("fast")
        assert renamed.id == original.id
        assert (renamed.price_input, renamed.price_output, renamed.model) == (0.2, 0.6, "demo-fast")
        assert app.query_one(ModelList).selected_config.name == "fast"
        assert app.changes == 1


async def test_enter_on_a_model_opens_its_form(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ModelFormScreen)
        assert app.screen.existing.name == "claude"


async def test_duplicate_gets_a_free_copy_name_and_the_same_settings(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "c")
        await pilot.pause()
        models = app.query_one(ModelList)
        assert models.selected_config.name == "demo-fast-copy"
        await pilot.press("up", "c")  # the copy of the original again: the next free name
        await pilot.pause()
        copy = three_models.get_config("demo-fast-copy-2")
        original = three_models.get_config("demo-fast")
        assert copy is not None and copy.id != original.id
        assert (copy.provider, copy.model, copy.price_input, copy.price_output) == ("simulator", "demo-fast", 0.15, 0.6)
        assert app.changes == 2


async def test_delete_asks_first_and_selects_the_neighbour(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDeleteScreen)
        await pilot.press("enter")  # Cancel has the focus: a stray Enter deletes nothing
        await pilot.pause()
        assert three_models.get_config("demo-fast") is not None

        await pilot.press("d", "y")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDeleteScreen)
        assert three_models.get_config("demo-fast") is None
        models = app.query_one(ModelList)
        assert [c.name for c in models.configs] == ["claude", "gpt"]
        assert models.selected_config.name == "gpt"
        assert app.selected[-1] == "gpt"
        assert app.changes == 1


# --- the form's validation ---------------------------------------------------------------


async def test_form_flags_each_bad_field_under_it(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMWB_TEST_SET_KEY", "sk-secret-value")
    app = ModelsHost(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form_input(app, "name").value = "x"
        form_input(app, "model").value = "m"
        form_input(app, "base-url").value = "localhost:11434/v1"
        form_input(app, "api-key-env").value = "sk-abc123"
        form_input(app, "price-input").value = "-1"
        form_input(app, "price-cached-input").value = "cheap"
        form_input(app, "timeout").value = "0"
        app.screen.query_one("#params", TextArea).text = '["temperature", 0.2]'
        await pilot.pause()
        assert error_text(app, "base-url") == "must start with http:// or https://"
        assert error_text(app, "api-key-env").startswith("a variable NAME such as OPENAI_API_KEY")
        assert error_text(app, "price-input") == "cannot be negative"
        assert error_text(app, "price-cached-input") == "a number of USD per million tokens, e.g. 0.15"
        assert error_text(app, "timeout") == "must be more than 0 seconds"
        assert error_text(app, "params") == 'must be a JSON object like {"temperature": 0.2}, not a list'
        assert app.screen.query_one("#save", Button).disabled

        form_input(app, "base-url").value = "http://localhost:11434/v1"
        form_input(app, "api-key-env").value = "LLMWB_TEST_SET_KEY"
        form_input(app, "price-input").value = "0"
        form_input(app, "price-cached-input").value = ""
        form_input(app, "timeout").value = "30"
        app.screen.query_one("#params", TextArea).text = '{"temperature": 0.2}'
        await pilot.pause()
        assert app.screen.errors == {}
        assert str(app.screen.query_one("#key-status", Static).render()) == "✓ LLMWB_TEST_SET_KEY is set in this environment"
        assert "sk-secret-value" not in app.export_screenshot()
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = store.get_config("x")
        assert (saved.base_url, saved.api_key_env, saved.timeout, saved.params) == (
            "http://localhost:11434/v1", "LLMWB_TEST_SET_KEY", 30.0, {"temperature": 0.2},
        )  # fmt: skip
        assert saved.price_cached_input is None


async def test_choosing_a_local_kind_shows_its_default_url(store: Store) -> None:
    app = ModelsHost(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#provider", Select).value = "ollama"
        await pilot.pause()
        base_url = form_input(app, "base-url")
        assert base_url.placeholder == "http://localhost:11434/v1"
        assert base_url.value == ""  # a placeholder: empty keeps following the default
        assert str(app.screen.query_one("#key-status", Static).render()) == "no key needed for ollama"


async def test_a_new_config_names_the_usual_key_variable(store: Store) -> None:
    app = ModelsHost(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        key = form_input(app, "api-key-env")
        assert key.value == "OPENAI_API_KEY"  # openai is the first kind
        app.screen.query_one("#provider", Select).value = "anthropic"
        await pilot.pause()
        assert key.value == "ANTHROPIC_API_KEY"
        app.screen.query_one("#provider", Select).value = "openai-compatible"
        await pilot.pause()
        assert key.value == ""  # no usual name: the user types the provider's own
        key.value = "DEEPSEEK_API_KEY"
        app.screen.query_one("#provider", Select).value = "openai"
        await pilot.pause()
        assert key.value == "DEEPSEEK_API_KEY"  # what the user typed stays


async def test_a_provider_kind_this_version_does_not_know_is_flagged_not_lost(store: Store) -> None:
    add_config(store, "future", "future-kind", model="m")
    app = ModelsHost(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#provider", Select).value == "future-kind"
        assert error_text(app, "provider").startswith("unknown provider kind (known: openai, ")
        assert app.screen.query_one("#save", Button).disabled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://api.deepseek.com/v1", None),
        ("http://127.0.0.1:8080", None),
        ("http://[::1]:1234/v1", None),
        ("ftp://example.com", "must start with http:// or https://"),
        ("http://", "missing host: http(s)://host[:port][/path]"),
        ("http://host:99999/v1", "the port must be a number from 1 to 65535"),
        ("https://user:sk-123@host/v1", "no credentials in the URL: name the key's environment variable instead"),
        ("http://host/v1?key=1", "no ?query or #fragment: http(s)://host[:port][/path]"),
        ("http://my host/v1", "a URL has no spaces"),
    ],
)
def test_base_url_shapes(text: str, message: str | None) -> None:
    assert fields.base_url_error(text, "openai") == message


def test_params_must_be_a_json_object() -> None:
    assert fields.params_error("") is None
    assert fields.params_error('{"max_tokens": 64}') is None
    assert fields.params_error('{"max_tokens": }') == "not valid JSON: Expecting value (line 1, column 16)"
    assert fields.params_error("3") == 'must be a JSON object like {"temperature": 0.2}, not a number'


def test_copy_names_count_up() -> None:
    assert unique_copy_name("gpt", {"gpt"}) == "gpt-copy"
    assert unique_copy_name("gpt", {"gpt", "gpt-copy", "gpt-copy-2"}) == "gpt-copy-3"


# --- test connection ----------------------------------------------------------------------


async def test_test_connection_lists_the_simulators_scenarios(store: Store, simulator) -> None:
    add_config(store, "sim", model="demo-fast", base_url=simulator.root_url + "/v1")
    app = ModelsHost(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConnectionTestScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        listed = option_texts(screen.query_one("#discovered-models", OptionList))
        assert {"demo-fast", "demo-claude", "fault-429"} <= set(listed)
        status = str(screen.query_one("#connection-status", Static).render())
        assert status.startswith("✓ Connected (answered in ") and f"): {len(listed)} models." in status
        assert "“demo-fast” is served" in status
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen.focused, ModelList)


async def test_test_connection_to_a_closed_port_shows_the_connection_error(store: Store) -> None:
    # Bound, never listening: refused, and no other process can take the port meanwhile.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        add_config(store, "local", "llamacpp", model="qwen", base_url=f"http://127.0.0.1:{port}/v1")
        app = ModelsHost(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("t")
            await pilot.pause()
            screen = app.screen
            await screen.workers.wait_for_complete()
            await pilot.pause()
            status = str(screen.query_one("#connection-status", Static).render())
            assert status.startswith(f"✗ cannot connect to http://127.0.0.1:{port}/v1/models: ")
            assert not screen.query_one("#discovered-models", OptionList).display


async def test_form_lists_models_and_picks_one_into_the_model_field(store: Store, simulator) -> None:
    app = ModelsHost(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        form.query_one("#provider", Select).value = "simulator"
        form_input(app, "base-url").value = simulator.root_url + "/v1"
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ConnectionTestScreen)
        await picker.workers.wait_for_complete()
        await pilot.pause()
        options = picker.query_one("#discovered-models", OptionList)
        options.highlighted = option_texts(options).index("demo-tools")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert form_input(app, "model").value == "demo-tools"


# --- snapshots ------------------------------------------------------------------------------


def test_snapshot_model_list(three_models: Store, snap_compare) -> None:
    assert snap_compare(ModelsHost(three_models), terminal_size=(80, 24))


def test_snapshot_model_form_with_a_name_clash(three_models: Store, snap_compare) -> None:
    async def rename_to_a_taken_name(pilot: Pilot) -> None:
        await pilot.pause()
        await pilot.press("down", "e")
        await pilot.pause()
        name = form_input(pilot.app, "name")
        name.value = "gpt"
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor would make the picture flaky
        await pilot.pause()

    assert snap_compare(ModelsHost(three_models), terminal_size=(80, 24), run_before=rename_to_a_taken_name)


async def test_test_connection_says_when_the_model_id_is_not_served(store: Store, simulator) -> None:
    add_config(store, "typo", model="demo-fsat", base_url=simulator.root_url + "/v1")
    app = ModelsHost(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConnectionTestScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert "“demo-fsat” is not in the list" in str(screen.query_one("#connection-status", Static).render())


async def test_a_click_selects_and_a_double_click_edits(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        models = app.query_one(ModelList)
        assert models.selected_config is not None and models.selected_config.name == "claude"
        await pilot.click(ModelList, offset=(3, 3))  # the second model's name line
        await pilot.pause()
        assert models.selected_config.name == "demo-fast"
        assert not isinstance(app.screen, ModelFormScreen)  # selected, not opened
        await pilot.double_click(ModelList, offset=(3, 3))
        await pilot.pause()
        assert isinstance(app.screen, ModelFormScreen)


async def test_slash_filters_the_list_fuzzily(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        models = app.query_one(ModelList)
        await pilot.press("slash", *"dft")  # letters filter: not d (delete) nor t (test)
        assert [c.name for c in models.configs] == ["demo-fast"]
        assert "1 of 3" in models.border_subtitle
        await pilot.press("escape")
        assert [c.name for c in models.configs] == ["claude", "demo-fast", "gpt"]


async def test_configs_added_from_a_shell_appear_by_themselves(three_models: Store) -> None:
    app = ModelsHost(three_models)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        models = app.query_one(ModelList)
        other_process = Store(three_models.path)  # as `llmwb models add` would, on its own connection
        add_config(other_process, "added-in-shell")
        models._pick_up_outside_changes()  # what the low-frequency timer calls
        await pilot.pause()
        assert "added-in-shell" in [c.name for c in models.configs]
        assert app.changes == 1  # the screen hears of it (the key variable joins the log redaction)
