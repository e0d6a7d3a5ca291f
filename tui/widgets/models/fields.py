"""Validation of the model form's fields: plain functions from text to a message.

Each returns None when the text is acceptable, or one short line saying what is
wrong, shown under the field as the user types. The parsers turn accepted text
into the ModelConfig's values.
"""

from __future__ import annotations

import json
from typing import Any

from core.store.models import KEYLESS_KINDS, PROVIDER_KINDS
from core.validation import base_url_problem, env_name_problem, params_problem



def name_error(text: str, taken: set[str]) -> str | None:
    name = text.strip()
    if not name:
        return "required"
    if name in taken:
        return f"a model named {name!r} already exists"
    return None


def provider_error(kind: str) -> str | None:
    return None if kind in PROVIDER_KINDS else f"unknown provider kind (known: {', '.join(PROVIDER_KINDS)})"


def model_id_error(text: str) -> str | None:
    return None if text.strip() else "required: the provider's model id (simulator: a scenario name)"


def base_url_error(text: str, provider: str) -> str | None:
    url = text.strip()
    if not url:
        if provider == "openai-compatible":
            return "required for openai-compatible (e.g. https://api.deepseek.com/v1)"
        return None
    return base_url_problem(url)


def env_name_error(text: str) -> str | None:
    name = text.strip()
    return env_name_problem(name) if name else None


def key_hint(env_name: str, provider: str, environ: Any) -> tuple[str, str]:
    """What the key situation is, as (text, kind) with kind "ok", "warning" or "info"."""
    name = env_name.strip()
    if not name:
        if provider in KEYLESS_KINDS:
            return f"no key needed for {provider}", "info"
        return "no variable named: requests go without a key", "warning"
    if env_name_error(name):
        return "", "info"
    if environ.get(name):
        return f"✓ {name} is set in this environment", "ok"
    return f"✗ {name} is not set in this environment: export it before running", "warning"


def price_error(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return "a number of USD per million tokens, e.g. 0.15"
    if value != value or value in (float("inf"), float("-inf")):
        return "a finite number"
    if value < 0:
        return "cannot be negative"
    return None


def parse_number(text: str) -> float | None:
    """An accepted price or timeout; None when left empty."""
    return float(text) if text.strip() else None


def timeout_error(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return "seconds, e.g. 60 (empty: the SDK's default)"
    if not 0 < value < float("inf"):
        return "must be more than 0 seconds"
    return None


def params_error(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
    except RecursionError:
        return "nests too deeply"
    if not isinstance(value, dict):
        return f'must be a JSON object like {{"temperature": 0.2}}, not {_json_kind(value)}'
    return params_problem(value)  # NaN, huge numbers, bad stream_options/max_retries


def parse_params(text: str) -> dict[str, Any]:
    return json.loads(text) if text.strip() else {}


def format_params(params: dict[str, Any]) -> str:
    return json.dumps(params, indent=2, ensure_ascii=False) if params else ""


def format_number(value: float | None) -> str:
    return "" if value is None else f"{value:.12g}"


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"
