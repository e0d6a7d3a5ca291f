"""The editor's content as typed, kept in a JSON file so the next start resumes it.

Fields are stored as text, valid or not: a half-typed params box survives a
restart exactly as it was left.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger("llmwb")

DRAFT_FILE = "last_prompt.json"

DEFAULT_PROMPT = "In two sentences: what is time to first token, and why does it matter?"


@dataclass
class Draft:
    system: str = ""
    prompt: str = DEFAULT_PROMPT
    fields: dict[str, str] = field(default_factory=dict)
    extra_json: str = ""
    tools: list[str] = field(default_factory=list)
    tool_choice: str | None = None
    stream: bool = True


def load_draft(path: Path) -> Draft:
    """The saved draft, or the default one. A damaged file is logged and ignored, never fatal."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Draft()
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable draft %s: %s", path, error)
        return Draft()
    if not isinstance(data, dict):
        return Draft()
    defaults = Draft()
    return Draft(
        system=_text(data.get("system"), defaults.system),
        prompt=_text(data.get("prompt"), defaults.prompt),
        fields={k: v for k, v in (data.get("fields") or {}).items() if isinstance(v, str)},
        extra_json=_text(data.get("extra_json"), ""),
        tools=[name for name in data.get("tools") or [] if isinstance(name, str)],
        tool_choice=data.get("tool_choice") if isinstance(data.get("tool_choice"), str) else None,
        stream=bool(data.get("stream", True)),
    )


def save_draft(path: Path, draft: Draft) -> None:
    """Write atomically (temp file + rename) so a crash mid-write keeps the old draft."""
    temp = path.with_suffix(".tmp")
    try:
        temp.write_text(json.dumps(asdict(draft), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(temp, path)
    except OSError as error:
        log.warning("could not save the draft to %s: %s", path, error)


def _text(value: object, default: str) -> str:
    return value if isinstance(value, str) else default
