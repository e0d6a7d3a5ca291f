"""Ids shaped like the providers' own, and a status fault the simulator has no words for."""

from __future__ import annotations

import re

from core.simulator import SimulatorServer

from .conftest import plain_http_client
from .helpers import add, user


async def test_a_status_without_canned_words_says_its_number(server: SimulatorServer) -> None:
    add(server, name="teapot", text="x", fault={"http_status": 418})
    async with plain_http_client() as client:
        answer = await client.post(server.root_url + "/v1/chat/completions", json={"model": "teapot", "messages": user()})
    assert answer.status_code == 418
    assert answer.json()["error"]["message"] == "HTTP 418 (simulated)"


async def test_anthropic_message_and_request_ids_have_the_real_ones_length(server: SimulatorServer) -> None:
    add(server, name="claude-ish", api="anthropic", text="hi", timing={"first_token_ms": 0, "gap_ms": 0})
    async with plain_http_client() as client:
        answer = await client.post(server.root_url + "/v1/messages",
                                   json={"model": "claude-ish", "max_tokens": 5, "messages": user()})  # fmt: skip
    assert answer.status_code == 200
    # As Anthropic's: msg_01XFDUDYJgAACzvnptvVoYEL, req_011CSHoEeqs5C35K2UUqR7Fy (a prefix and 24 characters).
    assert re.fullmatch(r"msg_[0-9a-f]{24}", answer.json()["id"])
    assert re.fullmatch(r"req_[0-9a-f]{24}", answer.headers["request-id"])
