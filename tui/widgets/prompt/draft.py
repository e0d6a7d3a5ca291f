"""The editor's content as typed, kept in a JSON file so the next start resumes it.

Fields are stored as text, valid or not: a half-typed params box survives a
restart exactly as it was left.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.paths import write_private
from core.validation import text_problem

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
    # Why the saved file was (partly) ignored, for the editor to say once; never saved.
    notice: str | None = field(default=None, compare=False)


def load_draft(path: Path) -> Draft:
    """The saved draft, or the default one. A damaged file, or parts of the wrong shape,
    are ignored (logged, and named in `notice`), never fatal."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return Draft()
    except (OSError, ValueError, RecursionError) as error:
        log.warning("ignoring unreadable draft %s: %s", path, error)
        return Draft(notice=f"{path.name} could not be read, so the last prompt was not restored")
    if not isinstance(data, dict):
        log.warning("ignoring draft %s: not a JSON object", path)
        return Draft(notice=f"{path.name} has the wrong shape, so the last prompt was not restored")
    defaults = Draft()
    fields = data.get("fields")
    tools = data.get("tools")
    draft = Draft(
        system=_text(data.get("system"), defaults.system),
        prompt=_text(data.get("prompt"), defaults.prompt),
        fields={k: v for k, v in fields.items() if _is_text(v)} if isinstance(fields, dict) else {},
        extra_json=_text(data.get("extra_json"), ""),
        tools=[name for name in tools if _is_text(name)] if isinstance(tools, list) else [],
        tool_choice=data.get("tool_choice") if _is_text(data.get("tool_choice")) else None,
        stream=data.get("stream") if isinstance(data.get("stream"), bool) else True,
    )
    if _shape_problems(data):
        log.warning("draft %s: ignored %s", path, ", ".join(_shape_problems(data)))
        draft.notice = f"parts of {path.name} had the wrong shape and were ignored ({', '.join(_shape_problems(data))})"
    return draft


def save_draft(path: Path, draft: Draft) -> None:
    """Write atomically (temp file + rename, 0600) so a crash mid-write keeps the old draft."""
    data = asdict(draft)
    data.pop("notice")
    try:
        write_private(path, json.dumps(data, ensure_ascii=False, indent=2))
    except (OSError, ValueError) as error:
        log.warning("could not save the draft to %s: %s", path, error)


_SHAPES: dict[str, tuple[type, ...]] = {
    "system": (str,), "prompt": (str,), "fields": (dict,), "extra_json": (str,),
    "tools": (list,), "tool_choice": (str, type(None)), "stream": (bool,),
}  # fmt: skip


def _shape_problems(data: dict[str, Any]) -> list[str]:
    return [key for key, kinds in _SHAPES.items() if key in data and not isinstance(data[key], kinds)]


def _is_text(value: object) -> bool:
    return isinstance(value, str) and text_problem(value) is None


def _text(value: object, default: str) -> str:
    return value if _is_text(value) else default
