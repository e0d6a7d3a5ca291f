"""Deterministic filler text for long scenarios (`generate:` in a scenario file).

Long outputs (demo-long, bench-20k) would be unwieldy to keep in YAML, and a
renderer needs *varied* Markdown to be exercised: headings, lists, code fences,
tables, quotes, inline markup. Same kind + tokens + seed -> the same text.
A "token" here is the simulator's usual estimate of 4 characters.
"""

from __future__ import annotations

import random

GENERATOR_KINDS = ("lorem_markdown",)

_WORDS = (
    "stream latency token buffer socket frame parser chunk request response header payload model "
    "server client window cursor render widget queue event loop timer metric budget delta usage "
    "prompt reasoning answer schema argument retry backoff timeout cache index record replay "
    "quick careful steady measured plain simple robust honest small large early late first last "
    "reads writes sends holds keeps drops checks counts parses splits joins waits yields returns"
).split()

_CODE_SNIPPETS = (
    "async def read_stream(response):\n"
    "    async for line in response.aiter_lines():\n"
    '        if line.startswith("data: "):\n'
    "            yield line[6:]",
    "def percentile(values, q):\n"
    "    ordered = sorted(values)\n"
    "    index = round(q * (len(ordered) - 1))\n"
    "    return ordered[index]",
    "for chunk in chunks:\n"
    "    buffer.append(chunk)\n"
    "    if len(buffer) > limit:\n"
    "        flush(buffer)\n"
    "        buffer.clear()",
)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 16))]
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = f"`{words[i]}`" if rng.random() < 0.5 else f"**{words[i]}**"
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "?", "!"))


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))


def _block(rng: random.Random) -> str:
    kind = rng.choice(("paragraph", "paragraph", "bullets", "numbers", "code", "table", "quote"))
    if kind == "bullets":
        return "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(3, 6)))
    if kind == "numbers":
        return "\n".join(f"{i}. {_sentence(rng)}" for i in range(1, rng.randint(3, 6) + 1))
    if kind == "code":
        return "```python\n" + rng.choice(_CODE_SNIPPETS) + "\n```"
    if kind == "table":
        rows = [
            f"| {rng.choice(_WORDS)} | {rng.randint(1, 999)} ms | {rng.choice(_WORDS)} |" for _ in range(rng.randint(2, 5))
        ]
        return "| name | time | note |\n| --- | ---: | --- |\n" + "\n".join(rows)
    if kind == "quote":
        return "> " + _sentence(rng)
    return _paragraph(rng)


def lorem_markdown(tokens: int, seed: int = 0) -> str:
    """Varied Markdown of about `tokens` * 4 characters (never shorter)."""
    rng = random.Random(seed)
    target_chars = tokens * 4
    parts: list[str] = []
    length = 0
    section = 0
    while length < target_chars:
        if section == 0 or rng.random() < 0.15:
            section += 1
            level = "#" * rng.choice((2, 2, 3))
            heading = f"{level} {section}. {rng.choice(_WORDS).capitalize()} and {rng.choice(_WORDS)}"
            parts.append(heading)
            length += len(heading) + 2
        block = _block(rng)
        parts.append(block)
        length += len(block) + 2
    return "\n\n".join(parts) + "\n"


def generate_text(kind: str, tokens: int, seed: int = 0) -> str:
    if kind == "lorem_markdown":
        return lorem_markdown(tokens, seed)
    raise ValueError(f"unknown generator kind {kind!r} (known: {', '.join(GENERATOR_KINDS)})")
