"""The recorded real responses in this directory, and the ways their bytes are cut for replay.

A recording is `<provider>/<name>.<sse|json|ndjson>` (the body as the provider sent it) beside
`<provider>/<name>.meta.json` (status, headers, the request, where it came from); README.md lists
them with their sources and licences.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Recording:
    provider: str  # the directory: who served it (groq, azure, hf-router …)
    name: str
    kind: str  # the llmwb provider kind that speaks it
    stream: bool  # the body is a stream (SSE or NDJSON)
    body: bytes
    status: int
    headers: dict[str, str]
    request_path: str
    request_body: Any
    xfail: str | None = None  # why llmwb cannot decode it yet, naming whose work it waits for
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.provider}/{self.name}"

    @property
    def model(self) -> str:
        body = self.request_body if isinstance(self.request_body, dict) else {}
        return str(body.get("model") or "recorded-model")

    @property
    def asked_to_stream(self) -> bool:
        """Whether the recorded request asked for a stream (an error answer is JSON either way)."""
        body = self.request_body if isinstance(self.request_body, dict) else {}
        if "stream" in body:
            return bool(body["stream"])
        if self.kind == "ollama-native":  # Ollama streams unless told not to
            return True
        return self.stream


def load_all() -> list[Recording]:
    recordings = []
    for meta_path in sorted(HERE.glob("*/*.meta.json")):
        meta = json.loads(meta_path.read_text())
        recordings.append(
            Recording(
                provider=meta["provider"],
                name=meta_path.name.removesuffix(".meta.json"),
                kind=meta["kind"],
                stream=meta["stream"],
                body=(meta_path.parent / meta["body_file"]).read_bytes(),
                status=meta["response"]["status"],
                headers=meta["response"]["headers"],
                request_path=meta["request"]["path"],
                request_body=meta["request"]["body"],
                xfail=meta.get("xfail"),
                source=meta["source"],
            )
        )
    return recordings


# --- cutting a body into the pieces the server writes -------------------------------


def frame_spans(recording: Recording) -> list[tuple[int, int]]:
    """(start, end) of every frame in the body: SSE blocks end at a blank line, NDJSON lines
    at a newline; a whole JSON body is one frame."""
    body = recording.body
    if not recording.stream:
        return [(0, len(body))]
    separator = b"\n" if recording.kind == "ollama-native" else b"\n\n"
    spans, start = [], 0
    while start < len(body):
        end = body.find(separator, start)
        end = len(body) if end < 0 else end + len(separator)
        spans.append((start, end))
        start = end
    return spans


def _inside_a_character(body: bytes, start: int, end: int) -> int | None:
    """A cut position that falls between the bytes of the first multi-byte UTF-8 character
    in body[start:end], or None when that span is all ASCII."""
    for position in range(start, end):
        if body[position] >= 0xC0:  # the lead byte of a multi-byte character
            return position + 1
    return None


def cuts_inside_characters(recording: Recording) -> list[int]:
    """One cut in every frame: inside its first multi-byte character when it has one,
    otherwise half-way through it."""
    cuts = []
    for start, end in frame_spans(recording):
        cut = _inside_a_character(recording.body, start, end)
        if cut is None and end - start > 1:
            cut = (start + end) // 2
        if cut is not None:
            cuts.append(cut)
    return cuts


def random_cuts(recording: Recording, *, seed: str, mean_gap: int = 7) -> list[int]:
    """Cuts at random byte boundaries, about one every `mean_gap` bytes, the same every run."""
    rng = random.Random(f"{seed}:{recording.id}")
    cuts, position = [], 0
    while True:
        position += rng.randint(1, 2 * mean_gap)
        if position >= len(recording.body):
            return cuts
        cuts.append(position)


def pieces(body: bytes, cuts: list[int]) -> list[bytes]:
    edges = [0, *sorted(set(c for c in cuts if 0 < c < len(body))), len(body)]
    return [body[a:b] for a, b in zip(edges, edges[1:])]


def has_multibyte(recording: Recording) -> bool:
    return any(byte >= 0x80 for byte in recording.body)
