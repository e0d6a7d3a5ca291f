"""OpenAI Responses API shapes (`POST /v1/responses`): the semantic SSE event sequence,
the whole response object, and how a Responses request reads as a plan's input.

Output items in order: a `reasoning` item whose summary streams as
`response.reasoning_summary_text.delta`, a `message` whose text streams as
`response.output_text.delta`, then one `function_call` item per tool call with its
arguments as `response.function_call_arguments.delta`. Every event carries its
`type` and a `sequence_number`; there is no `[DONE]`: the stream ends with
`response.completed` (or `response.incomplete` when the plan ends on length or a
content filter).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from core.simulator.script import REASONING, TEXT, TOOL_ARGS, TOOL_START, Plan, ResolvedUsage
from core.simulator.wire import CONTENT, CONTENT_END, META, Frame, new_id

# Plan finish reasons that end a Responses stream as incomplete, with the reason given.
INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


def planning_view(body: Mapping[str, Any]) -> dict[str, Any]:
    """The request as chat-style `messages` and `system`, which the plan builder reads:
    `input` (a string or items) and `instructions`."""
    given = body.get("input")
    messages: list[dict[str, Any]] = []
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
    elif isinstance(given, list):
        for item in given:
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == "function_call_output":
                messages.append({"role": "tool", "content": item.get("output")})
            elif item.get("type") == "function_call":
                messages.append({"role": "assistant", "content": item.get("arguments")})
            elif "role" in item:
                messages.append({"role": item.get("role"), "content": item.get("content")})
    return {"messages": messages, "system": body.get("instructions"), "model": body.get("model")}


def usage_object(usage: ResolvedUsage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


class ResponsesWire:
    protocol = "responses"

    def __init__(self, plan: Plan, model: str, *, request_id: str, body: Mapping[str, Any]) -> None:
        self.plan = plan
        self.model = model
        self.request_id = request_id
        self.response_id = new_id("resp_", 32)
        self.created_at = int(time.time())
        self._instructions = body.get("instructions") if isinstance(body.get("instructions"), str) else None
        self._tools = body.get("tools") if isinstance(body.get("tools"), list) else []
        self._sequence = 0
        self._ids = {"reasoning": new_id("rs_", 32), "message": new_id("msg_", 32)}
        self._call_item_ids = [new_id("fc_", 32) for _ in plan.tool_calls]
        self._open_text_item = ""  # item id of the message being streamed, for the malformed frame

    def response_headers(self) -> dict[str, str]:
        return {"x-request-id": self.request_id, "openai-processing-ms": "1"}

    # --- the response object -----------------------------------------------------

    def _status(self) -> tuple[str, dict[str, Any] | None]:
        reason = INCOMPLETE_REASONS.get(self.plan.finish_reason)
        return ("incomplete", {"reason": reason}) if reason else ("completed", None)

    def response_object(self, status: str, output: list[dict[str, Any]], *, final: bool) -> dict[str, Any]:
        incomplete = self._status()[1] if status == "incomplete" else None
        return {
            "id": self.response_id, "object": "response", "created_at": self.created_at, "status": status,
            "background": False, "error": None, "incomplete_details": incomplete,
            "instructions": self._instructions, "max_output_tokens": None, "model": self.model,
            "output": output, "parallel_tool_calls": True, "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None}, "store": False, "temperature": 1.0,
            "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": self._tools, "top_p": 1.0,
            "truncation": "disabled", "usage": usage_object(self.plan.usage) if final else None,
            "user": None, "metadata": {},
        }  # fmt: skip

    def _items(self) -> list[dict[str, Any]]:
        """The finished output items, as `response.completed` and the whole body list them."""
        plan = self.plan
        items: list[dict[str, Any]] = []
        if plan.reasoning:
            items.append(self._reasoning_item(plan.reasoning))
        if plan.text:
            items.append(self._message_item(plan.text, "completed"))
        for index, call in enumerate(plan.tool_calls):
            items.append(self._call_item(index, call.arguments, "completed"))
        return items

    def _reasoning_item(self, summary: str | None) -> dict[str, Any]:
        parts = [{"type": "summary_text", "text": summary}] if summary else []
        return {"id": self._ids["reasoning"], "type": "reasoning", "summary": parts}

    def _text_part(self, text: str) -> dict[str, Any]:
        """The message's content part: the answer, or the model declining."""
        if self.plan.refusal:
            return {"type": "refusal", "refusal": text}
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}

    def _message_item(self, text: str | None, status: str) -> dict[str, Any]:
        content = [] if text is None else [self._text_part(text)]
        return {"id": self._ids["message"], "type": "message", "status": status, "role": "assistant", "content": content}

    def _call_item(self, index: int, arguments: str, status: str) -> dict[str, Any]:
        call = self.plan.tool_calls[index]
        return {
            "id": self._call_item_ids[index], "type": "function_call", "status": status,
            "arguments": arguments, "call_id": call.id, "name": call.name,
        }  # fmt: skip

    # --- the stream ----------------------------------------------------------------

    def _event(self, kind: str, fields: dict[str, Any]) -> bytes:
        payload = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"

    def stream_frames(self) -> Iterator[Frame]:
        plan = self.plan
        yield self._event("response.created", {"response": self.response_object("in_progress", [], final=False)}), META
        yield self._event("response.in_progress", {"response": self.response_object("in_progress", [], final=False)}), META
        output_index = -1
        open_kind = -1
        open_tool = -1
        for step in plan.steps:
            kind = step.kind
            same_item = kind == open_kind if kind in (REASONING, TEXT) else (
                kind == TOOL_ARGS and open_kind == TOOL_START and open_tool == step.tool_index
            )
            if not same_item:
                yield from self._close(open_kind, output_index, open_tool)
                output_index += 1
                open_kind, open_tool = (TOOL_START, step.tool_index) if kind in (TOOL_START, TOOL_ARGS) else (kind, -1)
                opened = self._open(kind, output_index, step.tool_index)
                if kind == TOOL_START:  # the call's name is content, like the chat protocol's first tool delta
                    yield opened, CONTENT
                    continue
                yield opened, META
                yield from self._open_part(kind, output_index)
            if kind == TEXT and plan.refusal:
                fields = {"item_id": self._ids["message"], "output_index": output_index, "content_index": 0}
                yield self._event("response.refusal.delta", {**fields, "delta": step.text}), CONTENT
            elif kind == TEXT:
                fields = {"item_id": self._ids["message"], "output_index": output_index, "content_index": 0}
                yield self._event("response.output_text.delta", {**fields, "delta": step.text, "logprobs": []}), CONTENT
            elif kind == REASONING:
                fields = {"item_id": self._ids["reasoning"], "output_index": output_index, "summary_index": 0}
                yield self._event("response.reasoning_summary_text.delta", {**fields, "delta": step.text}), CONTENT
            elif kind == TOOL_ARGS:
                fields = {"item_id": self._call_item_ids[step.tool_index], "output_index": output_index}
                yield self._event("response.function_call_arguments.delta", {**fields, "delta": step.text}), CONTENT
        yield b"", CONTENT_END
        yield from self._close(open_kind, output_index, open_tool)
        status, _ = self._status()
        terminal = "response.completed" if status == "completed" else "response.incomplete"
        yield self._event(terminal, {"response": self.response_object(status, self._items(), final=True)}), META

    def _open(self, kind: int, output_index: int, tool_index: int) -> bytes:
        if kind == REASONING:
            item = self._reasoning_item(None)
        elif kind == TEXT:
            item = self._message_item(None, "in_progress")
            self._open_text_item = self._ids["message"]
        else:
            item = self._call_item(tool_index, "", "in_progress")
        return self._event("response.output_item.added", {"output_index": output_index, "item": item})

    def _open_part(self, kind: int, output_index: int) -> Iterator[Frame]:
        if kind == REASONING:
            fields = {"item_id": self._ids["reasoning"], "output_index": output_index, "summary_index": 0}
            yield self._event("response.reasoning_summary_part.added", {**fields, "part": {"type": "summary_text", "text": ""}}), META
        elif kind == TEXT:
            fields = {"item_id": self._ids["message"], "output_index": output_index, "content_index": 0}
            yield self._event("response.content_part.added", {**fields, "part": self._text_part("")}), META

    def _close(self, kind: int, output_index: int, tool_index: int) -> Iterator[Frame]:
        plan = self.plan
        if kind == REASONING:
            fields = {"item_id": self._ids["reasoning"], "output_index": output_index, "summary_index": 0}
            yield self._event("response.reasoning_summary_text.done", {**fields, "text": plan.reasoning}), META
            part = {"type": "summary_text", "text": plan.reasoning}
            yield self._event("response.reasoning_summary_part.done", {**fields, "part": part}), META
            item = self._reasoning_item(plan.reasoning)
        elif kind == TEXT:
            fields = {"item_id": self._ids["message"], "output_index": output_index, "content_index": 0}
            if plan.refusal:
                yield self._event("response.refusal.done", {**fields, "refusal": plan.text}), META
            else:
                yield self._event("response.output_text.done", {**fields, "text": plan.text, "logprobs": []}), META
            yield self._event("response.content_part.done", {**fields, "part": self._text_part(plan.text)}), META
            item = self._message_item(plan.text, "completed")
        elif kind == TOOL_START:
            arguments = plan.tool_calls[tool_index].arguments
            fields = {"item_id": self._call_item_ids[tool_index], "output_index": output_index}
            yield self._event("response.function_call_arguments.done", {**fields, "arguments": arguments}), META
            item = self._call_item(tool_index, arguments, "completed")
        else:
            return
        yield self._event("response.output_item.done", {"output_index": output_index, "item": item}), META

    def malformed_frame(self) -> bytes:
        # An event cut off mid-string: the SSE framing is fine, the JSON is not.
        return (
            b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"'
            + self._open_text_item.encode()
            + b'","output_index":0,"content_index":0,"delta":"this event was cut sho\n\n'
        )

    def error_frame(self, message: str) -> bytes:
        # How the Responses API reports a failure after the stream began: the response, failed.
        failed = self.response_object("failed", [], final=False)
        failed["error"] = {"code": "server_error", "message": message}
        return self._event("response.failed", {"response": failed})

    def nonstream_body(self) -> bytes:
        status, _ = self._status()
        return orjson.dumps(self.response_object(status, self._items(), final=True))
