"""The turns before this one, for a run that continues a tool-call conversation.

A turn-2 run's request carries the whole conversation: the prompt, turn 1's answer
and tool calls, the results sent back. Drawn from it (not from other saved runs),
so a live next turn and the same run reopened from history read alike: turn 1,
its tool results, then this turn's answer below, instead of turn 2 replacing turn 1.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content

RESULT_PREVIEW = 400  # a tool result can be a whole document: its head is enough here


def earlier_turns(request: dict[str, Any]) -> Content | None:
    """The conversation before this run's answer, or None for a run that is its first turn."""
    messages = [m for m in request.get("messages") or [] if isinstance(m, dict)]
    if not any(m.get("role") == "assistant" for m in messages):
        return None
    lines: list[Content] = []
    turn = 1
    calls_by_id: dict[str, str] = {}
    for message in messages:
        role = message.get("role")
        text = _text(message.get("content"))
        if role == "user" and text:
            lines.append(Content.styled("You", "bold $accent"))
            lines.append(Content(text))
        elif role == "assistant":
            lines.append(Content.styled(f"Turn {turn} · assistant", "bold $accent"))
            if text:
                lines.append(Content(text))
            for call in message.get("tool_calls") or []:
                calls_by_id[str(call.get("id"))] = str(call.get("name"))
                lines.append(Content.assemble(
                    ("→ tool call ", "$text-muted"), (str(call.get("name")), "bold"),
                    (f"  {call.get('id')}", "$text-muted"),
                ))  # fmt: skip
                lines.append(Content.styled("  " + str(call.get("arguments") or ""), "$text-muted"))
            turn += 1
        elif role == "tool":
            name = calls_by_id.get(str(message.get("tool_call_id")), "tool")
            preview = text if len(text) <= RESULT_PREVIEW else text[: RESULT_PREVIEW - 1] + "…"
            lines.append(Content.assemble(("← result of ", "$text-muted"), (name, "bold"),
                                          (f"  {message.get('tool_call_id')}", "$text-muted")))  # fmt: skip
            lines.append(Content.styled("  " + preview, "$text-muted"))
    lines.append(Content.styled(f"Turn {turn} · assistant (this run)", "bold $accent"))
    return Content("\n").join(lines)


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")
