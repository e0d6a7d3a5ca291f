"""The per-chunk JSON lines are written by a shortcut; they must stay byte-identical to
the protocol's general encoder (json.dumps' separators, non-ASCII kept as is)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from core.events import ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta, to_json_line, to_wire_dict


def _general(event: object) -> str:
    return json.dumps(to_wire_dict(event), ensure_ascii=False)  # type: ignore[arg-type]


# Any code point, lone surrogates included (a decoder may pass them on from `\ud800` escapes).
any_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF))


@given(any_text)
def test_delta_lines_are_the_general_encoders_bytes(text: str) -> None:
    for event in (TextDelta(text), ReasoningDelta(text), RefusalDelta(text)):
        assert to_json_line(event) == _general(event)


def test_delta_lines_read_back_as_the_protocol_objects() -> None:
    text = 'line "one"\n\ttab \\ ünïcødé 中文 \u2028 😀'
    assert json.loads(to_json_line(TextDelta(text, offset_ms=1.5))) == {"content": text, "done": False}
    assert json.loads(to_json_line(ReasoningDelta(text))) == {"reasoning": text, "done": False}
    assert json.loads(to_json_line(RefusalDelta(text))) == {"refusal": text, "done": False}


def test_other_events_keep_the_general_form() -> None:
    call = ToolCallDelta(0, "call_1", "get_weather", '{"city": "Paris"}')
    assert to_json_line(call) == _general(call)
