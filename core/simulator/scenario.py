"""Scenario files: what the simulator says, how fast, and how it fails.

A scenario is a small YAML (or JSON) mapping a person can write by hand. The
request's `model` names the scenario. Files are validated strictly — an unknown
key is an error — because a typo such as `timming:` would otherwise silently
give default timing and make a test assert against the wrong truth.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.safe_yaml import YamlRefused, load_yaml
from core.simulator.textgen import GENERATOR_KINDS, generate_text

BUILTIN_DIR = Path(__file__).with_name("scenarios")
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")

API_HINTS = ("openai", "responses", "anthropic", "ollama")
CHUNKING_MODES = ("fixed", "word", "list")
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter")


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


@dataclass
class ToolCallScript:
    name: str
    # Exactly the string streamed as the call's arguments. Kept raw so a
    # scenario can send invalid JSON on purpose.
    arguments: str
    id: str | None = None


@dataclass
class Chunking:
    mode: str = "fixed"  # fixed | word | list
    size: int = 4  # characters per chunk in fixed mode (and for reasoning/arguments in list mode)
    chunks: list[str] | None = None  # mode "list": the text, pre-cut
    arguments_size: int | None = None  # characters per tool-argument fragment; default: size


@dataclass
class Timing:
    first_token_ms: float = 100.0  # request fully received -> first content frame written
    gap_ms: float = 10.0  # between consecutive content frames
    jitter_ms: float = 0.0  # uniform +/- on each gap, clamped at 0
    seed: int = 0  # jitter is drawn from random.Random(seed), fresh per request


@dataclass
class UsageScript:
    """Token counts to report; None means computed (see core.simulator.script)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None


@dataclass
class Fault:
    http_status: int | None = None
    error_message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop_after_chunks: int | None = None
    malformed_after_chunks: int | None = None
    stall_after_chunks: int | None = None
    stall_s: float = 2.0
    error_event_after_chunks: int | None = None
    headers_then_nothing: bool = False


@dataclass
class Scenario:
    name: str
    api: str = "openai"  # only a hint for which protocol an embedded model config should use (openai | anthropic | ollama)
    description: str = ""
    text: str = ""
    reasoning: str = ""
    # The model declines: `text` is then a refusal, sent as each protocol sends one.
    refusal: bool = False
    echo: bool = False
    tool_calls: list[ToolCallScript] = field(default_factory=list)
    chunking: Chunking = field(default_factory=Chunking)
    chunking_given: bool = False  # echo defaults to word chunks unless chunking was written
    timing: Timing = field(default_factory=Timing)
    usage: UsageScript = field(default_factory=UsageScript)
    finish_reason: str | None = None  # None: tool_calls if tool_calls else stop
    nonstream_text: str | None = None
    # The reply once the request carries tool results, so a tool round trip ends in an answer.
    after_tool_results: str | None = None
    fault: Fault = field(default_factory=Fault)
    source: Path | None = None

    @property
    def resolved_finish_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


# --- parsing -----------------------------------------------------------------


