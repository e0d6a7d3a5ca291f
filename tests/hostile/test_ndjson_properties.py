"""Property-based tests of the NDJSON line splitter (Ollama's /api/chat): whatever the
TCP reads look like, the same lines come out; whatever the bytes are, the only failure
is the documented one (`too_large`, past a cap)."""

from __future__ import annotations

import asyncio

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from core.providers.base import Limits, ProviderError
from core.providers.ndjson import iter_ndjson

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
OBJECT = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=6), st.one_of(TEXT, st.integers(-(2**63), 2**63 - 1), st.booleans()), max_size=4)


async def _read(chunks: list[bytes], limits: Limits | None = None) -> list[str]:
    async def source():  # type: ignore[no-untyped-def]
        for chunk in chunks:
            yield chunk

    return [frame.data async for frame in iter_ndjson(source(), limits)]


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(body)) for cut in cuts} | {0, len(body)})
    return [body[a:b] for a, b in zip(points, points[1:])]


@settings(max_examples=200, deadline=None)
@given(st.lists(OBJECT, min_size=1, max_size=8), st.lists(st.integers(0, 2000), max_size=12), st.booleans())
def test_the_same_lines_whatever_the_reads(objects, cuts, terminated) -> None:  # type: ignore[no-untyped-def]
    lines = [orjson.dumps(obj).decode() for obj in objects]
    body = ("\n".join(lines) + ("\n" if terminated else "")).encode()
    # Cuts land anywhere, inside multi-byte characters too: each line is decoded whole.
    got = asyncio.run(_read(split_at(body, cuts)))
    assert got == lines
    assert [orjson.loads(line) for line in got] == objects


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=8), st.integers(1, 64))
def test_random_bytes_never_raise_but_too_large(body, cuts, cap) -> None:  # type: ignore[no-untyped-def]
    limits = Limits(max_frame_bytes=cap)
    try:
        got = asyncio.run(_read(split_at(body, cuts), limits))
    except ProviderError as error:
        assert error.error_type == "too_large"
    else:
        assert all(line and "\n" not in line for line in got)
