"""The provider-neutral request: messages, system, params, tools, stream.

Adapters translate this into each wire protocol; nothing here knows a provider.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant", "tool"]


@dataclass
class ToolCall:
    """A complete tool call the assistant made (arguments as the raw JSON text)."""

    id: str
    name: str
    arguments: str


@dataclass
class ThinkingBlock:
    """Reasoning a provider wants back verbatim on the next turn (Anthropic signs it)."""

    thinking: str = ""
    signature: str | None = None
    redacted_data: str | None = None  # redacted_thinking blocks: opaque, sent back as is


@dataclass
class Message:
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None  # role == "tool": which call this answers
    thinking: list[ThinkingBlock] = field(default_factory=list)


@dataclass
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass
class ChatRequest:
    messages: list[Message]
    system: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: str | None = None  # auto | none | required | <tool name>
    stream: bool = True

    @classmethod
    def from_prompt(cls, prompt: str, **kwargs: Any) -> "ChatRequest":
        return cls(messages=[Message(role="user", content=prompt)], **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ChatRequest":
        messages = [
            Message(
                role=m["role"],
                content=m.get("content", ""),
                tool_calls=[ToolCall(**c) for c in m.get("tool_calls", [])],
                tool_call_id=m.get("tool_call_id"),
                thinking=[ThinkingBlock(**t) for t in m.get("thinking", [])],
            )
            for m in data.get("messages", [])
        ]
        return cls(
            messages=messages,
            system=data.get("system", ""),
            params=dict(data.get("params", {})),
            tools=[ToolSpec(**t) for t in data.get("tools", [])],
            tool_choice=data.get("tool_choice"),
            stream=data.get("stream", True),
        )

    @property
    def last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""
