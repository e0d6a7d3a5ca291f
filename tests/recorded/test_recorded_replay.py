"""Real provider responses, recorded by public projects' test cassettes, replayed byte for
byte through a loopback server into llmwb's core — whole, and cut into reads that split
every frame (inside a multi-byte character where the frame has one); and cut at random bytes
into the frame reader the run uses.

What llmwb makes of each must be what the provider's official SDK makes of the same bytes
(`recorded_expected.py`); recordings llmwb cannot decode yet are strict xfails naming the
work they wait for (`xfail` in their .meta.json), so the day they pass is noticed.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx2
import pytest
from recorded_corpus import (
    HERE,
    Recording,
    cuts_inside_characters,
    frame_spans,
    has_multibyte,
    load_all,
    pieces,
    random_cuts,
)
from recorded_expected import Answer, expected_answer
from recorded_server import LoopbackReplay

from core.events import Failed, Finished, ReasoningDelta, TextDelta, WireFrame
from core.providers.ndjson import iter_ndjson
from core.providers.sse import iter_sse
from core.request import ChatRequest
from core.runner import RunOptions, run
from core.store import Store
from core.store.models import ModelConfig

# Some recordings name models the SDKs now call deprecated; that is history, not a fault.
pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")

RECORDINGS = load_all()
STREAMED = [r for r in RECORDINGS if r.stream]

# Where each protocol's SDK appends its path: base URLs are the loopback root plus this.
_BASE_PATH = {"openai": "/v1", "openai-responses": "/v1", "anthropic": "", "ollama-native": ""}
# The path each protocol posts to, as the recorded request did.
_ENDPOINT_TAIL = {
    "openai": "/chat/completions",
    "openai-responses": "/responses",
    "anthropic": "/v1/messages",
    "ollama-native": "/api/chat",
}


def _param(recording: Recording) -> pytest.param:
    marks = [pytest.mark.xfail(strict=True, reason=recording.xfail)] if recording.xfail else []
    return pytest.param(recording, id=recording.id, marks=marks)


def _config(recording: Recording, root_url: str) -> ModelConfig:
    provider = recording.kind
    if provider == "openai" and recording.provider != "openai":
        provider = "openai-compatible"
    return ModelConfig(
        name=f"recorded-{recording.provider}", provider=provider, model=recording.model,
        base_url=root_url + _BASE_PATH[recording.kind], api_key_env="RECORDED_REPLAY_KEY",
        params={"max_retries": 0},
    )  # fmt: skip


async def _llmwb_reads(recording: Recording, body_pieces: list[bytes]) -> tuple[Answer, list, LoopbackReplay]:
    async with LoopbackReplay(recording.status, recording.headers, body_pieces) as server:
        request = ChatRequest.from_prompt("replay", stream=recording.asked_to_stream)
        events = [event async for event in run(_config(recording, server.root_url), request, RunOptions())]
    return _answer_of(events[-1]), events, server


def _answer_of(last: Finished | Failed) -> Answer:
    """llmwb's final (or partial) response in the shape the SDK readers give."""
    if isinstance(last, Finished):
        response, metrics = last.final_response, last.metrics
    else:
        response, metrics = last.partial_response, last.metrics
    answer = Answer(
        content=response["content"],
        reasoning=response["reasoning"],
        tool_calls=[(c["id"], c["name"], c["arguments"]) for c in response["tool_calls"]],
        finish_reason=response["provider_finish_reason"],
        finish=response["finish_reason"],
    )
    if metrics.get("usage_source") == "provider":
        answer.prompt_tokens, answer.completion_tokens = metrics["prompt_tokens"], metrics["completion_tokens"]
    if isinstance(last, Failed):
        answer.failed, answer.error_status, answer.error_type = True, last.http_status, last.error_type
        answer.error_text = (last.error,)
    return answer


# How the official SDK reads a recording depends on nothing else: read once per worker,
# not once per way of cutting the stream (that re-ran the SDK four times per recording).
_SDK_ANSWERS: dict[str, Answer] = {}


async def _sdk_reads(recording: Recording) -> Answer:
    if recording.id not in _SDK_ANSWERS:
        async with LoopbackReplay(recording.status, recording.headers, [recording.body]) as server:
            _SDK_ANSWERS[recording.id] = await expected_answer(recording, server.root_url)
    return copy.deepcopy(_SDK_ANSWERS[recording.id])


