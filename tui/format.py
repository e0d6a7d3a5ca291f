"""How every figure reads, in the app and the CLI alike: times, rates, money, token counts.

One rule per kind of figure, so the sidebar, the compare views, history and the CLI
never disagree (12.3 s here and 12.35 s there). A figure that was estimated (tokens
guessed from characters because the provider sent no usage) carries one mark, a
leading `~`, everywhere; the help screen explains it. A missing figure is `—`.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"
ESTIMATED = "~"  # leads an estimated figure: "~812", "~$0.000123", "~41.2 tok/s"
ESTIMATED_MEANING = "~ marks an estimate: tokens counted from characters (≈ 4 a token), no usage from the provider"

# Fewer chunks or a shorter decode than this give a rate that means nothing (3 chunks in
# 0.1 ms read as 21,739 tok/s): no rate is shown for them.
MIN_RATE_CHUNKS = 5
MIN_RATE_DECODE_MS = 100.0


def _number(value: Any) -> float | None:
    # bool is an int: a stray True must not read as "1 ms"; NaN and infinities (old or
    # hostile rows) are not figures either.
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return None
    return float(value)


def _mark(estimated: bool) -> str:
    return ESTIMATED if estimated else ""


def duration(value_ms: Any) -> str:
    """A time in ms: "0.4 ms", "152 ms", "2.35 s", "12.3 s", "4 m 07 s"."""
    value = _number(value_ms)
    if value is None:
        return MISSING
    if value < 10:
        return f"{value:.1f} ms"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 10_000:
        return f"{value / 1000:.2f} s"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    minutes, seconds = divmod(round(value / 1000), 60)
    return f"{minutes} m {seconds:02d} s"


def tokens(value: Any, estimated: bool = False) -> str:
    """A token (or chunk) count with thousands separators: "~1,234"."""
    number = _number(value)
    return MISSING if number is None else f"{_mark(estimated)}{int(number):,}"


def cost(value_usd: Any, estimated: bool = False) -> str:
    """Six decimals for the sub-cent cost of one call, fewer once it is real money; "$0" is free."""
    value = _number(value_usd)
    if value is None:
        return MISSING
    mark = _mark(estimated)
    if value == 0:
        return f"{mark}$0"
    if value < 0.01:
        return f"{mark}${value:.6f}"
    if value < 1:
        return f"{mark}${value:.4f}"
    return f"{mark}${value:,.2f}"


def rate(value_tps: Any, estimated: bool = False, *, chunks: Any = None, decode_ms: Any = None) -> str:
    """Tokens a second ("41.2 tok/s"), or `—` for a burst too short to give a meaningful rate."""
    value = _number(value_tps)
    if value is None or not rate_meaningful(chunks, decode_ms):
        return MISSING
    return f"{_mark(estimated)}{value:,.1f} tok/s"


def rate_meaningful(chunks: Any, decode_ms: Any) -> bool:
    """Whether enough chunks over enough time arrived for a rate (unknown counts are given
    the benefit of the doubt: a non-streamed call has one "chunk" and no decode phase, and
    its rate is left to whoever computed it)."""
    count, span = _number(chunks), _number(decode_ms)
    if count is not None and count < MIN_RATE_CHUNKS:
        return False
    return not (span is not None and span < MIN_RATE_DECODE_MS)


def decode_ms_of(metrics: dict[str, Any]) -> float | None:
    """The time from the first token to the end of a finished run."""
    ttft, total = _number(metrics.get("ttft_ms")), _number(metrics.get("total_ms"))
    return None if ttft is None or total is None else max(total - ttft, 0.0)


def summary_rate(row: Any) -> str:
    """The rate cell of a comparison summary row (core.compare.SummaryRow)."""
    decode_ms = None if row.ttft_ms is None or row.total_ms is None else row.total_ms - row.ttft_ms
    return rate(row.decode_tps, row.usage_estimated, decode_ms=decode_ms)


def shown_rates(rows: list[Any]) -> list[Any]:
    """Summary rows with the rates that are not shown (too short a burst) taken out, so the
    "best" mark goes to a rate the user can read, never to a `—`."""
    from dataclasses import replace

    return [replace(row, decode_tps=None) if summary_rate(row) == MISSING else row for row in rows]


def usage_estimated(metrics: dict[str, Any]) -> bool:
    return metrics.get("usage_source") == "estimated"


def decode_rate(metrics: dict[str, Any]) -> str:
    """A finished run's decode tok/s, as the sidebar, compare summary and CLI show it."""
    return rate(
        metrics.get("decode_tps"), usage_estimated(metrics),
        chunks=metrics.get("chunks"), decode_ms=decode_ms_of(metrics),
    )  # fmt: skip


def run_tokens(metrics: dict[str, Any]) -> str:
    """"prompt+completion" in one cell: "~12+40"."""
    prompt, completion = _number(metrics.get("prompt_tokens")), _number(metrics.get("completion_tokens"))
    if prompt is None and completion is None:
        return MISSING
    return f"{_mark(usage_estimated(metrics))}{int(prompt or 0):,}+{int(completion or 0):,}"
