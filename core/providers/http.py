"""What the SDK-based adapters share: loading an SDK off the event loop, an HTTP
client that stamps when the request meets the transport (t0, retries), the
exchange over an SDK raw response, and the mapping of the SDKs' typed errors to
one-line messages.

openai 3.x and anthropic 2.x are generated from one template, so their error
classes have the same names and shapes; matching on the class names keeps this
module free of either import.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import Any, AsyncIterator

import orjson

from core.metrics import clock
from core.providers import base
from core.providers.base import Frame, ProviderError, SendLog
from core.providers.phases import current_phases
from core.providers.sse import iter_sse

_CUT_STREAM_ERRORS = {"RemoteProtocolError", "ReadError", "IncompleteRead", "LocalProtocolError"}
_TIMEOUTS = {"ReadTimeout", "TimeoutException", "WriteTimeout", "PoolTimeout", "ConnectTimeout"}


_shared_tls: list[Any] = []  # one TLS context per process: building one costs ~25 ms


def _tls_context() -> Any:
    import httpx2

    return httpx2.create_ssl_context()


# Imported by the transport on its first connection: done ahead, so the first run's
# TTFT does not carry ~10 ms of imports.
_TRANSPORT_MODULES = ("anyio._backends._asyncio",)


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


async def load_sdk(module_name: str, *also: str) -> Any:
    """Import a provider SDK (about a second the first time; `also`: its submodules a
    call needs) and build the shared TLS context, off the event loop so a UI keeps
    drawing while the first run starts."""
    wanted = (module_name, *also, *_TRANSPORT_MODULES)
    if any(name not in sys.modules for name in wanted):
        await asyncio.to_thread(_import_all, wanted)
    if not _shared_tls:
        context = await asyncio.to_thread(_tls_context)
        if not _shared_tls:
            _shared_tls.append(context)
    return sys.modules[module_name]


# The transport's trace events that mean "the request's last byte is written".
_SENT_TRACES = {"http11.send_request_body.complete", "http2.send_request_body.complete"}


def timed_http_client(sdk: Any, timeout: Any, send_log: SendLog) -> Any:
    """The SDK's default async HTTP client (its limits, redirects and `timeout`), with
    event hooks that stamp `send_log` where the request meets the transport, and the
    shared TLS context once `load_sdk` has built it. The hooks also report each
    attempt's phases to the run's PhaseLog (core.providers.phases), when it has one."""

    async def on_request(request: Any) -> None:
        now = clock()
        if send_log.first_sent_at is None:
            send_log.first_sent_at = now
        send_log.sends += 1
        phases = current_phases.get()
        if phases is not None:
            phases.on_send(request, now)

            async def trace(name: str, _info: Any) -> None:
                if name in _SENT_TRACES:
                    phases.on_sent()

            request.extensions["trace"] = trace

    async def on_response(response: Any) -> None:
        now = send_log.headers_at = clock()
        if response.has_redirect_location:
            send_log.redirects += 1
        phases = current_phases.get()
        if phases is not None:
            # An error's body is read here: the SDK closes a response it retries unread,
            # and every attempt's answer is kept.
            body = await response.aread() if response.status_code >= 400 else None
            phases.on_headers(response, now, body)

    options: dict[str, Any] = {"timeout": timeout, "event_hooks": {"request": [on_request], "response": [on_response]}}
    if _shared_tls:
        options["verify"] = _shared_tls[0]
    return sdk.DefaultAsyncHttpxClient(**options)


class SdkExchange:
    """An SDK's raw streaming response, read as frames stamped where the bytes arrive."""

    def __init__(self, response: Any, *, stream: bool, send_log: SendLog | None = None) -> None:
        self._http = response.http_response
        headers = self._http.headers
        # A server may answer a streamed request with one JSON body (an error, or a
        # server that ignores `stream`): read it whole rather than find no SSE frames.
        self._sse = stream and "json" not in headers.get("content-type", "")
        self.status_code: int = self._http.status_code
        self.request_id: str | None = headers.get("x-request-id") or headers.get("request-id")
        self.send_log = send_log
        self.retries: int = send_log.retries if send_log else int(getattr(response, "retries_taken", 0) or 0)
        self._read_timeout = _read_timeout_of(self._http)

    async def frames(self) -> AsyncIterator[Frame]:
        try:
            if self._sse:
                async for frame in iter_sse(self._http.aiter_bytes()):
                    yield frame
            else:
                body = await self._http.aread()
                text = body.decode("utf-8", errors="replace")
                yield Frame(at=clock(), raw=text, event=None, data=text)
        except ProviderError:
            raise
        except Exception as exc:  # transport failures half-way through the body
            raise map_transport_error(exc, read_timeout=self._read_timeout) from exc


def _read_timeout_of(http_response: Any) -> float | None:
    try:
        return http_response.request.extensions["timeout"]["read"]
    except (AttributeError, KeyError, TypeError, RuntimeError):
        return None


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def map_transport_error(exc: BaseException, *, read_timeout: float | None = None) -> ProviderError:
    names = _class_names(exc)
    if names & _TIMEOUTS:
        waited = f"no data for {read_timeout:g} s" if read_timeout else "read timeout"
        return ProviderError(f"timed out waiting for data from the server ({waited})", base.TIMEOUT)
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


