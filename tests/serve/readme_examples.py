"""The README's `llmwb serve` examples, read from the README itself so the tests send
exactly what a reader would copy."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION_TITLE = "## The debug API and page: `llmwb serve`"
README_BASE_URL = "http://127.0.0.1:8000"


def serve_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION_TITLE)
    end = text.index("\n## ", start + len(SECTION_TITLE))
    return text[start:end]


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", serve_section(), flags=re.S)


def curl_commands() -> list[list[str]]:
    """Every curl command of the section's shell blocks, split as a shell would (comments dropped)."""
    commands = []
    for block in code_blocks("sh"):
        for command in block.replace("\\\n", " ").splitlines():
            words = shlex.split(command, comments=True)
            if words and words[0] == "curl":
                commands.append(words)
    return commands


def chat_bodies() -> list[dict[str, Any]]:
    """The JSON bodies the README's curl examples POST to /api/debug/chat."""
    bodies = []
    for words in curl_commands():
        if "-d" in words:
            assert any(w.endswith("/api/debug/chat") for w in words), words
            bodies.append(json.loads(words[words.index("-d") + 1]))
    return bodies


def get_paths() -> list[str]:
    """The paths the README's GET examples ask for, RUN_ID left for the caller to fill in."""
    paths = []
    for words in curl_commands():
        if "-d" not in words:
            url = next(w for w in words if w.startswith(README_BASE_URL))
            paths.append(url[len(README_BASE_URL):])
    return paths


def python_client() -> str:
    (script,) = code_blocks("python")
    return script
