"""What the OpenAI decoder reads off a chunk's envelope (id, model, usage) and what it
says when a stream stops short."""

from __future__ import annotations

import orjson
import pytest

from core.providers.base import Frame, ProviderError
from core.providers.openai_chat import OpenAIChatDecoder


def data_frame(obj: dict) -> Frame:
    data = orjson.dumps(obj).decode()
    return Frame(at=0.0, raw="data: " + data, event=None, data=data)


def text_chunk(text: str, **envelope) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}}], **envelope}


def test_the_id_and_the_model_may_arrive_on_different_chunks():
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(data_frame(text_chunk("a", id="chatcmpl-9")))
    decoder.feed(data_frame(text_chunk("b", model="served-model")))
    decoder.feed(data_frame(text_chunk("c", id="other", model="other")))  # the first ones stand
    final = decoder.response.snapshot()
    assert (final["id"], final["model"], final["content"]) == ("chatcmpl-9", "served-model", "abc")


@pytest.mark.parametrize(("envelope", "said"), [({"id": 5}, "id is int"), ({"id": "x", "model": ["m"]}, "model is list")])
def test_an_id_or_model_of_the_wrong_type_is_a_malformed_chunk_naming_it(envelope, said):
    decoder = OpenAIChatDecoder(stream=True)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(data_frame(text_chunk("a", **envelope)))
    assert caught.value.error_type == "malformed_chunk"
    assert caught.value.message.startswith(f"malformed chunk ({said}, not a string): ")


def test_a_usage_without_prompt_tokens_counts_none_in():
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(data_frame(text_chunk("a", id="c", model="m")))
    decoder.feed(data_frame({"id": "c", "choices": [], "usage": {"completion_tokens": 3, "total_tokens": 3}}))
    usage = decoder.response.usage
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (0, 3, 3)


def test_a_stream_that_stops_short_says_what_is_missing():
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(data_frame(text_chunk("half an answ", id="c", model="m")))
    with pytest.raises(ProviderError) as caught:
        decoder.finish()
    assert (caught.value.error_type, caught.value.message) == (
        "stream_cut", "stream ended before [DONE] and before a finish_reason: the response is incomplete"
    )
