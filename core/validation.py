"""Rules for the fields of a model config that a key could be pasted into by mistake.

One set of rules for every way a config arrives (the model form, `llmwb models add`,
a YAML import): a key typed into the base URL or the key-variable field would be
stored, shown with every run's endpoint and error, and exported. Messages never echo
the value back.
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def base_url_problem(url: str) -> str | None:
    """What is wrong with a (non-empty) base URL, or None."""
    if any(c.isspace() for c in url):
        return "a URL has no spaces"
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: http://[::1
        return "not a URL: http(s)://host[:port][/path] (IPv6 hosts in [brackets])"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if parts.username or parts.password:
        return "no credentials in the URL: name the key's environment variable instead"
    try:
        port = parts.port
        parts.hostname  # noqa: B018  (raises for a malformed bracketed host)
    except ValueError:
        return "the port must be a number from 1 to 65535"
    if not parts.hostname:
        return "missing host: http(s)://host[:port][/path]"
    if port == 0:
        return "the port must be a number from 1 to 65535"
    if parts.query or parts.fragment:
        return "no ?query or #fragment: http(s)://host[:port][/path]"
    return None


def env_name_problem(name: str) -> str | None:
    """What is wrong with a (non-empty) environment variable name, or None."""
    if not _ENV_NAME.fullmatch(name):
        return "a variable NAME such as OPENAI_API_KEY (letters, digits, _), not the key itself"
    return None


# values saved with a config or a run -----------------------------------------------
# JSON nesting deeper than this is refused: real schemas and params stay far below it,
# and recursive walkers (json, the SDKs, SQLite's json1) fail somewhere above it.
MAX_DEPTH = 64
_INT_LIMIT = 2**63  # what SQLite and orjson can hold; a longer number is a typo or an attack
MAX_RETRIES_LIMIT = 20


def text_problem(text: str) -> str | None:
    """What keeps `text` from being sent or saved as UTF-8 (lone surrogates, which is
    what undecodable bytes from a file or the command line turn into), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"is not valid UTF-8 text (undecodable byte at character {error.start})"
    return None


def json_value_problem(value: object, depth: int = 0) -> str | None:
    """What keeps `value` from being strict JSON that every reader accepts: NaN or
    infinity (SQLite's json_extract and most servers reject them), integers beyond 64
    bits, invalid text, non-string keys, nesting deeper than MAX_DEPTH. None if fine."""
    if depth > MAX_DEPTH:
        return f"nests deeper than {MAX_DEPTH} levels"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if -_INT_LIMIT <= value < _INT_LIMIT else "has a number too large (beyond 64 bits)"
    if isinstance(value, float):
        return None if math.isfinite(value) else "has NaN or infinity, which JSON cannot carry"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"has a non-text key {key!r}"
            problem = text_problem(key) or json_value_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = json_value_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"has a value JSON cannot carry ({type(value).__name__})"


def params_problem(params: dict[str, object]) -> str | None:
    """What is wrong with request params (a config's defaults or one run's), as
    '<key>: <why>', or None. Catches what would otherwise be saved and only fail
    later, labelled as a connection or internal error."""
    for key, value in params.items():
        problem = json_value_problem(value)
        if problem:
            return f"{key} {problem}"
        if text_problem(key):
            return f"a name {text_problem(key)}"
    options = params.get("stream_options")
    if options is not None and not isinstance(options, dict):
        return 'stream_options must be an object, e.g. {"include_usage": true}'
    retries = params.get("max_retries")
    if retries is not None and (
        isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES_LIMIT
    ):
        return f"max_retries must be a whole number from 0 to {MAX_RETRIES_LIMIT}"
    return None
