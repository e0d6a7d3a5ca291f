"""PromptEditor: system and user prompt, params, tools, stream switch.

The params section folds away so the prompt keeps its room on a small terminal;
its title summarises what is set, so nothing hides behind the fold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Collapsible, Input, Label, Select, SelectionList, Static, Switch, TextArea

from core.request import ChatRequest, ToolSpec
from tui.widgets.prompt.draft import DRAFT_FILE, Draft, load_draft, save_draft
from tui.widgets.prompt.params import (
    PARAM_FIELDS,
    PromptError,
    build_params,
    parse_extra_json,
    parse_field,
    split_params,
)
from tui.widgets.tick_list import TickList

TOOL_CHOICES = ("auto", "none", "required")


class PromptEditor(Vertical):
    """Builds the ChatRequest a run sends. Persists what is typed to `data_dir/last_prompt.json`
    (when a run starts and on exit) when given a data dir."""

    DEFAULT_CSS = Path(__file__).with_name("prompt.tcss").read_text()
    SCOPED_CSS = False  # its rules also key on the screen's size classes (.-short, .-narrow)

    def __init__(self, data_dir: Path | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._draft_path = data_dir / DRAFT_FILE if data_dir else None
        # Direct references: the draft is saved on unmount, after the DOM is torn down.
        self._system = TextArea(id="system", soft_wrap=True, tab_behavior="focus", placeholder="optional")
        self._prompt = TextArea(id="prompt", soft_wrap=True, tab_behavior="focus", placeholder="type a prompt")
        self._stream = Switch(value=True, id="stream")
        self._fields = {f.name: Input(placeholder=f.hint, id=f"param-{f.name}") for f in PARAM_FIELDS}
        self._extra = TextArea(id="extra-json", soft_wrap=True, tab_behavior="focus", placeholder='{"presence_penalty": 0.5}')
        self._tools: SelectionList[str] = TickList(id="tools")
        self._tool_choice: Select[str] = Select([], id="tool-choice", prompt="tool_choice: default")
        # Built with the class its mount would add: adding it then restyled the whole folded
        # section (21 widgets, ~10% of an app start's CPU in a profile) for nothing.
        self._params = Collapsible(title="Params", id="params", collapsed=True, classes="-collapsed")
        self._tool_specs: dict[str, ToolSpec] = {}

    def compose(self) -> ComposeResult:
        self._system.border_title = "System"
        self._prompt.border_title = "Prompt"
        yield self._system
        yield self._prompt
        with self._params:
            with Horizontal(id="stream-row"):
                yield self._stream
                yield Label("stream the response", id="stream-label")
            with Grid(id="param-fields"):
                for name, field in self._fields.items():
                    field.border_title = name
                    yield field
            self._extra.border_title = "more params (JSON object)"
            yield self._extra
            yield Static("", id="param-errors")
            self._tools.border_title = "tools to attach"
            yield self._tools
            yield self._tool_choice

    def on_mount(self) -> None:
        for tool in self.app.store.list_tools():
            self._tool_specs[tool.name] = ToolSpec(
                name=tool.name, description=tool.description, parameters=tool.parameters or ToolSpec(tool.name).parameters
            )
        self._set_tool_options([])
        draft = load_draft(self._draft_path) if self._draft_path else Draft()
        self._apply(draft)
        if draft.notice:
            self.notify(draft.notice, title="Last prompt", severity="warning", timeout=15)

    def on_unmount(self) -> None:
        self.save_draft()

    # --- the API the screen uses -------------------------------------------------------
    @property
    def stream(self) -> bool:
        return self._stream.value

    @stream.setter
    def stream(self, value: bool) -> None:
        self._stream.value = value

    @property
    def prompt_text(self) -> str:
        return self._prompt.text

    def build_request(self) -> ChatRequest:
        """The request as typed. Raises PromptError (and unfolds the params when that is
        where the problem is)."""
        prompt = self._prompt.text
        if not prompt.strip():
            raise PromptError("The prompt is empty: type something to send")
        try:
            params = build_params(self._field_texts(), self._extra.text)
        except PromptError:
            self._params.collapsed = False
            raise
        tool_choice = self._tool_choice.value
        return ChatRequest.from_prompt(
            prompt,
            system=self._system.text,
            params=params,
            tools=[self._tool_specs[name] for name in self._tools.selected if name in self._tool_specs],
            tool_choice=None if tool_choice is Select.NULL else str(tool_choice),
            stream=self.stream,
        )

    def load_request(self, request: ChatRequest) -> None:
        """Put a saved request back into the editor (its last user message is the prompt)."""
        for spec in request.tools:
            self._tool_specs.setdefault(spec.name, spec)  # a tool since deleted still comes back
        fields, extra_json = split_params(request.params)
        self._apply(
            Draft(
                system=request.system,
                prompt=request.last_user_text,
                fields=fields,
                extra_json=extra_json,
                tools=[spec.name for spec in request.tools],
                tool_choice=request.tool_choice,
                stream=request.stream,
            )
        )

    def replace_request(self, request: ChatRequest, source: str, loaded: Callable[[], None]) -> None:
        """Load `request` (from `source`, e.g. "run 1a2b…"), asking first when a prompt typed
        here would be lost; `loaded` is called once it is in."""
        typed = self.prompt_text
        if not typed.strip() or typed == request.last_user_text:
            self.load_request(request)
            loaded()
            return
        from tui.screens.confirm import ConfirmScreen

        flat = " ".join(typed.split())
        shown = flat if len(flat) <= 60 else flat[:59] + "…"

        def answered(yes: bool | None) -> None:
            if yes:
                self.load_request(request)
                loaded()

        question = f"Replace the prompt being edited with the one of {source}?"
        hint = f"Now in the editor: “{shown}” — it is not saved anywhere else."
        self.app.push_screen(ConfirmScreen(question, hint, confirm_label="Replace"), answered)

    def save_draft(self) -> None:
        if self._draft_path:
            save_draft(self._draft_path, self._current_draft())

    def focus_prompt(self) -> None:
        self._prompt.focus()

    def action_toggle_params(self) -> None:
        self._params.collapsed = not self._params.collapsed

    # --- internals ----------------------------------------------------------------------
    def _field_texts(self) -> dict[str, str]:
        return {name: field.value for name, field in self._fields.items()}

    def _current_draft(self) -> Draft:
        choice = self._tool_choice.value
        return Draft(
            system=self._system.text,
            prompt=self._prompt.text,
            fields={name: text for name, text in self._field_texts().items() if text},
            extra_json=self._extra.text,
            tools=list(self._tools.selected),
            tool_choice=None if choice is Select.NULL else str(choice),
            stream=self._stream.value,
        )

    def _apply(self, draft: Draft) -> None:
        self._system.load_text(draft.system)
        self._prompt.load_text(draft.prompt)
        for name, field in self._fields.items():
            field.value = draft.fields.get(name, "")
        self._extra.load_text(draft.extra_json)
        self._stream.value = draft.stream
        self._set_tool_options(draft.tools)
        known = set(TOOL_CHOICES) | set(self._tool_specs)
        self._tool_choice.value = draft.tool_choice if draft.tool_choice in known else Select.NULL
        self._validate()

    def _set_tool_options(self, selected: list[str]) -> None:
        self._tools.clear_options()
        self._tools.add_options([(name, name, name in selected) for name in sorted(self._tool_specs)])
        # Without a stored tool there is nothing to attach or choose: keep both out of the way.
        self._tools.display = self._tool_choice.display = bool(self._tool_specs)
        choices = [*TOOL_CHOICES, *sorted(self._tool_specs)]
        self._tool_choice.set_options([(choice, choice) for choice in choices])

    @on(Input.Changed)
    @on(TextArea.Changed, "#extra-json")
    @on(Switch.Changed)
    @on(SelectionList.SelectedChanged)
    @on(Select.Changed)
    def _validate(self) -> None:
        """Check params as they are typed: mark bad fields, list the problems, and keep the
        folded section's title a summary of what will be sent."""
        problems: list[str] = []
        for name, field in self._fields.items():
            problem = _problem(lambda: parse_field(name, field.value)) if field.value.strip() else None
            field.set_class(problem is not None, "-invalid")
            problems += [problem] if problem else []
        extra_problem = _problem(lambda: parse_extra_json(self._extra.text))
        self._extra.set_class(extra_problem is not None, "-invalid")
        problems += [extra_problem] if extra_problem else []
        if not problems:
            problems += filter(None, [_problem(lambda: build_params(self._field_texts(), self._extra.text))])
        errors = self.query_one("#param-errors", Static)
        errors.update("\n".join(problems))
        errors.display = bool(problems)
        self._params.title = self._summary(problems)

    def _summary(self, problems: list[str]) -> str:
        parts = ["stream" if self._stream.value else "no stream"]
        parts += [f"{name}={field.value.strip()}" for name, field in self._fields.items() if field.value.strip()]
        if self._extra.text.strip():
            parts.append("+JSON")
        if self._tool_choice.value is not Select.NULL:
            parts.append(f"tool_choice={self._tool_choice.value}")
        if self._tools.selected:
            count = len(self._tools.selected)
            parts.append(f"{count} tool{'s' if count > 1 else ''}")
        title = "Params: " + " · ".join(parts)
        return title + ("  ⚠ invalid" if problems else "")


def _problem(check: Any) -> str | None:
    try:
        check()
    except PromptError as error:
        return str(error)
    return None
