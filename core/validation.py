"""Rules for the fields of a model config that a key could be pasted into by mistake.

One set of rules for every way a config arrives (the model form, `llmwb models add`,
a YAML import): a key typed into the base URL or the key-variable field would be
stored, shown with every run's endpoint and error, and exported. Messages never echo
the value back.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def base_url_problem(url: str) -> str | None:
    """What is wrong with a (non-empty) base URL, or None."""
    if any(c.isspace() for c in url):
        return "a URL has no spaces"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if parts.username or parts.password:
        return "no credentials in the URL: name the key's environment variable instead"
    try:
        port = parts.port
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
