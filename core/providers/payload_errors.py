"""Errors a provider reports inside a response body (a 200 that carries `error`, or an
error event mid-stream), read the same way for every protocol.

Each provider words its errors its own way — OpenAI `type`/`code`, Anthropic
`overloaded_error`, OpenRouter the HTTP status it would have sent as `code` and the
upstream's own text in `metadata.raw`, the Responses API `code` on `response.failed`.
One reading maps them all to the same error_type words, so "overloaded" means the
same thing whichever provider said it, and the message names the provider's own words.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.providers import base
from core.providers.base import ProviderError
from core.providers.http import status_error_type

RAW_DETAIL_CHARS = 500  # an upstream's raw error can be a whole JSON document
SHAPELESS_CHARS = 300  # an error with no message: this much of it, as sent

# Substrings of a provider's error words, most specific first.
_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("overload",), base.OVERLOADED),
    (("rate_limit", "rate limit", "too_many_requests"), base.RATE_LIMIT),
    (("authentication", "permission", "invalid_api_key", "unauthorized", "forbidden"), base.AUTH),
    (("not_found",), base.NOT_FOUND),
    (("server_error", "api_error", "internal", "unavailable"), base.SERVER),
    (("invalid_request", "invalid_prompt", "too_large", "context_length", "bad_request"), base.BAD_REQUEST),
)


def error_type_for(words: str, code: Any = None) -> str:
    """The error_type for a provider's error words (`type`, `code`), or an HTTP status in `code`."""
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return status_error_type(code, {"error": words})
    lowered = words.lower()
    for needles, error_type in _WORDS:
        if any(needle in lowered for needle in needles):
            return error_type
    return base.PROVIDER_ERROR


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def payload_error(error: Any, *, streamed: bool) -> ProviderError:
    """The ProviderError for an `error` object found in a body or stream."""
    where = "provider error in stream" if streamed else "provider error in response"
    if not isinstance(error, dict):
        return ProviderError(f"{where}: {_text(error)[:SHAPELESS_CHARS]}", base.PROVIDER_ERROR)
    kind, code = error.get("type"), error.get("code")
    own_words = [str(word) for word in (kind, code) if word not in (None, "") and not isinstance(word, bool)]
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = _text(message) if message else (own_words[0] if own_words else _text(error)[:SHAPELESS_CHARS])
    detail = upstream_detail(error)
    if detail:
        message += f" — {detail}"
    suffix = f" ({', '.join(own_words)})" if own_words else ""
    return ProviderError(f"{where}: {message}{suffix}", error_type_for(" ".join(own_words), code))


def upstream_detail(error: dict[str, Any]) -> str | None:
    """OpenRouter's real cause: `metadata.raw` (the upstream's own error), named by
    `metadata.provider_name`. Its top-level message is only "Provider returned error"."""
    metadata = error.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("raw") in (None, ""):
        return None
    raw = _text(metadata["raw"])
    if len(raw) > RAW_DETAIL_CHARS:
        raw = raw[:RAW_DETAIL_CHARS] + "…"
    provider = metadata.get("provider_name")
    return f"{provider}: {raw}" if isinstance(provider, str) and provider else raw
