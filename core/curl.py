"""A request as a `curl` command a user can paste into a shell.

The body and endpoint come from the same adapter code a run uses, so the command
sends what llmwb would send. The API key is never written out: the command refers
to the environment variable the config names, and the shell fills it in.
"""

from __future__ import annotations

import json
import re
import shlex

from core.providers.registry import resolve
from core.request import ChatRequest
from core.store.models import ModelConfig

# The version the anthropic SDK sends; the Messages API refuses calls without one.
ANTHROPIC_VERSION = "2023-06-01"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def as_curl(config: ModelConfig, request: ChatRequest) -> str:
    """`curl` for `request` on `config`, one option per line, key as `$ENV_VAR`."""
    resolved = resolve(config)
    adapter = resolved.adapter
    endpoint = adapter.endpoint(resolved.config)
    body = adapter.request_body(resolved.config, request, stream=request.stream)
    headers = ["Content-Type: application/json", *_auth_headers(config, resolved.protocol)]
    # -N: print each SSE frame as it arrives instead of buffering the stream.
    parts = [("curl -N " if request.stream else "curl ") + shlex.quote(endpoint)]
    # Double quotes so the shell expands $VAR; header text holds no other shell syntax.
    parts += [f'-H "{header}"' for header in headers]
    parts.append("-d " + shlex.quote(json.dumps(body, ensure_ascii=False, indent=2)))
    return " \\\n  ".join(parts)


def _auth_headers(config: ModelConfig, protocol: str) -> list[str]:
    key = _key_reference(config.api_key_env)
    if protocol == "anthropic":
        return ([f"x-api-key: {key}"] if key else []) + [f"anthropic-version: {ANTHROPIC_VERSION}"]
    return [f"Authorization: Bearer {key}"] if key else []


def _key_reference(env_name: str | None) -> str | None:
    if not env_name:
        return None
    if _ENV_NAME.match(env_name):
        return "$" + env_name
    # Not a name a shell can expand; a placeholder still never leaks the value.
    return "$API_KEY"