def _assert_same(recording: Recording, got: Answer, want: Answer) -> None:
    assert got.failed == want.failed, f"llmwb failed={got.failed} ({got.error_text}), SDK failed={want.failed}"
    assert got.content == want.content
    if recording.kind == "openai-responses":  # summary parts may be joined with a separator
        assert got.reasoning.split() == want.reasoning.split()
    else:
        assert got.reasoning == want.reasoning
    assert got.tool_calls == [(call_id or None, name, args) for call_id, name, args in want.tool_calls]  # "" is no id
    if want.failed:
        [message] = got.error_text
        for fragment in want.error_text:
            assert fragment in message, f"{fragment!r} not in llmwb's error {message!r}"
        if want.error_status is not None:
            assert got.error_status == want.error_status
            assert got.error_type == want.error_type
        return
    if want.finish_reason is not None:
        assert got.finish_reason == want.finish_reason
    if want.finish is not None:
        assert got.finish == want.finish
    assert (got.prompt_tokens, got.completion_tokens) == (want.prompt_tokens, want.completion_tokens)


@pytest.mark.parametrize("recording", [_param(r) for r in RECORDINGS])
async def test_recorded_response_reads_as_the_official_sdk_reads_it(recording: Recording):
    want = await _sdk_reads(recording)
    got, events, server = await _llmwb_reads(recording, [recording.body])

    _assert_same(recording, got, want)
    [seen] = server.requests
    assert seen.method == "POST" and seen.path.split("?")[0].endswith(_ENDPOINT_TAIL[recording.kind])
    assert seen.headers.get("authorization") == "Bearer sk-replay" or seen.headers.get("x-api-key") == "sk-replay"
    # what the user saw arrive, delta by delta, adds up to the final (or partial) response
    assert "".join(e.content for e in events if isinstance(e, TextDelta)) == want.content
    assert "".join(e.reasoning for e in events if isinstance(e, ReasoningDelta)) == got.reasoning


def _param_for_frames(recording: Recording) -> pytest.param:
    """As _param, for a test of the frames alone: a recording waiting only for usage or for an
    error's wording already has its frames read right."""
    if recording.xfail and any(word in recording.xfail for word in ("usage", "metadata.raw")):
        return pytest.param(recording, id=recording.id)
    return _param(recording)


@pytest.mark.parametrize("recording", [_param(r) for r in STREAMED])
async def test_a_stream_cut_inside_its_characters_decodes_the_same(recording: Recording):
    """End to end, through the SDK's HTTP stack: every frame split across two reads, inside its
    first multi-byte character when it has one."""
    want = await _sdk_reads(recording)
    body_pieces = pieces(recording.body, cuts_inside_characters(recording))
    got, _, _ = await _llmwb_reads(recording, body_pieces)

    _assert_same(recording, got, want)


@pytest.mark.parametrize("cutting", ["random-bytes", "crlf-random-bytes"])
@pytest.mark.parametrize("recording", [_param_for_frames(r) for r in STREAMED])
async def test_a_stream_cut_at_random_bytes_gives_its_frames_each_when_it_ended(recording: Recording, cutting: str):
    """Reads ending anywhere (inside `data:`, between the two line ends of a blank line, between
    a CR and its LF) are the frame reader's concern, so they are tested there: the frames it
    makes of the cut body are the body's own frames, as it makes them of the body read whole,
    each stamped by the read that completed it. What lies between the socket and the reader
    (the SDK's HTTP stack, the deadline) hands each read on as it came: the end-to-end replays
    above cut every frame. Through HTTP these ~300,000 reads cost ~9 s of CPU a suite run,
    nearly all of it in h11 and httpx."""
    body = recording.body
    if cutting == "random-bytes":
        body_pieces = pieces(body, random_cuts(recording, seed="h10c"))
    else:
        # The same stream with CRLF line ends (servers behind some proxies send them), cut so
        # that many reads end between a CR and its LF. JSON strings cannot hold a raw newline,
        # so only line ends change.
        body = body.replace(b"\n", b"\r\n")
        body_pieces = pieces(body, random_cuts(replace(recording, body=body), seed="h10c-crlf", mean_gap=5))
    assert len(body_pieces) > 2 * len(frame_spans(recording))  # most frames are cut, many twice

    cut, stamps = await _frames_read(recording, body_pieces)

    separator = "\n" if recording.kind == "ollama-native" else "\n\n"
    assert separator.join(raw for _, _, raw in cut) == recording.body.decode("utf-8").rstrip("\n")
    assert cut == (await _frames_read(recording, [recording.body]))[0]
    assert stamps == _reads_that_complete_each_frame(body, body_pieces, ndjson=recording.kind == "ollama-native")


FrameFields = tuple[str | None, str, str]  # event, data, raw


