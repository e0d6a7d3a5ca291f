"""Formatting of metric figures for a ~30-column sidebar. Pure functions, no widgets."""

from __future__ import annotations

from typing import Any

from textual.content import Content

LABEL_WIDTH = 11
VALUE_WIDTH = 15

Row = tuple[str, str]  # (label, value); a label of "" with a value starting "#" is a section heading


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.1f} ms"


def count(value: int | None, estimated: bool = False) -> str:
    if value is None:
        return "—"
    return ("~" if estimated else "") + f"{value:,}"


def rate(value: float | None, estimated: bool = False) -> str:
    if value is None:
        return "—"
    return ("~" if estimated else "") + f"{value:,.1f} tok/s"


def cost(value: float | None, estimated: bool = False) -> str:
    """Six decimals for the sub-cent costs of single calls, fewer once it is real money."""
    if value is None:
        return "—"
    mark = "~" if estimated else ""
    if value == 0:
        return f"{mark}$0"
    if value < 0.01:
        return f"{mark}${value:.6f}"
    if value < 1:
        return f"{mark}${value:.4f}"
    return f"{mark}${value:,.2f}"


def live_rows(
    *, stream: bool, elapsed_ms: float | None, ttft_ms: float | None, chunks: int, tokens: int, tps: float | None,
    ttfb_ms: float | None = None, phase: str | None = None,
) -> list[Row]:
    rows: list[Row] = [
        ("", "#Live · streaming" if stream else "#Live · not streamed"),
        ("elapsed", ms(elapsed_ms)),
        ("TTFB", ms(ttfb_ms) if ttfb_ms is not None else "waiting…"),
        ("TTFT", ms(ttft_ms) if ttft_ms is not None else "waiting…"),
        ("chunks", count(chunks)),
        ("tokens", count(tokens, estimated=True)),
        ("speed", rate(tps, estimated=True)),
    ]
    if phase:
        rows.append(("", phase))  # on its own line: "HTTP 429 — retrying in 7 s (1/2)" is wider than a value
    return rows


def final_rows(metrics: dict[str, Any], *, status: str | None = None, finish_reason: str | None = None) -> list[Row]:
    estimated = metrics.get("usage_source") == "estimated"
    rows: list[Row] = [
        ("", "#Timing"),
        ("TTFB", ms(metrics.get("ttfb_ms"))),
        ("TTFT", ms(metrics.get("ttft_ms"))),
        ("total", ms(metrics.get("total_ms"))),
        ("chunks", count(metrics.get("chunks"))),
        ("ITL p50", ms(metrics.get("itl_p50_ms"))),
        ("ITL p95", ms(metrics.get("itl_p95_ms"))),
        ("ITL max", ms(metrics.get("itl_max_ms"))),
        ("TPOT", ms(metrics.get("tpot_ms"))),
        ("decode", rate(metrics.get("decode_tps"), estimated)),
        ("", "#Tokens · estimated" if estimated else "#Tokens"),
        ("prompt", count(metrics.get("prompt_tokens"))),
        ("completion", count(metrics.get("completion_tokens"), estimated)),
        ("reasoning", count(metrics.get("reasoning_tokens"))),
        ("cached", count(metrics.get("cached_tokens"))),
        ("total", count(metrics.get("total_tokens"), estimated)),
        ("cost", cost(metrics.get("cost_usd"), estimated)),
        ("", "#Run"),
    ]
    if status:
        rows.append(("status", status))
    if finish_reason:
        rows.append(("finish", finish_reason))
    rows.append(("retries", count(metrics.get("retries"))))
    rows.append(("stream", "yes" if metrics.get("stream", True) else "no"))
    request_id = metrics.get("request_id")
    rows.append(("request id", "" if request_id else "—"))
    if request_id:
        rows.append(("", str(request_id)))  # on its own line: ids are longer than the column
    return rows


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
            style = "$text-warning" if value.startswith("~") else ""
            lines.append(
                Content.assemble((label.ljust(LABEL_WIDTH), "dim"), (value.rjust(VALUE_WIDTH), style))
            )
    return Content("\n").join(lines)
