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
from core.providers.base import Frame, Limits, ProviderError, SendLog, limits_of
from core.providers.bounds import prepend, read_capped, until_deadline
from core.providers.netstamp import arrival_clock, stamp_reads
from core.providers.phases import current_phases
from core.providers.sse import iter_sse
from core.redact import scrubber

_CUT_STREAM_ERRORS = {"RemoteProtocolError", "ReadError", "IncompleteRead", "LocalProtocolError"}
_TIMEOUTS = {"ReadTimeout", "TimeoutException", "WriteTimeout", "PoolTimeout", "ConnectTimeout"}


_shared_tls: list[Any] = []  # one TLS context per process: building one costs ~25 ms


def _tls_context() -> Any:
    import httpx2

    return httpx2.create_ssl_context()


# Imported by the transport on its first connection: done ahead, so the first run's
# TTFT does not carry ~10 ms of imports.
_TRANSPORT_MODULES = ("anyio._backends._asyncio",)


# The SDKs import their optional aiohttp transport whenever aiohttp is installed (it is:
# textual-serve needs it) — ~0.1 s of every run's start, for a transport llmwb never
# uses. Marked absent, each SDK takes the path it has for "aiohttp not installed".
_UNUSED_SDK_MODULES = ("openai._vendor.httpx_aiohttp", "anthropic._vendor.httpx_aiohttp")


def _import_all(names: tuple[str, ...]) -> None:
    for unused in _UNUSED_SDK_MODULES:
        sys.modules.setdefault(unused, None)  # type: ignore[arg-type]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def import_sdks(*names: str) -> None:
    """Import provider SDKs now, as `load_sdk` would (the app warms them up)."""
    _import_all(names)


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


async def shared_tls_context() -> Any:
    """The process's one TLS context (httpx2's default: the system trust store), built
    off the event loop the first time; every client may share it."""
    await load_sdk("httpx2")
    return _shared_tls[0]


def timed_http_client(sdk: Any, timeout: Any, send_log: SendLog) -> Any:
    """The SDK's default async HTTP client (its limits, redirects and `timeout`), with
    event hooks that stamp `send_log` where the request meets the transport, and the
    shared TLS context once `load_sdk` has built it. `sdk` None: a plain
    httpx2.AsyncClient with the same hooks, for protocols no SDK here speaks (Ollama's).
    The hooks also report each attempt's phases to the run's PhaseLog
    (core.providers.phases), when it has one."""

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
                    phases.on_sent(clock())

            request.extensions["trace"] = trace

    async def on_response(response: Any) -> None:
        # When the bytes that completed the headers arrived (kernel-stamped), not now.
        now = send_log.headers_at = arrival_clock(response)()
        phases = current_phases.get()
        if phases is not None:
            # An error's body is read here: the SDK closes a response it retries unread,
            # and every attempt's answer is kept.
            body = await response.aread() if response.status_code >= 400 else None
            phases.on_headers(response, now, body)

    options: dict[str, Any] = {"timeout": timeout, "event_hooks": {"request": [on_request], "response": [on_response]}}
    if _shared_tls:
        options["verify"] = _shared_tls[0]
    if sdk is None:
        import httpx2

        return stamp_reads(httpx2.AsyncClient(follow_redirects=False, **options))
    return stamp_reads(sdk.DefaultAsyncHttpxClient(**options))


class SdkExchange:
    """An SDK's raw streaming response, read as frames stamped where the bytes arrive,
    within the run's caps and deadline (`SendLog.limits`, `deadline_at`), with the
    environment's key values scrubbed from every frame before anyone sees it."""

    def __init__(self, response: Any, *, stream: bool, send_log: SendLog | None = None) -> None:
        self._http = response.http_response
        headers = self._http.headers
        self._stream = stream
        self._content_type: str = headers.get("content-type", "")
        self.status_code: int = self._http.status_code
        self.request_id: str | None = headers.get("x-request-id") or headers.get("request-id")
        self.send_log = send_log
        self.retries: int = send_log.retries if send_log else int(getattr(response, "retries_taken", 0) or 0)
        self._read_timeout = _read_timeout_of(self._http)
        self._limits = send_log.limits if send_log else Limits()
        self._deadline_at = send_log.deadline_at if send_log else None
        self._scrub = scrubber()
        self._arrived = clock  # until frames() knows the connection

    async def frames(self) -> AsyncIterator[Frame]:
        chunks: AsyncIterator[bytes] = self._http.aiter_bytes()
        self._arrived = arrived = arrival_clock(self._http, self.send_log.headers_at if self.send_log else None)
        if self._deadline_at is not None:
            chunks = until_deadline(chunks, self._deadline_at)
        # The usual case straight to the SSE parser: one generator less per frame.
        if self._stream and "event-stream" in self._content_type.lower():
            source = iter_sse(chunks, self._limits, arrived)
        else:
            source = self._unlabelled(chunks)
        scrub = self._scrub
        try:
            async for frame in source:
                if scrub and scrub(frame.raw) is not frame.raw:  # a key in it: rare, so checked first
                    frame = Frame(frame.at, scrub(frame.raw), frame.event, scrub(frame.data))
                yield frame
        except ProviderError:
            raise
        except Exception as exc:  # transport failures half-way through the body
            raise map_transport_error(exc, read_timeout=self._read_timeout) from exc

    async def _unlabelled(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[Frame]:
        """A body not labelled as an event stream: JSON, mislabelled SSE, or a page."""
        content_type = self._content_type.lower()
        first = b""
        if "json" not in content_type:
            # Not what was asked for by its label: SSE mislabelled (text/plain, none) is
            # common; an HTML page (a proxy, a login portal) is the other usual answer.
            async for first in chunks:
                if first.strip():
                    break
            if self._stream and not first.lstrip().startswith((b"<", b"{", b"[")):
                async for frame in iter_sse(prepend(first, chunks), self._limits, self._arrived):
                    yield frame
                return
        # A server may answer a streamed request with one JSON body (an error, or a
        # server that ignores `stream`): read it whole rather than find no SSE frames.
        body = await read_capped(prepend(first, chunks), self._limits.max_response_bytes)
        text = body.decode("utf-8", errors="replace")
        if "json" in content_type or body.lstrip().startswith((b"{", b"[")):
            yield Frame(at=self._arrived(), raw=text, event=None, data=text)
            return
        # Kept as a frame without data (so no decoder reads it), then said plainly.
        yield Frame(at=self._arrived(), raw=text, event=None, data="")
        raise not_what_was_asked(self._content_type, text, "an event stream" if self._stream else "JSON")


def not_what_was_asked(content_type: str, body: str, expected: str) -> ProviderError:
    """A body that is not the format asked for (a proxy's or a login portal's page),
    named by its label and its first line so the user sees who answered."""
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "an empty body")
    return ProviderError(
        f"the server answered with {content_type or 'no content type'}, not {expected}: {first_line[:200]}",
        base.MALFORMED,
    )


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
        return ProviderError(f"connection closed before the response ended ({str(exc) or type(exc).__name__})", base.STREAM_CUT)
    return ProviderError(f"{type(exc).__name__}: {exc}", base.CONNECTION)


