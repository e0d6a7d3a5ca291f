"""How a saved run reads as one history row (pure functions, tested without a screen)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from core.store.models import Run
from tui import format as fmt

COLUMNS = ("when", "model", "mode", "status", "ttft", "total", "tokens", "cost", "part of", "prompt")
PROMPT_WORDS = 8


def when(created_at: datetime, now: datetime | None = None) -> str:
    """Local time alone today; with the date otherwise (and the year when it is not this one)."""
    moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=timezone.utc)
    local = moment.astimezone()
    today = (now or datetime.now().astimezone()).date()
    if local.date() == today:
        return local.strftime("%H:%M:%S")
    if local.year == today.year:
        return local.strftime("%b %d %H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def status(run: Run) -> str:
    return run.status if run.status != "error" else (run.error_type or "error")


def mode(run: Run) -> str:
    # A non-streamed run's TTFT is its total: without this column it reads as a slow stream.
    return "stream" if run.stream else "non-stream"


def part_of(run: Run) -> str:
    """What the run belongs to: a comparison (`c` reopens it) or a tool conversation."""
    if run.group_id:
        return "comparison"
    if run.parent_run_id:
        return "tool turn"
    return ""


def user_text(request: dict[str, Any]) -> str:
    """The request's last user message (the text of its parts, when it has parts)."""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content") or ""
            if isinstance(content, list):
                return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
            return str(content)
    return ""


def prompt_words(request: dict[str, Any]) -> str:
    words = user_text(request).split()
    head = " ".join(words[:PROMPT_WORDS])
    return head + ("…" if len(words) > PROMPT_WORDS else "")


def row(run: Run) -> tuple[str, ...]:
    metrics = run.metrics or {}
    return (
        when(run.created_at),
        run.model_config_name,
        mode(run),
        status(run),
        fmt.duration(metrics.get("ttft_ms")),
        fmt.duration(metrics.get("total_ms")),
        fmt.run_tokens(metrics),
        fmt.cost(metrics.get("cost_usd"), fmt.usage_estimated(metrics)),
        part_of(run),
        prompt_words(run.request or {}),
    )
