"""A body read whole stops at its size cap — a body of exactly the cap is read, one byte
more is refused in words naming the param — and the deadline's message says what it was
waiting for and that what arrived is kept."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from core.providers.base import ProviderError
from core.providers.bounds import deadline_passed, read_capped


async def pieces(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_a_body_of_exactly_the_cap_is_read_whole_in_order():
    assert await read_capped(pieces(b"ab", b"", b"cd"), 4) == b"abcd"


async def test_one_byte_over_the_cap_is_refused_naming_the_param():
    with pytest.raises(ProviderError) as caught:
        await read_capped(pieces(b"ab", b"cde"), 4)
    assert caught.value.error_type == "too_large"
    assert caught.value.message.startswith("the response passed ")
    assert "(max_response_bytes): stopped reading; what arrived before is kept" in caught.value.message


def test_the_deadline_message_names_what_it_waited_for():
    assert deadline_passed().message == (
        "the run passed its deadline while waiting for the response to end (param deadline; what arrived is kept)"
    )
    assert deadline_passed("the response headers").message.startswith(
        "the run passed its deadline while waiting for the response headers ("
    )
    assert deadline_passed().error_type == "timeout"
