"""The one protocol every provider adapter implements, and the errors they raise.

An adapter uses its SDK for what the SDK is good at (building the request, auth,
base URLs, retries, typed errors) and decodes the raw frames itself: the SDKs'
per-chunk model building is several times slower than the rest of the hot path.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Protocol, Sequence

from core.events import DeltaEvent
from core.request import ChatRequest
from core.response import ResponseBuilder
from core.store.models import ModelConfig

# error_type values (DESIGN.md leaves the words to us; these are the ones a user sees)
AUTH = "auth"
NOT_FOUND = "not_found"
RATE_LIMIT = "rate_limit"
OVERLOADED = "overloaded"
SERVER = "server_error"
BAD_REQUEST = "bad_request"
CONNECTION = "connection"
TIMEOUT = "timeout"
STREAM_CUT = "stream_cut"
MALFORMED = "malformed_chunk"
PROVIDER_ERROR = "provider_error"
MISSING_KEY = "missing_key"
UNSUPPORTED = "unsupported_param"
CANCELLED = "cancelled"
INTERNAL = "internal"
INTERRUPTED = "interrupted"  # its process died mid-run; marked on the next start
SAVE_FAILED = "save_failed"  # the run ended but the database would not take it (kept in unsaved/)


class ProviderError(Exception):
    """A failure a user should read as one line; carries what the error event needs."""

    def __init__(
        self,
        message: str,
        error_type: str,
        *,
        http_status: int | None = None,
        retry_after: str | None = None,
        request_id: str | None = None,
        send_log: SendLog | None = None,
        wire_body: str | None = None,
    ) -> None:
        # One line, whatever the server put in its error text: every consumer shows it as one.
        message = " ".join(message.split())
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.http_status = http_status
        self.retry_after = retry_after
        self.request_id = request_id
        self.send_log = send_log  # when the request went out, if it did (see SendLog)
        self.wire_body = wire_body  # an error response's body as sent, for the wire view


def require_text(value: Any, what: str) -> None:
    """Decoders check a frame's text fields: a number there would only fail later, when
    the answer is joined (in the runner or the UI), far from the frame that caused it.
    Raises TypeError, which `feed` reports as a malformed chunk."""
    if type(value) is not str:
        raise TypeError(f"{what} is {type(value).__name__}, not a string")


@dataclass(slots=True)
class SendLog:
    """When the request was handed to the transport, and how often.

    Stamped by the HTTP client's event hooks (`core.providers.http.timed_http_client`),
    so t0 excludes the SDK's own request building and first-call setup, and a retry
    (which inflates TTFT) is counted rather than hidden.
    """

    first_sent_at: float | None = None  # perf_counter, first attempt: the run's t0
    headers_at: float | None = None  # perf_counter, last response's headers
    sends: int = 0
    redirects: int = 0

    @property
    def retries(self) -> int:
        return max(self.sends - 1 - self.redirects, 0)


@dataclass(slots=True)
class Frame:
    """One SSE frame (or a whole non-streamed body), with when its bytes arrived."""

    at: float  # perf_counter
    raw: str  # the frame's text as on the wire, for the wire view
    event: str | None  # SSE `event:` field
    data: str  # SSE `data:` lines joined (or the whole body)


class Exchange(Protocol):
    """An HTTP response being read. Headers are in when the adapter hands it over.

    An exchange may also carry `send_log: SendLog`; without one the runner times
    the run from just before `open()`, which includes the SDK's setup."""

    status_code: int
    request_id: str | None
    retries: int

    def frames(self) -> AsyncIterator[Frame]: ...


class Decoder(Protocol):
    """Turns frames into deltas, feeding the response builder as it goes."""

    response: ResponseBuilder

    def feed(self, frame: Frame) -> Sequence[DeltaEvent]:
        """Raises ProviderError for an error payload or a malformed frame."""
        ...

    def finish(self) -> None:
        """Called when the body ended; raises ProviderError(STREAM_CUT) if it ended early."""
        ...


class ProviderAdapter(Protocol):
    def open(
        self, config: ModelConfig, request: ChatRequest, api_key: str | None, *, stream: bool
    ) -> AbstractAsyncContextManager[Exchange]:
        """Send the request; the context yields once response headers are in.
        Raises ProviderError for HTTP errors, connection failures and timeouts."""
        ...

    def decoder(self, request: ChatRequest, *, stream: bool) -> Decoder: ...

    def request_body(self, config: ModelConfig, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The JSON body this adapter sends (for history, 'copy as curl', and tests)."""
        ...

    def endpoint(self, config: ModelConfig) -> str:
        """The URL the request goes to."""
        ...
