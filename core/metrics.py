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


def _percentile(sorted_values: list[float], fraction: float) -> float:
    # Nearest-rank on the sorted gaps: exact for small samples, no interpolation surprises.
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Prices:
    input: float = 0.0  # USD per million tokens
    cached_input: float | None = None
    output: float = 0.0

    def cost(self, prompt: int, cached: int, completion: int) -> float:
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

    def start(self) -> None:
        self.t0 = clock()

    def on_headers(self) -> None:
        self.headers_at = clock()

    def on_bytes(self, at: float) -> None:
        self.last_byte_at = at

    def on_delta(self, at: float) -> None:
        """A content-bearing delta (text, reasoning or tool call) arrived at `at`."""
        if self.first_delta_at is None:
            self.first_delta_at = at
        else:
            self.gaps_ms.append((at - self.last_delta_at) * 1000.0)  # type: ignore[operator]
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
    ) -> dict[str, Any]:
        end = self.last_byte_at or clock()
        total_ms = round((end - self.t0) * 1000.0, 3)
        ttft_ms = self.ms(self.first_delta_at) if self.stream else total_ms
        if ttft_ms is None:
            ttft_ms = None
        metrics: dict[str, Any] = {
            "ttfb_ms": self.ms(self.headers_at),
            "ttft_ms": ttft_ms,
            "total_ms": total_ms,
            "chunks": self.chunks,
        }
        gaps = sorted(self.gaps_ms)
        metrics["itl_p50_ms"] = round(_percentile(gaps, 0.5), 3) if gaps else None
        metrics["itl_p95_ms"] = round(_percentile(gaps, 0.95), 3) if gaps else None
        metrics["itl_max_ms"] = round(gaps[-1], 3) if gaps else None

        if usage and usage.get("completion_tokens") is not None:
            prompt = int(usage.get("prompt_tokens") or 0)
            completion = int(usage.get("completion_tokens") or 0)
            reasoning = int(usage.get("reasoning_tokens") or 0)
            cached = int(usage.get("cached_tokens") or 0)
            total = int(usage.get("total_tokens") or prompt + completion)
            source = "provider"
        else:
            prompt = int((usage or {}).get("prompt_tokens") or 0)
            completion = estimate_tokens(output_text)
            reasoning = cached = 0
            total = prompt + completion
            source = "estimated"

        decode_window_ms = (total_ms - ttft_ms) if ttft_ms is not None else 0.0
        if completion > 1 and decode_window_ms > 0:
            metrics["tpot_ms"] = round(decode_window_ms / (completion - 1), 3)
            metrics["decode_tps"] = round((completion - 1) / decode_window_ms * 1000.0, 2)
        else:
            metrics["tpot_ms"] = None
            metrics["decode_tps"] = None
        metrics.update(
            prompt_tokens=prompt,
            completion_tokens=completion,
            reasoning_tokens=reasoning,
            cached_tokens=cached,
            total_tokens=total,
            usage_source=source,
            cost_usd=round(prices.cost(prompt, cached, completion), 8),
            output_chars=len(output_text),
            request_id=self.request_id,
            retries=self.retries,
            stream=self.stream,
        )
        return metrics

    def live(self, output_chars: int) -> dict[str, Any]:
        """Figures a UI may show while the stream is still running (estimated tokens)."""
        elapsed = self.elapsed_ms()
        tokens = estimate_tokens("x" * output_chars) if output_chars else 0
        ttft = self.ms(self.first_delta_at)
        rate = None
        if ttft is not None and elapsed > ttft and tokens > 1:
            rate = (tokens - 1) / (elapsed - ttft) * 1000.0
        return {"elapsed_ms": elapsed, "ttft_ms": ttft, "tokens": tokens, "tps": rate, "chunks": self.chunks}
