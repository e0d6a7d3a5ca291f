"""Keys out of everything llmwb stores, shows or exports.

Two layers. `scrub` replaces the values of key-bearing environment variables
wherever they appear (a 401 body quoting the Authorization header, a proxy
echoing the request, a model repeating what it was told): exact, cheap enough to
run on every wire frame. `redact` adds the shapes of keys and auth headers
(`Bearer …`, `x-api-key: …`, `sk-…`) for free text such as error messages and
the log, where a key that is not in this process's environment may still show up.
"""

from __future__ import annotations

import os
import re
from typing import Iterable

REDACTED = "[REDACTED]"

_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?\s*bearer\s+)[^\s'\",}]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:x-api-key|api[_-]key)['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
    re.compile(r"()\bsk-[A-Za-z0-9_-]{8,}"),
    # keys passed in a URL's query string (?key=…, &api_key=…, ?token=…)
    re.compile(r"(?i)([?&](?:key|api[_-]?key|access[_-]?token|token)=)[^&\s'\"]+"),
]

# Variables that hold a key by their name: OPENAI_API_KEY, HF_TOKEN, GROQ_KEY,
# AWS_SECRET_ACCESS_KEY, DB_PASSWORD. Their values are hidden when long enough to
# be a key: a short value ("1", "true") would blank ordinary words.
_KEYISH_NAME = re.compile(r"(?i)(api_?key|_key$|^key$|token|secret|passw)")
MIN_KEYISH_VALUE = 8
# A variable a model config names as its key is hidden whatever its name, from this length.
MIN_NAMED_VALUE = 6

_named_key_envs: set[str] = set()
_keyish_names: tuple[str, ...] | None = None  # the last scan of the environment's names


def register_key_env(names: Iterable[str | None]) -> None:
    """Add environment variable names (the ones model configs name) whose values are hidden."""
    _named_key_envs.update(name for name in names if name)


def registered_key_envs() -> list[str]:
    """The names `register_key_env` was given (a reader process is told them too)."""
    return sorted(_named_key_envs)


def secret_values(extra_names: Iterable[str | None] = (), *, rescan: bool = True) -> tuple[str, ...]:
    """The key values in the environment now, longest first (so a key that contains
    another is hidden whole). Values are read when asked; `rescan=False` reuses the
    last scan of which names look like keys (the log asks per record, where a scan
    would cost more than the rest of the logging)."""
    global _keyish_names
    environ = os.environ
    if rescan or _keyish_names is None:
        _keyish_names = tuple(name for name in environ if _KEYISH_NAME.search(name))
    values: set[str] = set()
    for name in (*_named_key_envs, *(n for n in extra_names if n)):
        value = environ.get(name, "")
        if len(value) >= MIN_NAMED_VALUE:
            values.add(value)
    for name in _keyish_names:
        value = environ.get(name, "")
        if len(value) >= MIN_KEYISH_VALUE and not _looks_like_path(value):
            values.add(value)
    return tuple(sorted(values, key=len, reverse=True))


def _looks_like_path(value: str) -> bool:
    # SSH_AUTH_SOCK-style variables (a socket path, a key file's path) hold no secret,
    # and hiding a path would blank the same path wherever else it appears.
    return value.startswith(("/", "~", "./")) or " " in value


class Scrubber:
    """Replaces a fixed set of key values in text; built once per run, used per frame."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[str]) -> None:
        self.values = tuple(values)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def __bool__(self) -> bool:
        return bool(self.values)


def scrubber(extra_names: Iterable[str | None] = ()) -> Scrubber:
    """A scrubber for the keys in the environment now (plus `extra_names`' values)."""
    return Scrubber(secret_values(extra_names))


def scrub(text: str, extra_names: Iterable[str | None] = ()) -> str:
    """`text` with every key value from the environment replaced."""
    return Scrubber(secret_values(extra_names))(text)


def redact(text: str, extra_names: Iterable[str | None] = (), *, rescan: bool = True) -> str:
    """`text` with key values and key-shaped strings (auth headers, `sk-…`) replaced."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return Scrubber(secret_values(extra_names, rescan=rescan))(text)


def scrub_json(value: object, scrub_text: Scrubber) -> object:
    """A JSON-shaped value (dicts, lists, strings) with key values replaced in every string."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {scrub_text(k) if isinstance(k, str) else k: scrub_json(v, scrub_text) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(item, scrub_text) for item in value]
    return value