def _body_text(response: Any) -> str | None:
    try:
        return response.text
    except Exception:  # a body that was never read (closed early) has no text
        return None


def _retry_after(headers: Any) -> str | None:
    """The server's wait hint in seconds (`retry-after`, or `retry-after-ms`), as given."""
    value = headers.get("retry-after")
    if value is None and headers.get("retry-after-ms"):
        try:
            value = f"{float(headers['retry-after-ms']) / 1000:g}"
        except ValueError:
            return None
    return value


def _retry_after_words(value: str) -> str:
    # Seconds, or an HTTP date as the server wrote it.
    try:
        float(value)
    except ValueError:
        return f"retry after {value}"
    return f"retry after {value} s"


def _timeout_words(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    try:
        limits = exc.request.extensions.get("timeout") or {}  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError for an unset request
        limits = {}
    if "ConnectTimeout" in _class_names(cause):
        seconds, what = limits.get("connect"), "could not connect"
    else:
        seconds, what = limits.get("read"), "no response"
    return f"{what} within {seconds:g} s" if isinstance(seconds, (int, float)) else what


def status_error(response: Any, body: Any = None) -> ProviderError:
    """The one-line error for an HTTP error response (an httpx2.Response, read), shared by
    the adapters and by model discovery so both say the same thing for the same status."""
    status = response.status_code
    if body is None:
        try:
            body = orjson.loads(response.content)
        except Exception:
            body = None
    error_type = status_error_type(status, body)
    detail = _error_message_from_body(body, response.reason_phrase or "")
    retry_after = _retry_after(response.headers)
    message = f"HTTP {status} {_STATUS_WORDS[error_type]}: {detail}"
    if error_type == base.AUTH:
        message += " (check the API key)"
    if retry_after:
        message += f" ({_retry_after_words(retry_after)})"
    request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
    return ProviderError(
        message, error_type, http_status=status, retry_after=retry_after, request_id=request_id,
        wire_body=_body_text(response),
    )  # fmt: skip


def map_sdk_error(exc: BaseException, endpoint: str, *, send_log: SendLog | None = None) -> ProviderError:
    """One line a user can act on, for whatever the SDK raised before the body began."""
    if isinstance(exc, ProviderError):
        error = exc
    else:
        error = _map_sdk_error(exc, endpoint)
    if send_log is not None and error.send_log is None:
        error.send_log = send_log
    return error


def _map_sdk_error(exc: BaseException, endpoint: str) -> ProviderError:
    names = _class_names(exc)
    if "APIStatusError" in names:
        return status_error(exc.response, getattr(exc, "body", None))  # type: ignore[attr-defined]
    if "APITimeoutError" in names or names & _TIMEOUTS:
        return ProviderError(f"timed out talking to {endpoint} ({_timeout_words(exc)})", base.TIMEOUT)
    if "APIConnectionError" in names:
        cause = exc.__cause__ or exc.__context__
        reason = str(cause) if cause and str(cause) else type(cause or exc).__name__
        return ProviderError(f"cannot connect to {endpoint}: {reason}", base.CONNECTION)
    return map_transport_error(exc)


def max_retries_of(params: dict[str, Any], default: int) -> int:
    """The SDK's retry count: a client option, from the config's params or the run's."""
    value = params.get("max_retries", default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProviderError(f"param max_retries must be a whole number >= 0, got {value!r}", base.BAD_REQUEST)
    return value


async def sdk_client(
    sdk_name: str,
    submodule: str,
    client_class: str,
    *,
    config: Any,
    params: dict[str, Any],
    api_key: str | None,
    base_url: str,
    send_log: SendLog,
) -> Any:
    """An SDK's async client set up the llmwb way: the config's timeout replacing both
    of the SDK's, its retry count, the timed transport, and the key always explicit —
    otherwise an SDK would pick up a key from the environment or a credentials file
    and send it to whatever base URL the config names."""
    import httpx2

    sdk = await load_sdk(sdk_name, submodule)  # ~1 s to import: only when a run needs it
    timeout = httpx2.Timeout(config.timeout) if config.timeout else sdk.DEFAULT_TIMEOUT
    client = getattr(sdk, client_class)(
        api_key=api_key or "not-needed",
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries_of(params, sdk.DEFAULT_MAX_RETRIES),
        http_client=timed_http_client(sdk, timeout, send_log),
    )
    _announce_retries(client)
    return client


def _announce_retries(client: Any) -> None:
    """Report each retry the SDK decides on, with the wait it chose. Both SDKs (one
    template) compute the wait in `_calculate_retry_timeout` right before sleeping;
    an SDK without it still retries, just unannounced."""
    compute = getattr(client, "_calculate_retry_timeout", None)
    if compute is None:
        return

    def announced(remaining_retries: int, options: Any, headers: Any) -> float:
        wait_s = compute(remaining_retries, options, headers)
        phases = current_phases.get()
        if phases is not None:
            max_retries = client.max_retries
            phases.on_retry(wait_s, max_retries - remaining_retries + 1, max_retries)
        return wait_s

    client._calculate_retry_timeout = announced
