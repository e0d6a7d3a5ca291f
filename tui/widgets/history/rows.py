"""How a saved run reads as one history row (pure functions, tested without a screen)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from core.store.models import Run

COLUMNS = ("when", "model", "status", "ttft", "total", "tokens", "cost", "prompt")
PROMPT_WORDS = 8


def when(created_at: datetime, now: datetime | None = None) -> str:
    """Local time; the date only when it is not today."""
    moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=timezone.utc)
    local = moment.astimezone()
    today = (now or datetime.now().astimezone()).date()
    return local.strftime("%H:%M:%S") if local.date() == today else local.strftime("%m-%d %H:%M")


def milliseconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def tokens(metrics: dict[str, Any]) -> str:
    prompt, completion = metrics.get("prompt_tokens"), metrics.get("completion_tokens")
    if prompt is None and completion is None:
        return "–"
    mark = "~" if metrics.get("usage_source") == "estimated" else ""
    return f"{mark}{prompt or 0}+{completion or 0}"


def cost(metrics: dict[str, Any]) -> str:
    value = metrics.get("cost_usd")
    if not isinstance(value, (int, float)):
        return "–"
    if value == 0:
        return "$0"
    # Demo and small calls cost fractions of a cent: keep two significant digits visible.
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}" if value < 1 else f"${value:.2f}"


def status(run: Run) -> str:
    label = run.status if run.status != "error" else (run.error_type or "error")
    return f"{label} ⇄" if run.group_id else label  # ⇄: part of a comparison


def prompt_words(request: dict[str, Any]) -> str:
    text = ""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            text = str(message.get("content") or "")
            break
    words = text.split()
    head = " ".join(words[:PROMPT_WORDS])
    return head + ("…" if len(words) > PROMPT_WORDS else "")


def row(run: Run) -> tuple[str, ...]:
    metrics = run.metrics or {}
    return (
        when(run.created_at),
        run.model_config_name,
        status(run),
        milliseconds(metrics.get("ttft_ms")),
        milliseconds(metrics.get("total_ms")),
        tokens(metrics),
        cost(metrics),
        prompt_words(run.request or {}),
    )
