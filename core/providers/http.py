"""What the SDK-based adapters share: the exchange over an SDK raw response, and
the mapping of the SDKs' typed errors to one-line messages.

openai 3.x and anthropic 2.x are generated from one template, so their error
classes have the same names and shapes; matching on the class names keeps this
module free of either import.
"""

from __future__ import annotations

from typing import Any, AsyncIterator

import orjson

from core.metrics import clock
from core.providers import base
from core.providers.base import Frame, ProviderError
from core.providers.sse import iter_sse

_CUT_STREAM_ERRORS = {"RemoteProtocolError", "ReadError", "IncompleteRead", "LocalProtocolError"}
_TIMEOUTS = {"ReadTimeout", "TimeoutException", "WriteTimeout", "PoolTimeout", "ConnectTimeout"}


class SdkExchange:
    """An SDK's raw streaming response, read as frames stamped where the bytes arrive."""

    def __init__(self, response: Any, *, stream: bool) -> None:
        self._response = response
        self._http = response.http_response
        self._stream = stream
        self.status_code: int = self._http.status_code
        headers = self._http.headers
        self.request_id: str | None = headers.get("x-request-id") or headers.get("request-id")
        self.retries: int = int(getattr(response, "retries_taken", 0) or 0)

    async def frames(self) -> AsyncIterator[Frame]:
        try:
            if self._stream:
                async for frame in iter_sse(self._http.aiter_bytes()):
                    yield frame
            else:
                body = await self._http.aread()
                text = body.decode("utf-8", errors="replace")
                yield Frame(at=clock(), raw=text, event=None, data=text)
        except ProviderError:
            raise
        except Exception as exc:  # transport failures half-way through the body
            raise map_transport_error(exc) from exc


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def map_transport_error(exc: BaseException) -> ProviderError:
    names = _class_names(exc)
    if names & _TIMEOUTS:
        return ProviderError("timed out waiting for data from the server (read timeout)", base.TIMEOUT)
    if names & _CUT_STREAM_ERRORS:
        return ProviderError(f"connection closed before the response ended ({exc or type(exc).__name__})", base.STREAM_CUT)
    return ProviderError(f"{type(exc).__name__}: {exc}", base.CONNECTION)


def _error_message_from_body(body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if body.get("message"):
            return str(body["message"])
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return fallback


def status_error_type(status: int, body: Any = None) -> str:
    if status in (401, 403):
        return base.AUTH
    if status == 404:
        return base.NOT_FOUND
    if status == 429:
        return base.RATE_LIMIT
    if status == 529 or (isinstance(body, dict) and "overloaded" in str(body.get("error", "")).lower()):
        return base.OVERLOADED
    if status >= 500:
        return base.SERVER
    return base.BAD_REQUEST


_STATUS_WORDS = {
    base.AUTH: "authentication failed",
    base.NOT_FOUND: "not found",
    base.RATE_LIMIT: "rate limited",
    base.OVERLOADED: "overloaded",
    base.SERVER: "server error",
    base.BAD_REQUEST: "request rejected",
}


def map_sdk_error(exc: BaseException, endpoint: str) -> ProviderError:
    """One line a user can act on, for whatever the SDK raised before the body began."""
    if isinstance(exc, ProviderError):
        return exc
    names = _class_names(exc)
    if "APIStatusError" in names:
        response = exc.response  # type: ignore[attr-defined]
        status = response.status_code
        body = getattr(exc, "body", None)
        if body is None:
            try:
                body = orjson.loads(response.content)
            except Exception:
                body = None
        error_type = status_error_type(status, body)
        detail = _error_message_from_body(body, getattr(exc, "message", "") or response.reason_phrase)
        retry_after = response.headers.get("retry-after")
        message = f"HTTP {status} {_STATUS_WORDS[error_type]}: {detail}"
        if error_type == base.AUTH:
            message += " (check the API key)"
        if retry_after:
            message += f" (retry after {retry_after} s)"
        return ProviderError(message, error_type, http_status=status, retry_after=retry_after)
    if "APITimeoutError" in names or names & _TIMEOUTS:
        return ProviderError(f"timed out talking to {endpoint}", base.TIMEOUT)
    if "APIConnectionError" in names:
        cause = exc.__cause__ or exc.__context__
        reason = f"{cause}" if cause else str(exc)
        return ProviderError(f"cannot connect to {endpoint}: {reason}", base.CONNECTION)
    return map_transport_error(exc)
