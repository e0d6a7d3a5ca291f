"""Real llama-server responses (recorded here, see README.md beside this file) replayed
byte for byte from a loopback server — whole, and cut into 5-byte reads that split
multi-byte characters. The expected values come from the official SDKs reading the
same bytes; the server's own `timings` from the recorded JSON itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from core.events import Failed, Finished
from core.request import ChatRequest
from core.runner import RunOptions, run
from core.store.models import ModelConfig

HERE = Path(__file__).parent
CASES = sorted(path.stem for path in HERE.glob("*.json"))
SPLITS = [None, 5]  # the body in one write, or in 5-byte writes


def recording(name: str) -> tuple[dict[str, Any], bytes]:
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8")), (HERE / f"{name}.body").read_bytes()


class Replay:
    """Answers every request with one recording: its status, content type, and body bytes."""

    def __init__(self, meta: dict[str, Any], body: bytes, split: int | None) -> None:
        self.meta, self.body, self.split = meta, body, split
        self.root_url = ""
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            writer.write(
                f"HTTP/1.1 {self.meta['status']} X\r\ncontent-type: {self.meta['content_type']}\r\n"
                "connection: close\r\n\r\n".encode()
            )
            step = self.split or len(self.body) or 1
            for start in range(0, len(self.body), step):
                writer.write(self.body[start : start + step])
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> Replay:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.root_url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture(params=[(name, split) for name in CASES for split in SPLITS], ids=lambda p: f"{p[0]}-{p[1] or 'whole'}")
async def replay(request: pytest.FixtureRequest) -> AsyncIterator[Replay]:
    name, split = request.param
    meta, body = recording(name)
    async with Replay(meta, body, split) as server:
        yield server


def _anthropic(meta: dict[str, Any]) -> bool:
    return meta["path"] == "/v1/messages"


async def llmwb_outcome(replay: Replay) -> Finished | Failed:
    meta = replay.meta
    stream = bool(meta["request"].get("stream"))
    if _anthropic(meta):
        config = ModelConfig(name="r", provider="anthropic", model="gemma3-270m", base_url=replay.root_url, params={"max_retries": 0})
    else:
        config = ModelConfig(name="r", provider="llamacpp", model="gemma3-270m", base_url=replay.root_url + "/v1", params={"max_retries": 0})
    events = [e async for e in run(config, ChatRequest.from_prompt("replayed", stream=stream), RunOptions(wire_frames=False))]
    return events[-1]


async def sdk_expected(replay: Replay) -> dict[str, Any]:
    """What the official SDK makes of the same bytes: text, output tokens, finish reason, or the error."""
    meta = replay.meta
    request = meta["request"]
    http = httpx2.AsyncClient(trust_env=False, verify=False)  # plain http on loopback: no trust store to load
    try:
        if _anthropic(meta):
            client = anthropic.AsyncAnthropic(base_url=replay.root_url, api_key="x", max_retries=0, http_client=http)
            args = {k: request[k] for k in ("model", "max_tokens", "messages")}
            if request.get("stream"):
                async with client.messages.stream(**args) as events:
                    message = await events.get_final_message()
            else:
                message = await client.messages.create(**args)
            text = "".join(block.text for block in message.content if block.type == "text")
            return {"text": text, "output_tokens": message.usage.output_tokens, "finish": message.stop_reason}
        client = openai.AsyncOpenAI(base_url=replay.root_url + "/v1", api_key="x", max_retries=0, http_client=http)
        args = {"model": request["model"], "messages": request["messages"]}
        try:
            if request.get("stream"):
                text, usage, finish = "", None, None
                async for chunk in await client.chat.completions.create(**args, stream=True):
                    usage = chunk.usage or usage
                    for choice in chunk.choices:
                        text += choice.delta.content or ""
                        finish = choice.finish_reason or finish
                return {"text": text, "output_tokens": usage.completion_tokens if usage else None, "finish": finish}
            completion = await client.chat.completions.create(**args)
            choice = completion.choices[0]
            return {"text": choice.message.content or "", "output_tokens": completion.usage.completion_tokens, "finish": choice.finish_reason}
        except openai.APIStatusError as error:
            return {"error_status": error.status_code, "error_message": error.body.get("message") if isinstance(error.body, dict) else None}
    finally:
        await http.aclose()


def recorded_timings(body: bytes) -> dict[str, Any] | None:
    """The `timings` object as the server wrote it (last one in the body)."""
    found = None
    for line in body.decode("utf-8").splitlines():
        payload = line[6:] if line.startswith("data: ") else line
        if '"timings"' in payload:
            found = json.loads(payload)["timings"]
    return found


async def test_replayed_llamacpp_response_decodes_like_the_sdk(replay: Replay) -> None:
    outcome = await llmwb_outcome(replay)
    expected = await sdk_expected(replay)
    if "error_status" in expected:
        assert isinstance(outcome, Failed)
        assert outcome.http_status == expected["error_status"]
        assert expected["error_message"] and expected["error_message"] in outcome.error
        return
    assert isinstance(outcome, Finished), outcome
    response, metrics = outcome.final_response, outcome.metrics
    assert response["content"] == expected["text"] and expected["text"]
    assert metrics["completion_tokens"] == expected["output_tokens"] and metrics["usage_source"] == "provider"
    assert response["provider_finish_reason"] == expected["finish"]
    timings = recorded_timings(replay.body)
    if timings is None:
        assert "server_timings" not in response  # the Messages endpoint sends none: llmwb invents none
    else:
        said = response["server_timings"]
        assert said["source"] == "llama.cpp"
        assert (said["decode_tokens"], said["prompt_tokens"]) == (timings["predicted_n"], timings["prompt_n"])
        assert said["decode_tps"] == round(timings["predicted_per_second"], 2)
        assert said["decode_tokens"] == metrics["completion_tokens"]
