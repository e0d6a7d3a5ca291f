"""A server's own account of a run (Ollama's durations, llama.cpp's `timings`), in one shape.

llmwb's figures are stamped where the bytes arrive; a local server also measures
itself (model load, prompt evaluation, decoding). Shown beside llmwb's figures,
the two answer "is my model slow, or still loading — or is the network slow?".
They are kept in `final_response.server_timings`, never mixed into the metrics
(whose names are a contract): what the server says is not what llmwb measured.

The normalised dict (every key optional but `source`):
  source          "ollama" | "llama.cpp"
  load_ms         model load before the prompt (Ollama's load_duration)
  prompt_tokens   prompt tokens the server evaluated (llama.cpp: not counting its cache hits)
  prompt_ms, prompt_tps
  decode_tokens, decode_ms, decode_tps
  total_ms        the server's whole handling (Ollama's total_duration)
"""

from __future__ import annotations

import math
from typing import Any

_NS_PER_MS = 1_000_000


def _number(value: Any) -> float | None:
    """A finite, non-negative number, or None: a server's figures are shown, never trusted blindly."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _count(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _rate(tokens: int | None, ms: float | None) -> float | None:
    if tokens is None or not ms:
        return None
    return round(tokens / ms * 1000.0, 2)


def _ms_of_ns(value: Any) -> float | None:
    number = _number(value)
    return None if number is None else round(number / _NS_PER_MS, 3)


def _clean(figures: dict[str, Any]) -> dict[str, Any] | None:
    kept = {key: value for key, value in figures.items() if value is not None}
    return kept if len(kept) > 1 else None  # `source` alone says nothing


def from_ollama(obj: dict[str, Any]) -> dict[str, Any] | None:
    """From the last line (`done: true`) of Ollama's /api/chat: durations in nanoseconds."""
    prompt_tokens, decode_tokens = _count(obj.get("prompt_eval_count")), _count(obj.get("eval_count"))
    prompt_ms, decode_ms = _ms_of_ns(obj.get("prompt_eval_duration")), _ms_of_ns(obj.get("eval_duration"))
    return _clean(
        {
            "source": "ollama",
            "load_ms": _ms_of_ns(obj.get("load_duration")),
            "prompt_tokens": prompt_tokens,
            "prompt_ms": prompt_ms,
            "prompt_tps": _rate(prompt_tokens, prompt_ms),
            "decode_tokens": decode_tokens,
            "decode_ms": decode_ms,
            "decode_tps": _rate(decode_tokens, decode_ms),
            "total_ms": _ms_of_ns(obj.get("total_duration")),
        }
    )


def from_llamacpp(timings: Any) -> dict[str, Any] | None:
    """From llama-server's `timings` object (milliseconds already)."""
    if not isinstance(timings, dict):
        return None
    prompt_tokens, decode_tokens = _count(timings.get("prompt_n")), _count(timings.get("predicted_n"))
    prompt_ms, decode_ms = _number(timings.get("prompt_ms")), _number(timings.get("predicted_ms"))
    prompt_tps = _number(timings.get("prompt_per_second"))
    decode_tps = _number(timings.get("predicted_per_second"))
    return _clean(
        {
            "source": "llama.cpp",
            "prompt_tokens": prompt_tokens,
            "prompt_ms": prompt_ms,
            "prompt_tps": round(prompt_tps, 2) if prompt_tps is not None else _rate(prompt_tokens, prompt_ms),
            "decode_tokens": decode_tokens,
            "decode_ms": decode_ms,
            "decode_tps": round(decode_tps, 2) if decode_tps is not None else _rate(decode_tokens, decode_ms),
            "total_ms": round(prompt_ms + decode_ms, 3) if prompt_ms is not None and decode_ms is not None else None,
        }
    )


def _duration(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


def server_says(timings: Any) -> str | None:
    """One line, e.g. "load 1.2 s, prompt 80 ms, decode 41 tok/s" — None when there is nothing."""
    if not isinstance(timings, dict):
        return None
    parts: list[str] = []
    if timings.get("load_ms") is not None:
        parts.append(f"load {_duration(timings['load_ms'])}")
    if timings.get("prompt_ms") is not None:
        parts.append(f"prompt {_duration(timings['prompt_ms'])}")
    if timings.get("decode_tps") is not None:
        parts.append(f"decode {timings['decode_tps']:.0f} tok/s")
    elif timings.get("decode_ms") is not None:
        parts.append(f"decode {_duration(timings['decode_ms'])}")
    return ", ".join(parts) or None


def server_rows(timings: Any) -> list[tuple[str, str]]:
    """(label, value) pairs for a narrow column: load, prompt, decode speed, total."""
    if not isinstance(timings, dict):
        return []
    rows: list[tuple[str, str]] = []
    if timings.get("load_ms") is not None:
        rows.append(("load", _duration(timings["load_ms"])))
    if timings.get("prompt_ms") is not None:
        rows.append(("prompt", _duration(timings["prompt_ms"])))
    if timings.get("decode_tps") is not None:
        rows.append(("decode", f"{timings['decode_tps']:,.1f} tok/s"))
    elif timings.get("decode_ms") is not None:
        rows.append(("decode", _duration(timings["decode_ms"])))
    if timings.get("total_ms") is not None:
        rows.append(("total", _duration(timings["total_ms"])))
    return rows


def _phase(timings: dict[str, Any], what: str) -> str | None:
    tokens, ms, tps = timings.get(f"{what}_tokens"), timings.get(f"{what}_ms"), timings.get(f"{what}_tps")
    if tokens is None and ms is None:
        return None
    text = what
    if tokens is not None:
        text += f" {tokens:,} tok"
    if ms is not None:
        text += f" in {_duration(ms)}"
    if tps is not None:
        text += f" ({tps:,.1f} tok/s)"
    return text


def server_details(timings: Any) -> str | None:
    """Every figure the server gave, on one line:
    "load 120 ms · prompt 12 tok in 455 ms (26.4 tok/s) · decode 56 tok in 1.3 s (44.2 tok/s) · total 1.8 s"."""
    if not isinstance(timings, dict):
        return None
    parts = []
    if timings.get("load_ms") is not None:
        parts.append(f"load {_duration(timings['load_ms'])}")
    parts.extend(part for part in (_phase(timings, "prompt"), _phase(timings, "decode")) if part)
    if timings.get("total_ms") is not None:
        parts.append(f"total {_duration(timings['total_ms'])}")
    return " · ".join(parts) or None
