"""Formatting of metric figures for a ~30-column sidebar. Pure functions, no widgets."""

from __future__ import annotations

from typing import Any

from textual.content import Content

from tui import format as fmt

LABEL_WIDTH = 11
VALUE_WIDTH = 15

Row = tuple[str, str]  # (label, value); a label of "" with a value starting "#" is a section heading


def live_rows(
    *, stream: bool, elapsed_ms: float | None, ttft_ms: float | None, chunks: int, tokens: int, tps: float | None,
    ttfb_ms: float | None = None, phase: str | None = None, decode_ms: float | None = None,
) -> list[Row]:
    rows: list[Row] = [
        ("", "#Live · streaming" if stream else "#Live · not streamed"),
        ("elapsed", fmt.duration(elapsed_ms)),
        ("TTFB", fmt.duration(ttfb_ms) if ttfb_ms is not None else "waiting…"),
        ("TTFT", fmt.duration(ttft_ms) if ttft_ms is not None else "waiting…"),
        ("chunks", fmt.tokens(chunks)),
        ("tokens", fmt.tokens(tokens, estimated=True)),
        ("speed", fmt.rate(tps, estimated=True, chunks=chunks, decode_ms=decode_ms)),
    ]
    if phase:
        rows.append(("", phase))  # on its own line: "HTTP 429 — retrying in 7 s (1/2)" is wider than a value
    return rows


def final_rows(metrics: dict[str, Any], *, status: str | None = None, finish_reason: str | None = None) -> list[Row]:
    estimated = fmt.usage_estimated(metrics)
    rows: list[Row] = [
        ("", "#Timing"),
        ("TTFB", fmt.duration(metrics.get("ttfb_ms"))),
        ("TTFT", fmt.duration(metrics.get("ttft_ms"))),
        ("total", fmt.duration(metrics.get("total_ms"))),
        ("chunks", fmt.tokens(metrics.get("chunks"))),
        ("ITL p50", fmt.duration(metrics.get("itl_p50_ms"))),
        ("ITL p95", fmt.duration(metrics.get("itl_p95_ms"))),
        ("ITL max", fmt.duration(metrics.get("itl_max_ms"))),
        ("TPOT", fmt.duration(metrics.get("tpot_ms"))),
        ("decode", fmt.decode_rate(metrics)),
        ("", "#Tokens · ~ estimated" if estimated else "#Tokens"),
        ("prompt", fmt.tokens(metrics.get("prompt_tokens"))),
        ("completion", fmt.tokens(metrics.get("completion_tokens"), estimated)),
        ("reasoning", fmt.tokens(metrics.get("reasoning_tokens"), bool(metrics.get("reasoning_estimated")))),
        ("cached", fmt.tokens(metrics.get("cached_tokens"))),
        ("total", fmt.tokens(metrics.get("total_tokens"), estimated)),
        ("cost", fmt.cost(metrics.get("cost_usd"), estimated)),
        ("", "#Run"),
    ]
    if status:
        rows.append(("status", status))
    if finish_reason:
        rows.append(("finish", finish_reason))
    rows.append(("retries", fmt.tokens(metrics.get("retries"))))
    rows.append(("stream", "yes" if metrics.get("stream", True) else "no"))
    request_id = metrics.get("request_id")
    rows.append(("request id", "" if request_id else "—"))
    if request_id:
        rows.append(("", _fit(str(request_id), LABEL_WIDTH + VALUE_WIDTH)))  # on its own line: ids are long
    return rows


def _fit(text: str, width: int) -> str:
    """One line of the column: a longer id keeps its head and tail (the full one is in F9's JSON)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def render_rows(rows: list[Row]) -> Content:
    lines: list[Content] = []
    for label, value in rows:
        if not label and value.startswith("#"):
            if lines:
                lines.append(Content(""))
            lines.append(Content.styled(value[1:], "bold $accent"))
        elif not label:
            lines.append(Content.styled(value, "dim"))
        else:
            style = "$text-warning" if value.startswith(fmt.ESTIMATED) else ""
            lines.append(
                Content.assemble((label.ljust(LABEL_WIDTH), "dim"), (value.rjust(VALUE_WIDTH), style))
            )
    return Content("\n").join(lines)
