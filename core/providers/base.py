"""The one protocol every provider adapter implements, and the errors they raise.

An adapter uses its SDK for what the SDK is good at (building the request, auth,
base URLs, retries, typed errors) and decodes the raw frames itself: the SDKs'
per-chunk model building is several times slower than the rest of the hot path.
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Protocol, Sequence

import orjson

from core.events import DeltaEvent
from core.redact import redact, scrub
from core.request import ChatRequest
from core.response import ResponseBuilder

if TYPE_CHECKING:  # the table class loads SQLModel; `llmwb run` reads configs without it
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
TOO_LARGE = "too_large"  # the response passed a size cap (Limits); what arrived is kept
REDIRECT = "redirect"  # a 3xx: never followed, so a key goes nowhere but the configured host
INTERRUPTED = "interrupted"  # its process died mid-run; marked on the next start
SAVE_FAILED = "save_failed"  # the run ended but the database would not take it (kept in unsaved/)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one response, so a hostile or broken server cannot grow memory and
    the database without end, nor hold a run open forever. Each is a config (or run)
    param of the same name; they configure llmwb and are never sent to the server."""

    max_response_bytes: int = 64 * 1024 * 1024  # the whole body, as read off the socket
    max_frame_bytes: int = 8 * 1024 * 1024  # one SSE frame (one event, all its lines)
    max_frames: int = 200_000  # frames in one run
    # Seconds from the request going out to the body's end; None: the larger of
    # DEFAULT_DEADLINE_S and DEADLINE_TIMEOUTS × the config's (per-read) timeout.
    deadline: float | None = None

    def deadline_for(self, timeout: float | None) -> float:
        if self.deadline is not None:
            return self.deadline
        return max(DEFAULT_DEADLINE_S, DEADLINE_TIMEOUTS * (timeout or 0))


DEFAULT_DEADLINE_S = 600.0
DEADLINE_TIMEOUTS = 10


LIMIT_PARAMS = frozenset(Limits.__slots__)
# Params that configure llmwb or the SDK client, not the request body.
CLIENT_OPTIONS = frozenset({"max_retries", *LIMIT_PARAMS})


def limits_of(params: dict[str, Any]) -> Limits:
    """The caps a run's params ask for (defaults for the rest). Raises ProviderError
    (bad_request) for a value that is not a positive number."""
    chosen: dict[str, Any] = {}
    for name in LIMIT_PARAMS & params.keys():
        value = params[name]
        number_ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")
        if not number_ok or (name != "deadline" and value != int(value)):
            kind = "a number of seconds > 0" if name == "deadline" else "a whole number > 0"
            raise ProviderError(f"param {name} must be {kind}, got {value!r}", BAD_REQUEST)
        chosen[name] = float(value) if name == "deadline" else int(value)
    return Limits(**chosen)


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
        # Keys out: a server may quote the request's auth header back in its error.
        message = redact(" ".join(message.split()))
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.http_status = http_status
        self.retry_after = retry_after
        self.request_id = request_id
        self.send_log = send_log  # when the request went out, if it did (see SendLog)
        # an error response's body as sent (keys hidden), for the wire view
        self.wire_body = scrub(wire_body) if wire_body else wire_body


def load_json(data: str) -> Any:
    """A frame's JSON. orjson first (the hot path); what it refuses but JSON allows —
    integers beyond 64 bits, a 400-digit usage count — through the standard parser, so
    one odd number is judged where it sits rather than losing the whole chunk.
    Raises ValueError (orjson.JSONDecodeError is one) for text that is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        # Only for numbers: the standard parser also takes what orjson rightly refuses
        # (a lone surrogate, which no UTF-8 consumer downstream could write out).
        if "number" not in str(error):
            raise
        return json.loads(data, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def optional_text(value: Any, what: str) -> str | None:
    """A frame's optional text field (an id, a name, a finish reason): None or a string.
    Raises TypeError, which `feed` reports as a malformed chunk."""
    if value is None or type(value) is str:
        return value
    raise TypeError(f"{what} is {type(value).__name__}, not a string")


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
    # The caps on reading this request's response, and when (perf_counter) the whole
    # exchange must be over; set by `sdk_client` from the run's params.
    limits: Limits = field(default_factory=Limits)
    deadline_at: float | None = None

    @property
    def retries(self) -> int:
        # Every send after the first is a retry: redirects are never followed, so a
        # redirect answer is always an attempt's last (and the run's).
        return max(self.sends - 1, 0)


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
