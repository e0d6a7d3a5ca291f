"""Clock and recorder for one run: TTFT, ITL, TPOT, throughput, cost.

Names are the contract in DESIGN.md. Times are taken where bytes arrive, on the
monotonic `perf_counter` clock, never where a consumer draws them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

clock = time.perf_counter


def estimate_tokens(text: str) -> int:
    """Rough token count for providers that send no usage: ~4 characters a token."""
    return math.ceil(len(text) / 4) if text else 0


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list: always one of the observed values."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Prices:
    input: float = 0.0  # USD per million tokens
    cached_input: float | None = None
    output: float = 0.0

    def cost(self, prompt: int, cached: int, completion: int) -> float:
        """USD for a call. `prompt` counts every input token, the `cached` ones among
        them (OpenAI's convention; adapters normalise usage to it)."""
        cached_price = self.input if self.cached_input is None else self.cached_input
        uncached = max(prompt - cached, 0)
        return (uncached * self.input + cached * cached_price + completion * self.output) / 1_000_000


@dataclass
class MetricsRecorder:
    """Fed by the runner as bytes arrive; `finish()` turns it into the metrics dict."""

    stream: bool = True
    t0: float = 0.0
    headers_at: float | None = None
    first_delta_at: float | None = None
    last_delta_at: float | None = None
    last_byte_at: float | None = None
    chunks: int = 0
    retries: int = 0
    request_id: str | None = None
    gaps_ms: list[float] = field(default_factory=list)

    def start(self, at: float | None = None) -> None:
        """t0: when the request is handed to the transport (now, unless told)."""
        self.t0 = clock() if at is None else at

    def on_headers(self, at: float | None = None) -> None:
        self.headers_at = clock() if at is None else at

    def on_delta(self, at: float) -> None:
        """A content-bearing delta (text, reasoning or tool call) arrived at `at`."""
        last = self.last_delta_at
        if last is None:
            self.first_delta_at = at
        else:
            self.gaps_ms.append((at - last) * 1000.0)
        self.last_delta_at = at
        self.chunks += 1

    def elapsed_ms(self) -> float:
        return (clock() - self.t0) * 1000.0

    def ms(self, at: float | None) -> float | None:
        return None if at is None else round((at - self.t0) * 1000.0, 3)

    def finish(
        self,
        *,
        usage: dict[str, Any] | None,
        output_text: str,
        prices: Prices,
        prompt_text: str = "",
        reasoning_text: str = "",
        usage_note: str | None = None,
    ) -> dict[str, Any]:
        """The metrics dict. Without provider usage, tokens are estimated from the
        texts: `output_text` (everything generated), `prompt_text` (what was sent) and
        `reasoning_text` (the reasoning part of the output). `usage_note` says why the
        server's usage was not believed (`ResponseBuilder.set_usage`), if it was not."""
        end = self.last_byte_at if self.last_byte_at is not None else clock()
        total_ms = round((end - self.t0) * 1000.0, 3)
        # Non-streamed, the first content arrives with the last byte (if any arrived at all).
        ttft_ms = self.ms(self.first_delta_at) if self.stream or self.first_delta_at is None else total_ms
        gaps = sorted(self.gaps_ms)
        metrics: dict[str, Any] = {
            "ttfb_ms": self.ms(self.headers_at),
            "ttft_ms": ttft_ms,
            "total_ms": total_ms,
            "chunks": self.chunks,
            "itl_p50_ms": round(percentile(gaps, 0.5), 3) if gaps else None,
            "itl_p95_ms": round(percentile(gaps, 0.95), 3) if gaps else None,
            "itl_max_ms": round(gaps[-1], 3) if gaps else None,
        }

        if usage and _count(usage.get("completion_tokens")) is not None:
            prompt = _count(usage.get("prompt_tokens")) or 0
            completion = _count(usage["completion_tokens"]) or 0
            reasoning = _count(usage.get("reasoning_tokens")) or 0
            cached = _count(usage.get("cached_tokens")) or 0
            # Anthropic counts thinking inside output_tokens and reports no split: the thinking
            # streamed, so estimate its share (marked reasoning_estimated) rather than show 0.
            reasoning_estimated = not reasoning and bool(reasoning_text)
            if reasoning_estimated:
                reasoning = min(estimate_tokens(reasoning_text), completion)
            total = _count(usage.get("total_tokens")) or prompt + completion
            source = "provider"
        else:
            prompt = _count((usage or {}).get("prompt_tokens")) or estimate_tokens(prompt_text)
            completion = estimate_tokens(output_text)
            reasoning = estimate_tokens(reasoning_text)
            reasoning_estimated = bool(reasoning)
            cached = 0
            total = prompt + completion
            source = "estimated"

        tpot_ms, decode_tps = decode_rate(ttft_ms, total_ms, completion)
        metrics.update(
            tpot_ms=tpot_ms,
            decode_tps=decode_tps,
            prompt_tokens=prompt,
            completion_tokens=completion,
            reasoning_tokens=reasoning,
            reasoning_estimated=reasoning_estimated,
            cached_tokens=cached,
            total_tokens=total,
            usage_source=source,
            cost_usd=round(prices.cost(prompt, cached, completion), 10),
            output_chars=len(output_text),
            request_id=self.request_id,
            retries=self.retries,
            stream=self.stream,
        )
        if usage_note:
            metrics["usage_note"] = usage_note
        return metrics


def live_figures(recorder: MetricsRecorder, *, output_chars: int, retries: int = 0) -> dict[str, Any]:
    """Figures a UI shows while a run streams, from the recorder's stamps: TTFB, TTFT
    and chunks are the very values the final metrics will hold; tokens are estimated
    (chars / 4) and the speed is measured between stamps, first to last delta.
    Elapsed alone runs on: now − t0, on the core's clock."""
    tokens = math.ceil(output_chars / 4)
    ttft = recorder.ms(recorder.first_delta_at)
    last = recorder.ms(recorder.last_delta_at)
    rate = None
    if ttft is not None and last is not None and last > ttft and tokens > 1:
        rate = (tokens - 1) / (last - ttft) * 1000.0
    return {
        "elapsed_ms": recorder.elapsed_ms(),
        "ttfb_ms": recorder.ms(recorder.headers_at),
        "ttft_ms": ttft if recorder.stream else None,
        "last_delta_ms": last,
        "chunks": recorder.chunks,
        "tokens": tokens,
        "tps": rate,
        "retries": retries,
        "stream": recorder.stream,
    }


def _count(value: Any) -> int | None:
    # Usage reaches here checked (core.response.usage_problem); a value that is still
    # no count must cost the figure, never the run.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        return None
    return int(value)


def decode_rate(ttft_ms: float | None, total_ms: float, completion_tokens: int) -> tuple[float | None, float | None]:
    """(tpot_ms, decode_tps): the time per output token after the first, and its
    inverse as tokens a second. None when there is no decode window (non-streamed,
    one token, or no content)."""
    if ttft_ms is None or completion_tokens < 2:
        return None, None
    window_ms = total_ms - ttft_ms
    if window_ms <= 0:
        return None, None
    steps = completion_tokens - 1
    return round(window_ms / steps, 3), round(steps / window_ms * 1000.0, 2)