def _check_keys(where: str, mapping: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(allowed)})")


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _str(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected a string, got {type(value).__name__}")
    return value


def _int(where: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ScenarioError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    return value


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ScenarioError(f"{where}: expected a number >= 0, got {value!r}")
    return float(value)


def _choice(where: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ScenarioError(f"{where}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _parse_tool_call(where: str, raw: Any) -> ToolCallScript:
    data = _mapping(where, raw)
    _check_keys(where, data, ("id", "name", "arguments"))
    if "name" not in data:
        raise ScenarioError(f"{where}: a tool call needs a name")
    arguments = data.get("arguments", {})
    if not isinstance(arguments, str):
        # ensure_ascii=False so non-ASCII stays multi-byte on the wire, as real models send it.
        arguments = json.dumps(arguments, ensure_ascii=False)
    call_id = data.get("id")
    return ToolCallScript(
        name=_str(f"{where}.name", data["name"]),
        arguments=arguments,
        id=None if call_id is None else _str(f"{where}.id", call_id),
    )


def _parse_chunking(where: str, raw: Any) -> Chunking:
    data = _mapping(where, raw)
    _check_keys(where, data, ("mode", "size", "chunks", "arguments_size"))
    chunking = Chunking(mode=_choice(f"{where}.mode", data.get("mode", "fixed"), CHUNKING_MODES))
    if "size" in data:
        chunking.size = _int(f"{where}.size", data["size"], 1)
    if "arguments_size" in data:
        chunking.arguments_size = _int(f"{where}.arguments_size", data["arguments_size"], 1)
    if "chunks" in data:
        chunks = data["chunks"]
        if not isinstance(chunks, list) or not chunks:
            raise ScenarioError(f"{where}.chunks: expected a non-empty list of strings")
        chunking.chunks = [_str(f"{where}.chunks[{i}]", c) for i, c in enumerate(chunks)]
    if chunking.mode == "list" and chunking.chunks is None:
        raise ScenarioError(f"{where}: mode 'list' needs chunks")
    return chunking


def _parse_timing(where: str, raw: Any) -> Timing:
    data = _mapping(where, raw)
    _check_keys(where, data, ("first_token_ms", "gap_ms", "jitter_ms", "seed"))
    timing = Timing()
    for key in ("first_token_ms", "gap_ms", "jitter_ms"):
        if key in data:
            setattr(timing, key, _number(f"{where}.{key}", data[key]))
    if "seed" in data:
        timing.seed = _int(f"{where}.seed", data["seed"])
    return timing


def _parse_usage(where: str, raw: Any) -> UsageScript:
    if raw is None or raw == "computed":
        return UsageScript()
    data = _mapping(where, raw)
    _check_keys(where, data, ("prompt_tokens", "completion_tokens", "reasoning_tokens", "cached_tokens"))
    return UsageScript(**{key: _int(f"{where}.{key}", value) for key, value in data.items() if value is not None})


def _parse_fault(where: str, raw: Any) -> Fault:
    data = _mapping(where, raw)
    counters = ("drop_after_chunks", "malformed_after_chunks", "stall_after_chunks", "error_event_after_chunks")
    _check_keys(where, data, ("http_status", "error_message", "headers", "stall_s", "headers_then_nothing", *counters))
    fault = Fault()
    if data.get("http_status") is not None:
        status = _int(f"{where}.http_status", data["http_status"], 400)
        if status > 599:
            raise ScenarioError(f"{where}.http_status: expected 400..599, got {status}")
        fault.http_status = status
    if data.get("error_message") is not None:
        fault.error_message = _str(f"{where}.error_message", data["error_message"])
    if data.get("headers") is not None:
        headers = _mapping(f"{where}.headers", data["headers"])
        fault.headers = {str(k).lower(): str(v) for k, v in headers.items()}
    for key in counters:
        if data.get(key) is not None:
            setattr(fault, key, _int(f"{where}.{key}", data[key]))
    if "stall_s" in data:
        fault.stall_s = _number(f"{where}.stall_s", data["stall_s"])
    if "headers_then_nothing" in data:
        fault.headers_then_nothing = bool(data["headers_then_nothing"])
    return fault


SCENARIO_KEYS = (
    "name", "api", "description", "text", "refusal", "reasoning", "echo", "generate", "tool_calls",
    "chunking", "timing", "usage", "finish_reason", "nonstream_text", "after_tool_results", "fault",
)  # fmt: skip


def scenario_from_dict(data: Mapping[str, Any], *, source: Path | None = None, default_name: str | None = None) -> Scenario:
    """Build a Scenario from an already-parsed mapping (the file's content)."""
    where = str(source) if source else "scenario"
    data = _mapping(where, data)
    _check_keys(where, data, SCENARIO_KEYS)
    name = data.get("name", default_name)
    if not name:
        raise ScenarioError(f"{where}: a scenario needs a name")
    scenario = Scenario(name=_str(f"{where}.name", name), source=source)
    scenario.api = _choice(f"{where}.api", data.get("api", "openai"), API_HINTS)
    scenario.description = _str(f"{where}.description", data.get("description", ""))
    scenario.reasoning = _str(f"{where}.reasoning", data.get("reasoning") or "")
    scenario.echo = bool(data.get("echo", False))
    sources_of_text = [key for key in ("text", "refusal", "echo", "generate") if data.get(key)]
    if len(sources_of_text) > 1:
        raise ScenarioError(f"{where}: use only one of text, refusal, echo, generate (got {', '.join(sources_of_text)})")
    scenario.text = _str(f"{where}.text", data.get("text") or "")
    if data.get("refusal"):
        if data.get("tool_calls"):
            raise ScenarioError(f"{where}: a refusal calls no tools (drop tool_calls or refusal)")
        scenario.text, scenario.refusal = _str(f"{where}.refusal", data["refusal"]), True
    if data.get("generate"):
        gen = _mapping(f"{where}.generate", data["generate"])
        _check_keys(f"{where}.generate", gen, ("kind", "tokens", "seed"))
        kind = _choice(f"{where}.generate.kind", gen.get("kind", "lorem_markdown"), GENERATOR_KINDS)
        tokens = _int(f"{where}.generate.tokens", gen.get("tokens", 1000), 1)
        scenario.text = generate_text(kind, tokens, seed=_int(f"{where}.generate.seed", gen.get("seed", 0)))
    raw_calls = data.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise ScenarioError(f"{where}.tool_calls: expected a list")
    scenario.tool_calls = [_parse_tool_call(f"{where}.tool_calls[{i}]", c) for i, c in enumerate(raw_calls)]
    if data.get("chunking") is not None:
        scenario.chunking = _parse_chunking(f"{where}.chunking", data["chunking"])
        scenario.chunking_given = True
        if scenario.chunking.mode == "list":
            # The list is the text: keep `text` consistent for non-streamed replies and usage.
            scenario.text = "".join(scenario.chunking.chunks or [])
    if data.get("timing") is not None:
        scenario.timing = _parse_timing(f"{where}.timing", data["timing"])
    scenario.usage = _parse_usage(f"{where}.usage", data.get("usage"))
    if data.get("finish_reason") is not None:
        scenario.finish_reason = _choice(f"{where}.finish_reason", data["finish_reason"], FINISH_REASONS)
    if data.get("nonstream_text") is not None:
        scenario.nonstream_text = _str(f"{where}.nonstream_text", data["nonstream_text"])
    if data.get("after_tool_results") is not None:
        scenario.after_tool_results = _str(f"{where}.after_tool_results", data["after_tool_results"])
    if data.get("fault") is not None:
        scenario.fault = _parse_fault(f"{where}.fault", data["fault"])
    return scenario


def load_scenario_file(path: str | Path) -> Scenario:
    """Read one scenario from a .yaml/.yml/.json file; the name defaults to the file's stem."""
    path = Path(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (at offset {exc.start})") from None
    try:
        # A scenario file is hostile input like any other: aliases, depth and size bounded.
        data = json.loads(raw_text) if path.suffix == ".json" else load_yaml(raw_text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}: not valid JSON: {exc}") from exc
    except YamlRefused as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: nests too deeply") from None
    return scenario_from_dict(data, source=path, default_name=path.stem)


def _scenario_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in SCENARIO_SUFFIXES and p.is_file())


def load_scenario_dir(directory: str | Path, on_error: Callable[[Path, Exception], None] | None = None) -> dict[str, Scenario]:
    directory = Path(directory)
    if not directory.is_dir():
        error = ScenarioError(f"{directory}: not a directory")
        if on_error is None:
            raise error
        on_error(directory, error)
        return {}
    found: dict[str, Scenario] = {}
    for path in _scenario_files(directory):
        try:
            scenario = load_scenario_file(path)
        except ScenarioError as exc:
            if on_error is None:
                raise
            on_error(path, exc)
            continue
        found[scenario.name] = scenario
    return found


_builtin_cache: dict[str, Scenario] | None = None


def builtin_scenarios() -> dict[str, Scenario]:
    """The scenarios shipped in core/simulator/scenarios (parsed once, copied per call)."""
    global _builtin_cache
    if _builtin_cache is None:
        _builtin_cache = load_scenario_dir(BUILTIN_DIR)
    # Deep copy: callers may tweak a scenario (tests do) without changing everyone else's.
    return copy.deepcopy(_builtin_cache)


def load_scenarios(
    dirs: Iterable[str | Path] = (), on_error: Callable[[Path, Exception], None] | None = None
) -> dict[str, Scenario]:
    """Built-ins first, then each directory in order; a later file with the same name wins.

    With `on_error`, a broken user file is reported and skipped instead of raising, so one
    typo does not take the demo model down with it.
    """
    scenarios = builtin_scenarios()
    for directory in dirs:
        scenarios.update(load_scenario_dir(directory, on_error))
    return scenarios
