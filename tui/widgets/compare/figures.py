"""How the compare views write figures (times, rates, money, token counts)."""

from __future__ import annotations


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.0f} ms"


def fmt_tps(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def fmt_cost(value: float | None) -> str:
    if value is None:
        return "–"
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def fmt_tokens(value: int | None, estimated: bool) -> str:
    if value is None:
        return "–"
    return f"~{value}" if estimated else str(value)
