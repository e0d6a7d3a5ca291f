"""llmwb against a real llama.cpp `llama-server`: its OpenAI- and Anthropic-compatible
endpoints, streamed and not. What llmwb measures where the bytes arrive must agree with
what the server measured of itself: the same token counts, decode tok/s within 5 %."""

from __future__ import annotations

from typing import Any

import pytest

from core.events import Failed, Finished
from core.request import ChatRequest
from core.runner import RunOptions, run
from core.store.models import ModelConfig
from llama_engine import LlamaServer

# Starting llama-server (model load) is part of the first test's setup: allow for it.
pytestmark = [pytest.mark.engine, pytest.mark.timeout(900)]

TOLERANCE = 0.05
DECODE_TOKENS = 160  # long enough that a few ms at either end of the window stay under 1 %
PROMPT = "Count from 1 to 300, separated by commas, and nothing else."


async def final_of(config: ModelConfig, request: ChatRequest) -> Finished:
    events = [event async for event in run(config, request, RunOptions(wire_frames=False))]
    last = events[-1]
    assert isinstance(last, Finished), last.error if isinstance(last, Failed) else last
    return last


def openai_config(server: LlamaServer, **params: Any) -> ModelConfig:
    return ModelConfig(
        name="llama-openai", provider="llamacpp", model="gemma3-270m", base_url=server.root_url + "/v1",
        params={"max_retries": 0, "temperature": 0, **params},
    )  # fmt: skip


def anthropic_config(server: LlamaServer, **params: Any) -> ModelConfig:
    return ModelConfig(
        name="llama-anthropic", provider="anthropic", model="gemma3-270m", base_url=server.root_url,
        params={"max_retries": 0, "temperature": 0, **params},
    )  # fmt: skip


def agree(ours: float, theirs: float) -> bool:
    return abs(ours - theirs) <= TOLERANCE * theirs


async def test_openai_stream_decode_rate_and_tokens_match_the_servers_timings(llama_server: LlamaServer) -> None:
    config = openai_config(llama_server, max_tokens=DECODE_TOKENS, ignore_eos=True)
    final = await final_of(config, ChatRequest.from_prompt(PROMPT))
    metrics, timings = final.metrics, final.final_response["server_timings"]
    assert timings["source"] == "llama.cpp"
    assert metrics["usage_source"] == "provider"
    assert metrics["completion_tokens"] == timings["decode_tokens"] == DECODE_TOKENS
    assert metrics["prompt_tokens"] >= timings["prompt_tokens"]  # the server's count leaves out its cache hits
    assert agree(metrics["decode_tps"], timings["decode_tps"]), (metrics["decode_tps"], timings["decode_tps"])


async def test_openai_non_stream_counts_match_and_the_wall_clock_holds_the_servers_time(llama_server: LlamaServer) -> None:
    config = openai_config(llama_server, max_tokens=64, ignore_eos=True)
    final = await final_of(config, ChatRequest.from_prompt(PROMPT, stream=False))
    metrics, timings = final.metrics, final.final_response["server_timings"]
    assert metrics["completion_tokens"] == timings["decode_tokens"] == 64
    assert metrics["total_ms"] >= timings["prompt_ms"] + timings["decode_ms"]  # the server's work is inside the call


async def test_anthropic_stream_matches_the_servers_own_log(llama_server: LlamaServer) -> None:
    # /v1/messages carries no `timings`: the server's per-request log lines say what it measured.
    offset = len(llama_server.log_text())
    final = await final_of(anthropic_config(llama_server, max_tokens=DECODE_TOKENS), ChatRequest.from_prompt(PROMPT))
    said = llama_server.eval_lines_after(offset)["eval"]
    metrics = final.metrics
    assert metrics["usage_source"] == "provider" and metrics["completion_tokens"] == said["tokens"]
    assert said["tokens"] >= 32, "too short an answer to compare rates"
    assert agree(metrics["decode_tps"], said["tps"]), (metrics["decode_tps"], said["tps"])


async def test_anthropic_non_stream_counts_match_the_servers_own_log(llama_server: LlamaServer) -> None:
    offset = len(llama_server.log_text())
    request = ChatRequest.from_prompt(PROMPT, stream=False)
    final = await final_of(anthropic_config(llama_server, max_tokens=48), request)
    said = llama_server.eval_lines_after(offset)
    assert final.metrics["completion_tokens"] == said["eval"]["tokens"]
    assert final.metrics["total_ms"] >= said["eval"]["ms"] + said["prompt eval"]["ms"]
    assert final.final_response["content"]
