"""`generate: {kind: lorem_markdown, tokens: N, seed: S}` in a scenario: about N×4 characters
(SCENARIO_FORMAT.md), the same text for the same seed, and Markdown varied enough to exercise
a renderer — headings numbered in order, bullet and numbered lists, Python code fences, tables,
quotes and paragraphs of whole sentences with inline code and bold."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from core.simulator import scenario_from_dict
from core.simulator.textgen import lorem_markdown

SEEDS = range(40)
HEADING = re.compile(r"(#{2,3}) (\d+)\. [A-Z][a-z]+ and [a-z]+")
SENTENCE_END = re.compile(r"(?<=[.?!]) ")


def _generated(tokens: int, seed: int) -> str:
    return scenario_from_dict({"name": "long", "generate": {"kind": "lorem_markdown", "tokens": tokens, "seed": seed}}).text


def _parts(text: str) -> list[str]:
    assert text.endswith("\n") and not text.endswith("\n\n")
    return text[:-1].split("\n\n")  # blocks are apart by a blank line; none holds one


def _sentence_words(sentence: str, seen: Counter[str]) -> int:
    """Checks one sentence; returns its word count and notes its ending and markup in `seen`."""
    assert sentence[-1] in ".?!", sentence
    seen[sentence[-1]] += 1
    words = sentence[:-1].split(" ")
    assert all(words), sentence  # one space between words
    marked = [w for w in words if w.startswith(("`", "**"))]
    assert len(marked) <= 1, sentence
    for word in marked:
        seen["code" if re.fullmatch(r"`[a-z]+`", word) else "bold" if re.fullmatch(r"\*\*[a-z]+\*\*", word) else "odd markup"] += 1
    seen["plain" if not marked else "marked"] += 1
    if words[0] not in marked:  # a marked word is kept as it is, even first
        assert words[0][0].isupper() and words[0][1:].islower(), sentence
        seen[f"first {words[0].lower()}"] += 1
    for word in words[1:]:
        seen[f"word {word.strip('`*')}"] += 1
    assert all(w.strip("`*").islower() for w in words[1:]), sentence
    return len(words)


def _kind(block: str, seen: Counter[str]) -> str:
    lines = block.split("\n")
    if HEADING.fullmatch(block):
        return "heading"
    if block.startswith("```"):
        assert lines[0] == "```python" and lines[-1] == "```" and len(lines) >= 4, block
        return "code"
    if block.startswith("| name | time | note |\n| --- | ---: | --- |\n"):
        seen[f"rows {len(lines) - 2}"] += 1
        for row in lines[2:]:
            cells = re.fullmatch(r"\| ([a-z]+) \| (\d+) ms \| ([a-z]+) \|", row)
            assert cells is not None and 1 <= int(cells.group(2)) <= 999, row
        return "table"
    if block.startswith("- "):
        assert all(line.startswith("- ") for line in lines), block
        seen[f"bullets {len(lines)}"] += 1
        for line in lines:
            seen[f"words {_sentence_words(line[2:], seen)}"] += 1
        return "bullets"
    if block.startswith("1. "):
        assert [line.split(". ", 1)[0] for line in lines] == [str(i) for i in range(1, len(lines) + 1)], block
        seen[f"numbers {len(lines)}"] += 1
        for line in lines:
            seen[f"words {_sentence_words(line.split('. ', 1)[1], seen)}"] += 1
        return "numbers"
    if block.startswith("> "):
        assert len(lines) == 1, block
        seen[f"words {_sentence_words(block[2:], seen)}"] += 1
        return "quote"
    assert len(lines) == 1, block
    sentences = SENTENCE_END.split(block)
    seen[f"sentences {len(sentences)}"] += 1
    for sentence in sentences:
        seen[f"words {_sentence_words(sentence, seen)}"] += 1
    return "paragraph"


def test_the_same_seed_gives_the_same_text_and_another_seed_another() -> None:
    assert _generated(300, 7) == _generated(300, 7)
    assert _generated(300, 7) != _generated(300, 8)
    assert _generated(300, 0) == _generated(300, 0) == scenario_from_dict({"name": "x", "generate": {"tokens": 300}}).text


@pytest.mark.parametrize("tokens", [1, 50, 400, 2500])
def test_the_text_stops_at_the_first_block_that_reaches_tokens_times_four_characters(tokens: int) -> None:
    """Each block counts its characters and the blank line after it; the last block (with the
    heading that opens its section, if it opens one) brings the count to N×4: the text is never
    shorter, and never a block longer."""
    for seed in SEEDS:
        parts = _parts(_generated(tokens, seed))
        last = 2 if len(parts) > 1 and HEADING.fullmatch(parts[-2]) else 1
        counted = [len(part) + 2 for part in parts]
        assert sum(counted) >= tokens * 4 > sum(counted[:-last]), (seed, counted)


def test_the_markdown_has_every_kind_of_block_in_numbered_sections() -> None:
    seen: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for seed in SEEDS:
        parts = _parts(_generated(800, seed))
        assert HEADING.fullmatch(parts[0]), parts[0]  # every text opens with section 1
        sections = [HEADING.fullmatch(p) for p in parts if HEADING.fullmatch(p)]
        assert [int(s.group(2)) for s in sections] == list(range(1, len(sections) + 1))  # type: ignore[union-attr]
        levels.update(s.group(1) for s in sections)  # type: ignore[union-attr]
        blocks = [_kind(part, seen) for part in parts]
        kinds.update(blocks)
        pairs = list(zip(blocks, blocks[1:]))
        assert ("heading", "heading") not in pairs  # a heading always has a block under it
        kinds["block after block"] += sum(1 for a, b in pairs if "heading" not in (a, b))
    assert {kind for kind, count in kinds.items() if count} == {
        "heading", "paragraph", "bullets", "numbers", "code", "table", "quote", "block after block"
    }  # fmt: skip
    assert set(levels) == {"##", "###"}
    assert {"code", "bold", "plain", "marked", ".", "?", "!"} <= set(seen) and not seen["odd markup"]
    firsts = {key.split()[1] for key in seen if key.startswith("first ")}
    assert firsts <= {key.split()[1] for key in seen if key.startswith("word ")}  # a capital, not a changed word
    # the smallest and largest of each: sentences of 6-16 words, paragraphs of 2-5 sentences,
    # lists of 3-6 items, tables of 2-5 rows
    for name, low, high in (("words", 6, 16), ("sentences", 2, 5), ("bullets", 3, 6), ("numbers", 3, 6), ("rows", 2, 5)):
        counts = {int(key.split()[1]) for key in seen if key.startswith(name + " ")}
        assert min(counts) == low and max(counts) == high, (name, sorted(counts))
