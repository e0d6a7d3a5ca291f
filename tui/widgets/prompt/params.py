"""Turning the editor's param fields and JSON box into request params.

Pure functions, so the rules are tested without a screen. Every problem becomes
a PromptError whose message names the field and says what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from core.validation import params_problem


class PromptError(ValueError):
    """The editor's content cannot make a request; the message is shown to the user."""


@dataclass(frozen=True)
class ParamField:
    name: str
    hint: str  # shown as the field's placeholder
    parse: Callable[[str], Any]


def _number(name: str, low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise PromptError(f"{name} must be a number, not {text!r}") from None
        if not low <= value <= high:
            raise PromptError(f"{name} must be between {low:g} and {high:g}, not {value:g}")
        return value

    return parse


def _integer(name: str, low: int | None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise PromptError(f"{name} must be a whole number, not {text!r}") from None
        if low is not None and value < low:
            raise PromptError(f"{name} must be at least {low}, not {value}")
        return value

    return parse


def _stop(text: str) -> str | list[str]:
    """A plain string, or a JSON list of strings (the only way to give several, or a newline)."""
    if not text.lstrip().startswith("["):
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise PromptError(f"stop: invalid JSON list ({error.msg} at column {error.colno})") from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise PromptError("stop must be a string or a JSON list of strings")
    return value


PARAM_FIELDS: tuple[ParamField, ...] = (
    ParamField("temperature", "0–2", _number("temperature", 0.0, 2.0)),
    ParamField("top_p", "0–1", _number("top_p", 0.0, 1.0)),
    ParamField("max_tokens", "≥ 1", _integer("max_tokens", 1)),
    ParamField("seed", "integer", _integer("seed", None)),
    ParamField("stop", 'text or ["a","b"]', _stop),
)
FIELD_NAMES = tuple(field.name for field in PARAM_FIELDS)


def parse_field(name: str, text: str) -> Any:
    """The value of one field; raises PromptError. Call only for non-blank text."""
    field = next(field for field in PARAM_FIELDS if field.name == name)
    return field.parse(text.strip() if name != "stop" else text)


def parse_extra_json(text: str) -> dict[str, Any]:
    """The JSON box: empty, or one JSON object of extra body params."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise PromptError(f"params JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise PromptError("params JSON nests too deeply") from None
    if not isinstance(value, dict):
        raise PromptError("params JSON must be an object, like {\"presence_penalty\": 0.5}")
    return value


def build_params(fields: dict[str, str], extra_json: str) -> dict[str, Any]:
    """All params: the JSON box, then the fields. A key in both is an error, not a guess."""
    params = parse_extra_json(extra_json)
    for name in FIELD_NAMES:
        text = fields.get(name, "")
        if not text.strip():
            continue
        if name in params:
            raise PromptError(f"{name} is set both in its field and in the params JSON: keep one")
        params[name] = parse_field(name, text)
    problem = params_problem(params)  # NaN, huge numbers, a non-object stream_options: fail now, not mid-run
    if problem:
        raise PromptError(f"params: {problem}")
    return params


def split_params(params: dict[str, Any]) -> tuple[dict[str, str], str]:
    """The inverse of build_params: field texts and the JSON box text for `params`."""
    fields: dict[str, str] = {}
    extra = dict(params)
    for name in FIELD_NAMES:
        if name not in extra:
            continue
        value = extra.pop(name)
        if name == "stop" and isinstance(value, str) and not value.lstrip().startswith("["):
            fields[name] = value
        elif name == "stop":
            fields[name] = json.dumps(value if isinstance(value, list) else [value], ensure_ascii=False)
        else:
            fields[name] = str(value)
    extra_json = json.dumps(extra, ensure_ascii=False, indent=2) if extra else ""
    return fields, extra_json