def _error_message_from_body(body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            from core.providers.payload_errors import upstream_detail  # it imports this module

            detail = upstream_detail(error)
            return str(error["message"]) + (f" — {detail}" if detail else "")
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
    """The server's wait hint in seconds. `retry-after-ms` (OpenAI, Azure) is the finer
    of the two when both are sent, and is milliseconds: never passed on as seconds."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            seconds = float(milliseconds) / 1000
        except ValueError:
            seconds = -1.0
        if 0 <= seconds < float("inf"):
            return f"{seconds:g}"
    return headers.get("retry-after")


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


NO_KEY = "not-needed"  # what the SDKs are given (and send) for a model without a key


def _sent_a_key(response: Any) -> bool:
    """Whether the request carried credentials (a model without a key variable sends none,
    and "check the API key" would send its user looking for one that does not exist)."""
    try:
        headers = response.request.headers
    except (AttributeError, RuntimeError):  # no request attached: assume the usual case
        return True
    token = headers.get("authorization", "").removeprefix("Bearer").strip()
    keys = (headers.get("x-api-key", ""), headers.get("api-key", ""), token)
    return any(key and key != NO_KEY for key in keys)


def status_error(response: Any, body: Any = None) -> ProviderError:
    """The one-line error for an HTTP error response (an httpx2.Response, read), shared by
    the adapters and by model discovery so both say the same thing for the same status."""
    status = response.status_code
    if 300 <= status < 400:
        return redirect_error(response)
    if body is None:
        try:
            body = orjson.loads(response.content)
        except Exception:
            body = None
    error_type = status_error_type(status, body)
    detail = _error_message_from_body(body, response.reason_phrase or "")
    retry_after = _retry_after(response.headers)
    message = f"HTTP {status} {_STATUS_WORDS[error_type]}" + (f": {detail}" if detail else " (no message in the answer)")
    if error_type == base.AUTH:
        message += " (check the API key)" if _sent_a_key(response) else " (no API key was sent: set the model's key variable)"
    if retry_after:
        message += f" ({_retry_after_words(retry_after)})"
    request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
    return ProviderError(
        message, error_type, http_status=status, retry_after=retry_after, request_id=request_id,
        wire_body=_body_text(response),
    )  # fmt: skip


def redirect_error(response: Any) -> ProviderError:
    """A redirect is never followed: the request carries a key, and a key goes only to
    the configured address. Naming the target lets the user set it as the base URL."""
    location = response.headers.get("location")
    try:
        target = str(response.url.join(location)) if location else None
    except Exception:  # a Location that is no URL at all is named as sent
        target = location
    where = f"to {target}" if target else "without a location"
    return ProviderError(
        f"HTTP {response.status_code} redirect {where}: not followed, so the API key is sent "
        "only to the configured base URL (set the base URL to the new address if it is right)",
        base.REDIRECT, http_status=response.status_code,
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

    limits = limits_of(params)
    sdk = await load_sdk(sdk_name, submodule)  # ~1 s to import: only when a run needs it
    timeout = httpx2.Timeout(config.timeout) if config.timeout else sdk.DEFAULT_TIMEOUT
    send_log.limits = limits
    send_log.deadline_at = clock() + limits.deadline_for(config.timeout)
    http_client = timed_http_client(sdk, timeout, send_log)
    # The SDKs follow redirects, re-sending the key (x-api-key survives a change of host).
    http_client.follow_redirects = False
    client = getattr(sdk, client_class)(
        api_key=api_key or NO_KEY,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries_of(params, sdk.DEFAULT_MAX_RETRIES),
        http_client=http_client,
    )
    if hasattr(client, "organization") and not _is_openai_host(base_url):
        # Read from OPENAI_ORG_ID / OPENAI_PROJECT_ID when not given: they name an
        # OpenAI account, and are nobody else's business.
        client.organization = client.project = None
    _announce_retries(client)
    return client


def _is_openai_host(base_url: str) -> bool:
    import httpx2

    try:
        url = httpx2.URL(base_url)
    except Exception:
        return False
    return url.scheme == "https" and url.host == "api.openai.com"


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
