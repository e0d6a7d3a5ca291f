"""ModelList: the saved model configs, with whether each one's key is set.

An OptionList, so it is one focusable widget that scrolls, wraps in a narrow
column and answers plain-letter keys (nothing here edits text). It owns the
config lifecycle: add and edit through ModelFormScreen, duplicate, delete (after
a confirm), and test connection. The screen hears about it through messages.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import IntegrityError
from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from core.store.db import DuplicateName
from core.store.models import ModelConfig
from tui.widgets.models.confirm_delete import ConfirmDeleteScreen
from tui.widgets.models.connection_test import ConnectionTestScreen
from tui.widgets.models.model_form import ModelFormScreen

# key_status() word → (mark, shown text, style)
KEY_STATUS_LOOK = {
    "set": ("✓", "key set", "$text-success"),
    "missing": ("✗", "key missing", "$text-error"),
    "not needed": ("○", "not needed", "$text-muted"),
}
EMPTY_HINT = "No models yet: press a to add one."
RELOAD_EVERY_S = 3.0  # configs added with `llmwb models add` in a shell show up by themselves
_NOTHING_ANNOUNCED = object()


class ModelList(OptionList):
    """The left pane's list of model configs."""

    DEFAULT_CSS = Path(__file__).with_name("model_list.tcss").read_text()
    HELP_GROUP = "Models"
    BINDINGS = [
        Binding("a", "add", "Add", tooltip="Add a model config"),
        Binding("e", "edit", "Edit", tooltip="Edit the highlighted model config (also Enter)"),
        Binding("c", "duplicate", "Duplicate", tooltip="Copy the highlighted config under a new name"),
        Binding("d,delete", "delete", "Delete", key_display="d", tooltip="Delete the highlighted config (asks first)"),
        Binding("t", "test_connection", "Test", tooltip="Test the connection: list the endpoint's models"),
        # Not in the footer (it is full at 80 columns); F1 lists it.
        Binding(
            "slash", "filter", "Filter", key_display="/", show=False,
            tooltip="Type to filter the list by name (Esc clears)",
        ),
    ]

    class Selected(Message):
        """The highlighted model changed, or the list was (re)loaded. None: the list is empty."""

        def __init__(self, config: ModelConfig | None) -> None:
            super().__init__()
            self.config = config

    class Changed(Message):
        """A config was added, edited, duplicated or deleted (the store has it already)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False)
        self.configs: list[ModelConfig] = []
        self._announced: object = _NOTHING_ANNOUNCED
        self._laid_out_for = 0  # the text width the prompts were last laid out for
        self._stored: list[ModelConfig] = []  # every config; `configs` is the filtered part shown
        self.filter_text = ""
        self._filtering = False  # typed letters go to the filter, not to the bindings

    def on_mount(self) -> None:
        self.border_title = "Models"
        self.reload()
        self.set_interval(RELOAD_EVERY_S, self._pick_up_outside_changes)

    def _pick_up_outside_changes(self) -> None:
        """Reload when the stored configs differ from the shown ones (another process —
        the CLI, a second window — added, edited or deleted one). One small query."""
        if not self.screen.is_current:
            return
        try:
            stored = self.app.store.list_configs()
        except Exception:  # a busy or vanished database: try again at the next tick
            return
        if [_signature(c) for c in stored] != [_signature(c) for c in self._stored]:
            self.reload()
            self.post_message(self.Changed())

    # --- filter -------------------------------------------------------------------

    def action_filter(self) -> None:
        self._filtering = True
        self._show_filter()

    def _show_filter(self) -> None:
        if self._filtering or self.filter_text:
            shown = f"{len(self.configs)} of {len(self._stored)}"
            self.border_subtitle = f"/{self.filter_text}{'▏' if self._filtering else ''} · {shown}"
        else:
            self.border_subtitle = ""

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.reload()

    def on_key(self, event: events.Key) -> None:
        if not self._filtering and not (self.filter_text and event.key == "escape"):
            return
        event.stop()
        event.prevent_default()
        if event.key == "escape":
            self._filtering = False
            self.set_filter("")
        elif event.key in ("enter", "tab", "down", "up"):
            self._filtering = False
            self._show_filter()
            if event.key in ("down", "up"):
                self.action_cursor_down() if event.key == "down" else self.action_cursor_up()
        elif event.key == "backspace":
            self.set_filter(self.filter_text[:-1])
        elif event.is_printable and event.character:
            self.set_filter(self.filter_text + event.character)

    def action_reload(self) -> None:
        """Re-read the configs now (the palette's "Reload model configs")."""
        self.reload()
        self.post_message(self.Changed())
        self.notify(f"{len(self.configs)} model configs loaded")

    @property
    def selected_config(self) -> ModelConfig | None:
        index = self.highlighted
        return self.configs[index] if index is not None and index < len(self.configs) else None

    def reload(self, select: str | None = None) -> None:
        """Re-read the configs from the store; highlight `select`, else keep the current
        one, else its neighbour (after a delete). Posts Selected."""
        current = self.selected_config
        wanted = select or (current.name if current else None)
        previous_index = self.highlighted or 0
        try:
            self._stored = self.app.store.list_configs()
        except Exception as error:  # keep showing what we had rather than end the app
            self.notify(f"Could not read the model configs: {type(error).__name__}: {error}", severity="error")
            return
        needle = self.filter_text.lower()
        self.configs = [c for c in self._stored if fuzzy_match(needle, c.name.lower())]
        self._show_filter()
        if not self.configs:
            hint = f"No model matches “{self.filter_text}”: Esc clears the filter." if self._stored else EMPTY_HINT
            self.set_options([Option(hint, disabled=True)])
        else:
            self._laid_out_for = self._text_width()
            self.set_options([Option(describe(config, self._laid_out_for)) for config in self.configs])
            names = [config.name for config in self.configs]
            self.highlighted = names.index(wanted) if wanted in names else min(previous_index, len(names) - 1)
        self._announce()

    def on_resize(self) -> None:
        width = self._text_width()
        if width != self._laid_out_for and self.configs:
            self._laid_out_for = width
            for index, config in enumerate(self.configs):
                self.replace_option_prompt_at_index(index, describe(config, width))

    def _text_width(self) -> int:
        return self.scrollable_content_region.width - self.get_component_styles("option-list--option").padding.width

    def _announce(self) -> None:
        config = self.selected_config
        if config is not self._announced:
            self._announced = config
            self.post_message(self.Selected(config))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()  # the screen listens for ModelList.Selected, not the OptionList internals
        self._announce()

    async def _on_click(self, event: events.Click) -> None:
        """A click selects the model (the next run uses it); a double click, Enter or `e` edits it.
        OptionList's own click would "select" the option, which here opens the form."""
        event.stop()
        event.prevent_default()  # not OptionList._on_click, which would open the form
        clicked: int | None = event.style.meta.get("option")
        if clicked is None or self._options[clicked].disabled:
            return
        self.highlighted = clicked
        if event.chain >= 2:
            self.action_edit()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_edit()

    # --- actions ------------------------------------------------------------------

    def _names(self) -> set[str]:
        return {config.name for config in self.configs}

    def action_add(self) -> None:
        self.app.push_screen(ModelFormScreen(None, self._names()), self._save)

    def action_edit(self) -> None:
        config = self._require_selection("edit")
        if config:
            self.app.push_screen(ModelFormScreen(config, self._names()), self._save)

    def action_duplicate(self) -> None:
        config = self._require_selection("duplicate")
        if config:
            copy = ModelConfig(**config.model_dump(exclude={"id", "created_at", "name", "params"}))
            copy.name = unique_copy_name(config.name, self._names())
            copy.params = dict(config.params)
            if self._save(copy):
                self.notify(f"Duplicated as {copy.name}: press e to edit it.")

    def action_delete(self) -> None:
        config = self._require_selection("delete")
        if config:
            self.app.push_screen(ConfirmDeleteScreen(config.name), lambda confirmed: self._delete(config, confirmed))

    def action_test_connection(self) -> None:
        config = self._require_selection("test")
        if config:
            self.app.push_screen(ConnectionTestScreen(config))

    # --- store --------------------------------------------------------------------

    def _save(self, config: ModelConfig | None) -> bool:
        if config is None:
            return False
        try:
            saved = self.app.store.save_config(config)
        except (IntegrityError, DuplicateName):  # the CLI (or another window) took the name meanwhile
            self.notify(f"Not saved: a model named {config.name!r} already exists.", severity="error")
            return False
        except Exception as error:  # the file is gone, read-only, locked too long…: say so, keep the app
            self.notify(f"Could not save {config.name}: {type(error).__name__}: {error}", severity="error")
            return False
        self.reload(select=saved.name)
        self.post_message(self.Changed())
        return True

    def _delete(self, config: ModelConfig, confirmed: bool | None) -> None:
        if not confirmed:
            return
        try:
            self.app.store.remove_config(config.name)
        except Exception as error:
            self.notify(f"Could not delete {config.name}: {type(error).__name__}: {error}", severity="error")
            return
        self.reload()
        self.post_message(self.Changed())
        self.notify(f"Deleted {config.name}.")

    def _require_selection(self, verb: str) -> ModelConfig | None:
        config = self.selected_config
        if config is None:
            self.notify(f"No model to {verb}: press a to add one.", severity="warning")
        return config


def fuzzy_match(needle: str, haystack: str) -> bool:
    """Every character of `needle` in `haystack`, in order ("dcl" finds "demo-claude")."""
    position = 0
    for character in needle:
        position = haystack.find(character, position) + 1
        if not position:
            return False
    return True


def _signature(config: ModelConfig) -> list[tuple[str, str]]:
    """Everything a config shows or runs with, comparable."""
    return sorted((key, repr(value)) for key, value in config.model_dump(exclude={"created_at"}).items())


def unique_copy_name(name: str, taken: set[str]) -> str:
    """`name-copy`, then `name-copy-2`, `name-copy-3`… whichever is free first."""
    candidate = f"{name}-copy"
    number = 2
    while candidate in taken:
        candidate = f"{name}-copy-{number}"
        number += 1
    return candidate


def describe(config: ModelConfig, width: int) -> Content:
    """Name, then provider and key status: on one line when `width` allows, else on two,
    so a narrow pane breaks between them rather than inside "not needed"."""
    mark, text, style = KEY_STATUS_LOOK[config.key_status()]
    status = f"{mark} {text}"
    gap = " " if len(config.provider) + 1 + len(status) <= width else "\n"
    return Content.assemble((config.name, "bold"), "\n", (config.provider, "$text-muted"), gap, (status, style))
