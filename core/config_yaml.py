"""Model configs and tool definitions as YAML: the shape of `config.example.yaml`.

    models:
      - name: gpt-4o-mini            # required, unique
        provider: openai             # one of PROVIDER_KINDS
        model: gpt-4o-mini           # required: the provider's model id
        base_url: https://...        # optional
        api_key_env: OPENAI_API_KEY  # optional: the variable holding the key
        params: {temperature: 0.2}   # optional mapping, sent with every request
        prices: {input: 0.15, cached_input: 0.075, output: 0.60}   # USD / million tokens
        timeout: 60                  # optional, seconds
    tools:
      - name: get_weather
        description: ...
        parameters: {type: object, properties: {...}}   # JSON Schema
        result: '{"temp_c": 21}'     # optional canned result for continuations

Validation is strict (an unknown key is an error) and every message names the
entry, so a typo such as `api_key: sk-...` is caught instead of silently ignored.
Export never writes a key value — only the name of its environment variable.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.store.kinds import PROVIDER_KINDS
from core.validation import base_url_problem, env_name_problem, params_problem

if TYPE_CHECKING:
    from core.store.models import ModelConfig, ToolDefinition

# YAML and the table classes (SQLAlchemy) are imported where a file is read or written
# or a config built: `llmwb models list --json` needs only model_to_dict.

MODEL_KEYS = ("name", "provider", "model", "base_url", "api_key_env", "params", "prices", "timeout")
PRICE_KEYS = ("input", "cached_input", "output")
TOOL_KEYS = ("name", "description", "parameters", "result")

# A config file is a few kilobytes: a larger one is refused unread.
MAX_FILE_BYTES = 1_000_000


class ConfigError(ValueError):
    """A config file that cannot be imported; the message names the entry and the key."""


@dataclass
class ConfigFile:
    models: list[ModelConfig] = field(default_factory=list)
    tools: list[ToolDefinition] = field(default_factory=list)


@dataclass
class ImportReport:
    models_added: int = 0
    models_updated: int = 0
    tools_added: int = 0
    tools_updated: int = 0

    def summary(self) -> str:
        text = f"models: {self.models_added} added, {self.models_updated} updated"
        if self.tools_added or self.tools_updated:
            text += f"; tools: {self.tools_added} added, {self.tools_updated} updated"
        return text


# parsing ----------------------------------------------------------------------
def parse_config(source: str, *, origin: str = "config") -> ConfigFile:
    """Validate YAML text; raises ConfigError naming `origin` and the bad entry."""
    from core.safe_yaml import YamlRefused, load_yaml

    try:
        data = load_yaml(source)
    except YamlRefused as error:
        raise ConfigError(f"{origin}: {error}") from None
    if data is None:
        return ConfigFile()
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping with 'models' and/or 'tools' at the top level")
    unknown = set(data) - {"models", "tools"}
    if unknown:
        raise ConfigError(f"{origin}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}")
    result = ConfigFile(
        models=[model_from_dict(e, f"{origin}: models[{i}]") for i, e in enumerate(_list(data, "models", origin))],
        tools=[_tool(e, f"{origin}: tools[{i}]") for i, e in enumerate(_list(data, "tools", origin))],
    )
    _no_duplicates([m.name for m in result.models], f"{origin}: models")
    _no_duplicates([t.name for t in result.tools], f"{origin}: tools")
    return result


def load_config_file(path: str | Path) -> ConfigFile:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES // 1_000_000} MB; not a config file")
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start})") from None
    return parse_config(source, origin=str(path))


def _list(data: dict[str, Any], key: str, origin: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{origin}: '{key}' must be a list")
    return value


def model_from_dict(entry: Any, where: str = "model") -> ModelConfig:
    """Validate one `models:` entry; ConfigError messages start with `where`."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(entry).__name__}")
    name = entry.get("name")
    if name and str(name) != where:
        where = f"{where} ({name})"
    if "api_key" in entry:
        raise ConfigError(f"{where}: keys are not stored; put it in an environment variable and name it in api_key_env")
    _known_keys(entry, MODEL_KEYS, where)
    name = _required_str(entry, "name", where)
    provider = _required_str(entry, "provider", where)
    if provider not in PROVIDER_KINDS:
        raise ConfigError(f"{where}: unknown provider kind {provider!r} (known: {', '.join(PROVIDER_KINDS)})")
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{where}: params must be a mapping, got {type(params).__name__}")
    problem = params_problem(params)
    if problem:
        raise ConfigError(f"{where}: params.{problem}")
    prices = entry.get("prices") or {}
    if not isinstance(prices, dict):
        raise ConfigError(f"{where}: prices must be a mapping with input, cached_input, output")
    _known_keys(prices, PRICE_KEYS, f"{where}: prices")
    timeout = entry.get("timeout")
    if timeout is not None:
        timeout = _positive_number(timeout, "timeout", where)
    cached = prices.get("cached_input")
    from core.store.models import ModelConfig

    return ModelConfig(
        name=name,
        provider=provider,
        model=_required_str(entry, "model", where),
        base_url=_base_url(entry, where),
        api_key_env=_key_env_name(entry, where),
        params=params,
        price_input=_price(prices.get("input", 0.0), "input", where),
        price_cached_input=None if cached is None else _price(cached, "cached_input", where),
        price_output=_price(prices.get("output", 0.0), "output", where),
        timeout=timeout,
    )