async def _frames_read(recording: Recording, body_pieces: list[bytes]) -> tuple[list[FrameFields], list[int]]:
    """(event, data, raw) of each frame the run's frame reader makes of these reads, and the
    stamp of each: how many reads had arrived when it was yielded."""
    read_frames = iter_ndjson if recording.kind == "ollama-native" else iter_sse
    arrived = 0

    async def reads() -> AsyncIterator[bytes]:
        nonlocal arrived
        for piece in body_pieces:
            arrived += 1
            yield piece

    frames = [frame async for frame in read_frames(reads(), arrived=lambda: arrived)]
    return [(frame.event, frame.data, frame.raw) for frame in frames], [int(frame.at) for frame in frames]


def _reads_that_complete_each_frame(body: bytes, body_pieces: list[bytes], *, ndjson: bool) -> list[int]:
    """For each frame, the number of the read holding the byte that ends it: the LF of an
    NDJSON line; the second line end of an SSE blank line (a CR ends a line on its own, so of
    CR LF CR LF it is the second CR). A last frame without its end: the last read."""
    ends = list(itertools.accumulate(len(piece) for piece in body_pieces))
    crlf = b"\r\n" in body
    terminator, last_byte = (b"\n", 0) if ndjson else (b"\r\n\r\n", 2) if crlf else (b"\n\n", 1)
    numbers, start = [], 0
    while (found := body.find(terminator, start)) != -1:
        if body[start:found].strip():
            numbers.append(bisect.bisect_right(ends, found + last_byte) + 1)
        start = found + len(terminator)
    if body[start:].strip():
        numbers.append(len(body_pieces))
    return numbers


@pytest.mark.parametrize("recording", [_param_for_frames(r) for r in STREAMED])
async def test_the_wire_view_and_history_keep_every_frame_of_a_recorded_stream(recording: Recording):
    """What the wire view shows live, and what history keeps, is the stream as it came —
    every frame, those after an error frame included (the run ends at the error; the
    frames after it are kept on the wire, not decoded)."""
    store = Store()
    async with LoopbackReplay(recording.status, recording.headers, [recording.body]) as server:
        request = ChatRequest.from_prompt("replay", stream=True)
        config = _config(recording, server.root_url)
        events = [event async for event in run(config, request, RunOptions(store=store))]
    separator = "\n" if recording.kind == "ollama-native" else "\n\n"
    body = recording.body.decode("utf-8").rstrip("\n")

    live = separator.join(e.data for e in events if isinstance(e, WireFrame))
    kept = separator.join(f.data for f in store.get_frames(events[-1].run_id))
    assert kept == live == body


async def test_the_replay_server_delivers_each_piece_as_its_own_read():
    """The split replays test something only if the cut pieces reach the client as separate
    reads: checked with the HTTP stack the SDKs use, on a recording full of multi-byte text."""
    recording = next(r for r in STREAMED if r.id == "hf-router/think_tags_stream_together")
    cut_pieces = pieces(recording.body, cuts_inside_characters(recording))
    async with LoopbackReplay(recording.status, recording.headers, cut_pieces) as server:
        async with httpx2.AsyncClient() as client:
            async with client.stream("POST", server.root_url + "/chat/completions", json={}) as response:
                reads = [chunk async for chunk in response.aiter_raw()]
    assert b"".join(reads) == recording.body
    # a piece may arrive in more than one read, never two pieces in one
    assert set(_boundaries(cut_pieces)) <= set(_boundaries(reads))
    assert sum(_ends_inside_a_character(read) for read in reads) >= 10


def _boundaries(chunks: list[bytes]) -> list[int]:
    ends, total = [], 0
    for chunk in chunks:
        total += len(chunk)
        ends.append(total)
    return ends


def _ends_inside_a_character(read: bytes) -> bool:
    try:
        read.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.reason == "unexpected end of data"
    return False


def test_the_corpus_covers_ten_providers_errors_and_streams_with_sources():
    providers = {r.provider for r in RECORDINGS}
    assert len(RECORDINGS) >= 40 and len(providers) >= 10
    assert sum(r.status >= 400 for r in RECORDINGS) >= 4
    assert len(STREAMED) >= 15 and sum(has_multibyte(r) for r in STREAMED) >= 5
    readme = (HERE / "README.md").read_text()
    for recording in RECORDINGS:
        assert {"repo", "path", "commit", "licence"} <= recording.source.keys(), recording.id
        assert f"`{recording.id}." in readme, f"{recording.id} is not listed in README.md"


def test_every_recording_body_is_what_its_meta_says():
    for recording in RECORDINGS:
        content_type = recording.headers["content-type"]
        if recording.stream:
            assert "event-stream" in content_type or "ndjson" in content_type, recording.id
        else:
            json.loads(recording.body)  # a whole JSON body
