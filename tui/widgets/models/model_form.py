"""ModelFormScreen: add or edit a model config, validated as the user types.

The form never asks for a key: it takes the *name* of the environment variable
holding it, and says whether that variable is set here. Save stays disabled
while any field is invalid; ctrl+s on an invalid form says why and moves to the
first bad field instead of saving.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Select, Static, TextArea

from core.store.models import LOCAL_BASE_URLS, PROVIDER_KINDS, ModelConfig
from tui.widgets.models import fields
from tui.widgets.models.connection_test import ConnectionTestScreen

# What an empty base URL means, per provider kind (shown as the placeholder).
DEFAULT_URL_HINTS = {
    "openai": "https://api.openai.com/v1",
    "openai-compatible": "https://host[:port]/v1",
    "openai-responses": "https://api.openai.com/v1 (or any server's /v1 with /responses)",
    "anthropic": "https://api.anthropic.com",
    "simulator": "empty: the built-in simulator",
    **LOCAL_BASE_URLS,
}
KEY_VARIABLE_HINTS = {"openai": "OPENAI_API_KEY", "openai-responses": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
KEY_NOTE = "llmwb never asks for, stores or shows a key: only this name is saved."


class ModelFormScreen(ModalScreen[ModelConfig | None]):
    """Dismisses with the config to save (not yet saved: the caller owns the store), or None."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+t", "list_models", "List models", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, existing: ModelConfig | None, taken_names: set[str]) -> None:
        super().__init__()
        self.existing = existing
        # Renaming a config to its own name is no clash.
        self.taken_names = set(taken_names) - ({existing.name} if existing else set())
        self.errors: dict[str, str] = {}

    # --- layout ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        config = self.existing or ModelConfig(name="", provider="openai", model="")
        # Content, not a str: a name with [brackets] is text, not markup.
        title = Content(f"Edit model: {config.name}" if self.existing else "Add model")
        with Vertical(id="model-form", classes="models-dialog") as dialog:
            dialog.border_title = title
            with VerticalScroll(id="form-fields"):
                with Horizontal(classes="form-row"):
                    yield _field(Input(config.name, id="name", placeholder="e.g. gpt-4o-mini"), "Name")
                    # A kind this version does not know (a newer llmwb wrote the row) is shown and flagged, not lost.
                    kinds = PROVIDER_KINDS if config.provider in PROVIDER_KINDS else (*PROVIDER_KINDS, config.provider)
                    provider = Select([(kind, kind) for kind in kinds], value=config.provider, allow_blank=False, id="provider")
                    yield _field(provider, "Provider")
                yield _field(Input(config.model, id="model"), "Model id")
                yield _field(Input(config.base_url or "", id="base-url"), "Base URL")
                yield _field(Input(config.api_key_env or "", id="api-key-env"), "API key environment variable")
                yield Static("", id="key-status", markup=False)
                yield Static(KEY_NOTE, classes="dialog-hint")
                with Horizontal(classes="form-row"):
                    yield _field(Input(fields.format_number(config.price_input), id="price-input", placeholder="0"), "Input $/M")
                    yield _field(
                        Input(fields.format_number(config.price_cached_input), id="price-cached-input", placeholder="= input"),
                        "Cached $/M",
                    )
                    yield _field(Input(fields.format_number(config.price_output), id="price-output", placeholder="0"), "Output $/M")
                    yield _field(Input(fields.format_number(config.timeout), id="timeout", placeholder="default"), "Timeout s")
                params = TextArea(fields.format_params(config.params), id="params", soft_wrap=True, tab_behavior="focus")
                params.placeholder = '{"temperature": 0.2}'
                yield _field(params, "Default params (JSON object)")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._provider_changed()
        self.query_one("#name", Input).focus()

    # --- validation -------------------------------------------------------------

    @property
    def provider(self) -> str:
        return str(self.query_one("#provider", Select).value)

    def _text(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def _params_text(self) -> str:
        return self.query_one("#params", TextArea).text

    def validate(self) -> dict[str, str]:
        """Check every field; show each message under its field. Returns {field id: message}."""
        checks = {
            "name": fields.name_error(self._text("name"), self.taken_names),
            "provider": fields.provider_error(self.provider),
            "model": fields.model_id_error(self._text("model")),
            "base-url": fields.base_url_error(self._text("base-url"), self.provider),
            "api-key-env": fields.env_name_error(self._text("api-key-env")),
            "price-input": fields.price_error(self._text("price-input")),
            "price-cached-input": fields.price_error(self._text("price-cached-input")),
            "price-output": fields.price_error(self._text("price-output")),
            "timeout": fields.timeout_error(self._text("timeout")),
            "params": fields.params_error(self._params_text()),
        }
        self.errors = {field_id: message for field_id, message in checks.items() if message}
        for field_id, message in checks.items():
            self.query_one(f"#{field_id}").set_class(bool(message), "-invalid")
            error_line = self.query_one(f"#{field_id}-error", Static)
            error_line.update(message or "")
            error_line.display = bool(message)
        key_text, key_kind = fields.key_hint(self._text("api-key-env"), self.provider, os.environ)
        key_status = self.query_one("#key-status", Static)
        key_status.update(key_text)
        key_status.set_classes(f"-{key_kind}")
        self.query_one("#save", Button).disabled = bool(self.errors)
        return self.errors

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _field_changed(self) -> None:
        self.validate()

    @on(Select.Changed, "#provider")
    def _provider_changed(self) -> None:
        provider = self.provider
        self.query_one("#base-url", Input).placeholder = DEFAULT_URL_HINTS.get(provider, "")
        key = self.query_one("#api-key-env", Input)
        key.placeholder = KEY_VARIABLE_HINTS.get(provider, "e.g. DEEPSEEK_API_KEY")
        if self.existing is None and key.value in ("", *KEY_VARIABLE_HINTS.values()):
            # A new OpenAI or Anthropic config names the usual variable (a placeholder alone
            # would save no key at all); other kinds start empty again.
            key.value = KEY_VARIABLE_HINTS.get(provider, "")
        self.query_one("#model", Input).placeholder = "a scenario name, e.g. demo-fast" if provider == "simulator" else "e.g. gpt-4o-mini"
        self.validate()

    # --- actions ----------------------------------------------------------------

    def build_config(self) -> ModelConfig:
        """The config the fields describe; call only when `validate()` found nothing."""
        kept = {}
        if self.existing:
            # Same id and creation time: the store updates the row (a rename included).
            kept = {"id": self.existing.id, "created_at": self.existing.created_at}
        return ModelConfig(
            **kept,
            name=self._text("name").strip(),
            provider=self.provider,
            model=self._text("model").strip(),
            base_url=self._text("base-url").strip() or None,
            api_key_env=self._text("api-key-env").strip() or None,
            params=fields.parse_params(self._params_text()),
            price_input=fields.parse_number(self._text("price-input")) or 0.0,
            price_cached_input=fields.parse_number(self._text("price-cached-input")),
            price_output=fields.parse_number(self._text("price-output")) or 0.0,
            timeout=fields.parse_number(self._text("timeout")),
        )

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self._learn_names_taken_meanwhile()
        errors = self.validate()
        if errors:
            first = next(iter(errors))
            self.notify(f"Not saved: {len(errors)} field(s) need fixing.", severity="warning")
            self.query_one(f"#{first}").focus()
            return
        self.dismiss(self.build_config())

    def _learn_names_taken_meanwhile(self) -> None:
        """The CLI or another window may have taken the name since the form opened: catch
        it here, with the form still open, rather than lose what was typed to a failed save."""
        name = self._text("name").strip()
        other = self.app.store.get_config(name) if name else None
        if other is not None and (self.existing is None or other.id != self.existing.id):
            self.taken_names.add(name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_list_models(self) -> None:
        """Test the connection with what the form says now, and offer the listed ids."""
        blocking = {"base-url", "api-key-env", "timeout"} & set(self.validate())
        if blocking:
            self.notify("Fix the base URL, key variable and timeout first.", severity="warning")
            return
        probe = ModelConfig(
            name=self._text("name").strip() or "this model",
            provider=self.provider,
            model=self._text("model").strip(),
            base_url=self._text("base-url").strip() or None,
            api_key_env=self._text("api-key-env").strip() or None,
            timeout=fields.parse_number(self._text("timeout")),
        )
        self.app.push_screen(ConnectionTestScreen(probe, pick=True), self._model_picked)

    def _model_picked(self, model_id: str | None) -> None:
        if model_id:
            model = self.query_one("#model", Input)
            model.value = model_id
            model.focus()


def _field(widget: Widget, title: str) -> Vertical:
    """A titled input with its error line under it (hidden while the value is fine)."""
    widget.border_title = title
    error_line = Static("", id=f"{widget.id}-error", classes="field-error", markup=False)
    return Vertical(widget, error_line, id=f"{widget.id}-field", classes="form-field")