def _tool(entry: Any, where: str) -> ToolDefinition:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(entry).__name__}")
    if entry.get("name"):
        where = f"{where} ({entry['name']})"
    _known_keys(entry, TOOL_KEYS, where)
    from core.tools import ToolError, validate_tool_definition

    result = entry.get("result")
    if result is not None and not isinstance(result, str):
        result = json.dumps(result, ensure_ascii=False)  # a mapping in YAML is the JSON the tool returns
    try:
        # The same checks as a tool saved from the app (name shape, object schema).
        return validate_tool_definition(
            _required_str(entry, "name", where),
            _optional_str(entry, "description", where) or "",
            entry.get("parameters") or {"type": "object", "properties": {}},
            canned_result=result,
        )
    except ToolError as error:
        raise ConfigError(f"{where}: {error}") from None


def _known_keys(entry: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = set(entry) - set(allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} (allowed: {', '.join(allowed)})"
        )


def _required_str(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if value is None or value == "":
        raise ConfigError(f"{where}: missing '{key}'")
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ConfigError(f"{where}: '{key}' must be a string")
    return str(value)


def _optional_str(entry: dict[str, Any], key: str, where: str) -> str | None:
    if entry.get(key) in (None, ""):
        return None
    return _required_str(entry, key, where)


def _base_url(entry: dict[str, Any], where: str) -> str | None:
    url = _optional_str(entry, "base_url", where)
    problem = base_url_problem(url) if url is not None else None
    if problem:
        raise ConfigError(f"{where}: base_url: {problem}")
    return url


def _key_env_name(entry: dict[str, Any], where: str) -> str | None:
    name = _optional_str(entry, "api_key_env", where)
    problem = env_name_problem(name) if name is not None else None
    if problem:
        raise ConfigError(f"{where}: api_key_env: {problem}")
    return name


def _finite(value: Any) -> bool:
    """A real, finite number (an int too large for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _price(value: Any, key: str, where: str) -> float:
    # NaN and infinity pass `< 0` and `<= 0`; SQLite would store NaN as NULL and fail.
    if not _finite(value):
        raise ConfigError(f"{where}: prices.{key} must be a number (USD per million tokens)")
    if value < 0:
        raise ConfigError(f"{where}: prices.{key} must not be negative")
    return float(value)


def _positive_number(value: Any, key: str, where: str) -> float:
    if not _finite(value) or value <= 0:
        raise ConfigError(f"{where}: {key} must be a positive number of seconds")
    return float(value)


def _no_duplicates(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(f"{where}: {name!r} appears more than once")
        seen.add(name)


# store round trip ---------------------------------------------------------------
def import_config(store, config: ConfigFile) -> ImportReport:  # type: ignore[no-untyped-def]
    """Upsert by name, in one transaction: existing names are updated in place, new
    ones inserted — every entry, or (on any failure) none."""
    models_added, tools_added = store.import_all(config.models, config.tools)
    return ImportReport(
        models_added=models_added,
        models_updated=len(config.models) - models_added,
        tools_added=tools_added,
        tools_updated=len(config.tools) - tools_added,
    )


def model_to_dict(config: ModelConfig) -> dict[str, Any]:
    """The YAML entry for a config; only the key's variable name, never its value."""
    entry: dict[str, Any] = {"name": config.name, "provider": config.provider, "model": config.model}
    if config.base_url:
        entry["base_url"] = config.base_url
    if config.api_key_env:
        entry["api_key_env"] = config.api_key_env
    if config.params:
        entry["params"] = dict(config.params)
    prices: dict[str, float] = {}
    if config.price_input:
        prices["input"] = config.price_input
    if config.price_cached_input is not None:
        prices["cached_input"] = config.price_cached_input
    if config.price_output:
        prices["output"] = config.price_output
    if prices:
        entry["prices"] = prices
    if config.timeout:
        entry["timeout"] = config.timeout
    return entry


def tool_to_dict(tool: ToolDefinition) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": tool.name}
    if tool.description:
        entry["description"] = tool.description
    entry["parameters"] = dict(tool.parameters)
    if tool.canned_result is not None:
        entry["result"] = tool.canned_result
    return entry


def export_config(store) -> str:  # type: ignore[no-untyped-def]
    data: dict[str, Any] = {"models": [model_to_dict(c) for c in store.list_configs()]}
    tools = store.list_tools()
    if tools:
        data["tools"] = [tool_to_dict(t) for t in tools]
    import yaml  # export only: loading goes through core.safe_yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
